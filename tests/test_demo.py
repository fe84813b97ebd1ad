"""The vertical slice's acceptance: ``daofed demo`` on the embedded chain and on anvil."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from daofed.cli import app
from daofed.demo import DemoConfig, run_demo
from daofed.storage import LocalStore


@pytest.mark.slow
@pytest.mark.parametrize("chain", ["embedded", "anvil"])
def test_five_members_five_rounds_reach_consensus_and_accuracy(chain: str, tmp_path: Path) -> None:
    report = run_demo(DemoConfig(members=5, rounds=5, chain=chain, store_dir=tmp_path))  # type: ignore[arg-type]
    print(
        f"{chain}: federated {report.final_accuracy:.4f}, "
        f"centralized {report.centralized_accuracy:.4f}, {report.seconds:.1f} s"
    )
    assert [r.round for r in report.rounds] == [1, 2, 3, 4, 5]
    assert all(r.updates == 5 and r.votes == 5 for r in report.rounds)
    assert report.unanimous
    assert report.digests_verified
    store = LocalStore(tmp_path)
    for r in report.rounds:
        assert r.accepted is not None
        assert (
            hashlib.sha256(store.path_for(bytes.fromhex(r.accepted)).read_bytes()).hexdigest()
            == r.accepted
        )
    assert report.final_accuracy >= 0.90
    assert abs(report.final_accuracy - report.centralized_accuracy) <= 0.02


def test_demo_is_reproducible_from_its_seed(tmp_path: Path) -> None:
    config = DemoConfig(members=2, rounds=1, options={"epochs": 1})
    first = run_demo(config)
    second = run_demo(config)
    assert first.rounds[0].accepted == second.rounds[0].accepted


def test_cli_demo_json() -> None:
    result = CliRunner().invoke(
        app, ["demo", "--members", "2", "--rounds", "1", "--epochs", "1", "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["members"] == 2
    assert report["unanimous"] is True
    assert report["digests_verified"] is True
    assert len(report["rounds"][0]["accepted"]) == 64


def test_cli_demo_rejects_unknown_chain() -> None:
    result = CliRunner().invoke(app, ["demo", "--chain", "mainnet"])
    assert result.exit_code == 1
    assert "unknown chain 'mainnet'" in result.stderr
