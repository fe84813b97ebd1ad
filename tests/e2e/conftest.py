"""What the end-to-end federations of four member processes share: keys and data files."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.processes import MEMBERS, daofed, write_keystores


@pytest.fixture(scope="session")
def keystores(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Encrypted keystores of the dev accounts 1..MEMBERS, one per member process."""
    return write_keystores(tmp_path_factory.mktemp("keystore"), MEMBERS)


@pytest.fixture(scope="session")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The members' data files, split once for every run (the split is seeded)."""
    root = tmp_path_factory.mktemp("data")
    daofed("data", "split", "--members", str(MEMBERS), "--out-dir", "data", cwd=root)
    return root / "data"
