"""The quick benchmark, as CI runs it: it must measure, and what it measures must be right.

Correctness only (positive gas, equal aggregate digests on repeats, store round trips,
the federation's model equal to the in-process baseline's, one memory reading per round):
never a speed or memory limit, since CI machines vary and share their cores.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from daofed.bench import BenchConfig, check_goals, run_bench
from daofed.bench.gas import SUBMIT, VOTE_FINAL

REPO = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.anvil, pytest.mark.ipfs]


def test_quick_bench_measures_every_part_correctly() -> None:
    report = run_bench(BenchConfig.quick_preset())

    assert report.gas is not None
    actions = {row.action for row in report.gas.rows}
    assert {SUBMIT, VOTE_FINAL} <= actions
    assert all(row.gas.low > 0 for row in report.gas.rows)
    assert {row.members for row in report.gas.rows} == set(BenchConfig.quick_preset().gas_sizes)

    assert report.aggregation is not None
    assert {r.rule for r in report.aggregation.rules} >= {"fedavg", "median"}
    assert all(r.gb_per_s > 0 and len(r.digest) == 64 for r in report.aggregation.rules)

    assert report.store is not None
    assert {row.backend for row in report.store.rows} == {"local", "ipfs"}
    assert all(row.put_copies >= 1 and row.get_copies >= 1 for row in report.store.rows)

    (case,) = report.overhead
    assert case.members == 2 and len(case.rounds) == 2
    assert case.measured.seconds > 0 and case.measured.baseline_seconds > 0

    (scale,) = report.scale
    assert scale.accepted and scale.gas_per_member > 0

    assert report.compression is not None and report.compression.cases

    memory = report.memory
    assert memory is not None
    assert [r.round for r in memory.rounds] == list(range(1, memory.config.rounds + 1))
    assert all(r.rss_mib > 0 for r in memory.rounds)

    goals = check_goals(report)
    assert goals and all(check.met or check.gap for check in goals)


def test_script_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "bench.py"), "--quick", "--only", "gas,store",
         "--json", str(out)],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Gas per transaction" in done.stdout
    document = json.loads(out.read_text())
    assert document["report"]["gas"]["rows"]
    assert document["report"]["overhead"] == []
    assert document["report"]["memory"] is None
    assert any(goal["goal"].startswith("submitUpdate") for goal in document["goals"])
