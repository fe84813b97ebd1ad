"""``daofed demo`` end to end, on the embedded chain and on anvil."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from daofed.cli import app
from daofed.demo import DemoConfig, run_demo
from daofed.session import abi_version
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
    # the README shows this very run: its deterministic parts must still be what it does
    shown = readme_demo()
    assert [(r.round, r.accepted[:12]) for r in report.rounds] == [
        (r, digest) for r, digest, _ in shown.rounds
    ], "README's demo digests are stale: paste a fresh ./scripts/demo.sh transcript"
    assert [f"{r.test_accuracy:.4f}" for r in report.rounds] == [a for *_, a in shown.rounds]
    assert f"{report.centralized_accuracy:.4f}" == shown.centralized


@dataclass(frozen=True)
class ReadmeDemo:
    rounds: list[tuple[int, str, str]]  # round, accepted digest (12 hex), accuracy (4 places)
    centralized: str


def readme_demo() -> ReadmeDemo:
    """The demo transcript the README shows under "Two commands"."""
    text = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    block = text.split("$ ./scripts/demo.sh\n", 1)[1].split("```", 1)[0]
    rows = re.findall(r"│\s+(\d+) │.*│ ([0-9a-f]{12})\s+│\s+([0-9.]+) │", block)
    centralized = re.search(r"centralized \(.*\): accuracy ([0-9.]+)", block)
    assert rows and centralized, "the README's demo transcript is missing or reshaped"
    return ReadmeDemo([(int(r), d, a) for r, d, a in rows], centralized.group(1))


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


def test_readme_deployment_file_names_the_abi_this_daofed_speaks() -> None:
    text = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    shown = re.search(r'abi_version = "([0-9a-f]+)"', text)
    assert shown is not None and shown.group(1) == abi_version(), "README's daofed.toml is stale"
