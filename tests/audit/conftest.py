"""The audited federations, built once per session: rounds on the embedded chain, the
governed one on anvil (proposals need time to pass; anvil is faster for that many rounds)."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from daofed.audit import History, read_history
from daofed.chain import AnvilNode, embedded_chain
from daofed.errors import ConfigError
from daofed.storage import LocalStore

from .governed import Governed, build_governed
from .scenario import Scenario, build_scenario


@pytest.fixture(scope="session")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    return build_scenario(embedded_chain(), tmp_path_factory.mktemp("audit") / "blobs")


@pytest.fixture(scope="session")
def history(scenario: Scenario) -> History:
    return read_history(scenario.federation)


@pytest.fixture
def store_copy(scenario: Scenario, tmp_path: Path) -> Callable[[], LocalStore]:
    """A private copy of the scenario's store, for tests that tamper with blobs."""

    def copy() -> LocalStore:
        target = tmp_path / "blobs"
        shutil.copytree(scenario.store_dir, target)
        return LocalStore(target)

    return copy


@pytest.fixture(scope="session")
def audit_anvil() -> Iterator[AnvilNode]:
    try:
        node = AnvilNode.start()
    except ConfigError as error:
        pytest.fail(f"{error}\n(the governance audit tests need anvil: run `npm ci`)")
    with node:
        yield node


@pytest.fixture(scope="session")
def governed(audit_anvil: AnvilNode, tmp_path_factory: pytest.TempPathFactory) -> Governed:
    return build_governed(audit_anvil.web3(), tmp_path_factory.mktemp("governed") / "blobs")


@pytest.fixture(scope="session")
def governed_history(governed: Governed) -> History:
    return read_history(governed.federation)
