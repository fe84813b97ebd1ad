"""The audited federations, built once per session: the scenario's rounds on the embedded
chain; the governed one (``tests/conftest.py``) on anvil, which is faster for that many
rounds with proposals waiting out their voting period."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from daofed.audit import History, read_history
from daofed.chain import embedded_chain
from daofed.storage import LocalStore

from .governed import Governed
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
def governed_history(governed: Governed) -> History:
    return read_history(governed.federation)
