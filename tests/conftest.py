"""Suite-wide settings and fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch

from daofed.chain import AnvilNode
from daofed.errors import ConfigError


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread() -> None:
    """Train on one thread, as the CLI does: ~10x faster for the digits MLP here."""
    torch.set_num_threads(1)


@pytest.fixture(scope="module")
def own_anvil() -> Iterator[AnvilNode]:
    """An anvil for one test module, whose clock and accounts nobody else moves."""
    try:
        node = AnvilNode.start()
    except ConfigError as error:
        pytest.fail(f"{error}\n(these tests need anvil: run `npm ci` in the repository root)")
    with node:
        yield node
