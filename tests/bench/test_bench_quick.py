"""The quick benchmark, as CI runs it: it must measure, and what it measures must be right.

Correctness only (positive gas, equal aggregate digests on repeats, store round trips,
the federation's model equal to the in-process baseline's, one memory reading per round):
never a speed or memory limit, since CI machines vary and share their cores.

The quick run (``python -m bench --quick --json``) takes minutes, so it runs once
(``quick_run`` in conftest.py), and every test here asserts on that one result.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import BenchConfig, check_goals
from bench.gas import SUBMIT, VOTE_FINAL
from bench.store import BITSWAP
from tests.bench.conftest import ScriptRun, run_script

pytestmark = [pytest.mark.slow, pytest.mark.anvil, pytest.mark.ipfs]


def test_quick_bench_measures_every_part_correctly(quick_run: ScriptRun) -> None:
    report = quick_run.report
    assert report.quick

    assert report.gas is not None
    actions = {row.action for row in report.gas.rows}
    assert {SUBMIT, VOTE_FINAL} <= actions
    assert all(row.gas.low > 0 for row in report.gas.rows)
    assert {row.members for row in report.gas.rows} == set(BenchConfig.quick_preset().gas_sizes)

    assert report.aggregation is not None
    assert {r.rule for r in report.aggregation.rules} >= {"fedavg", "median"}
    assert all(r.gb_per_s > 0 and len(r.digest) == 64 for r in report.aggregation.rules)

    assert report.store is not None
    assert {row.backend for row in report.store.rows} == {"local", "ipfs", BITSWAP}
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


def test_script_prints_and_writes_json(quick_run: ScriptRun) -> None:
    assert quick_run.status == 0
    assert "Gas per transaction" in quick_run.stdout
    assert "Member agent memory" in quick_run.stdout
    document = quick_run.document
    assert document["report"]["quick"] is True
    assert document["report"]["gas"]["rows"]
    assert len(document["report"]["overhead"]) == 1
    assert document["report"]["memory"]["rounds"]
    assert any(goal["goal"].startswith("submitUpdate") for goal in document["goals"])
    assert len(document["goals"]) == len(check_goals(quick_run.report))


def test_script_runs_only_the_parts_asked_for(tmp_path: Path) -> None:
    run = run_script("--quick", "--only", "aggregation", json_path=tmp_path / "bench.json")
    assert run.status == 0
    assert run.report.aggregation is not None
    assert run.report.gas is None and run.report.store is None and run.report.memory is None
    assert run.report.overhead == () and run.report.scale == ()
    report = run.document["report"]
    assert report["aggregation"]["rules"]
    assert report["gas"] is None and report["memory"] is None and report["overhead"] == []
    assert "Gas per transaction" not in run.stdout
