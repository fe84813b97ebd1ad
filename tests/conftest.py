"""Suite-wide settings and fixtures, the session's one anvil among them."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import torch
from web3 import Web3

from daofed.chain import AnvilNode
from daofed.errors import ConfigError
from tests.anvil import lasting, reverted
from tests.audit.governed import Governed, build_governed

# pytest-xdist starts its workers with COLUMNS=80, and rich fixes a console's width to
# COLUMNS when the console is made (daofed's, at import): CLI tests set it per invocation.
os.environ.pop("COLUMNS", None)


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread() -> None:
    """Train on one thread, as the CLI does: ~10x faster for the digits MLP here."""
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def anvil() -> Iterator[AnvilNode]:
    """The one anvil of the session (``node_modules/.bin``, from ``npm ci``), on a free port.

    A missing anvil fails the tests with the command to run: they never skip. Session
    fixtures deploy on it for good; any other test or module that moves its clock does it in
    a snapshot (`own_anvil`, `anvil_snapshot`), see ``tests/anvil.py``.
    """
    try:
        node = AnvilNode.start()
    except ConfigError as error:
        pytest.fail(f"{error}\n(these tests need anvil: run `npm ci` in the repository root)")
    with node:
        yield node


@pytest.fixture(scope="module")
def own_anvil(anvil: AnvilNode, request: pytest.FixtureRequest) -> Iterator[AnvilNode]:
    """The session's anvil for one module: all it does there, clock included, is reverted at
    the module's end, and nobody else moves its clock meanwhile."""
    with reverted(anvil, request.module.__name__):
        yield anvil


@pytest.fixture
def anvil_snapshot(anvil: AnvilNode, request: pytest.FixtureRequest) -> Iterator[Web3]:
    """The session's anvil for one test, from a snapshot reverted after it."""
    with reverted(anvil, request.node.nodeid) as w3:
        yield w3


@pytest.fixture(scope="session")
def governed(anvil: AnvilNode, tmp_path_factory: pytest.TempPathFactory) -> Governed:
    """The governed federation (proposals switch the rule, admit a member) on the session's
    anvil, read by the audit and the CLI tests: it takes a minute to build, so it is built once."""
    return build_governed(lasting(anvil), tmp_path_factory.mktemp("governed") / "blobs")
