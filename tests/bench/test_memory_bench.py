"""The agent memory benchmark, run for a few rounds: it must read one sample per round.

Correctness only (a reading per round, in order, positive, peaks at least the reading):
never a memory limit, since allocators and CI machines differ. The readings are the
memory part of the one quick benchmark run (``quick_run`` in conftest.py), which measures
with ``MemoryConfig.quick()``, as ``measure_memory`` would, on the benchmark's anvil.
"""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from bench import BenchReport, check_goals, print_report
from bench.machine import describe_machine
from bench.memory import MemoryConfig, check_memory, memory_table, summary
from tests.bench.conftest import ScriptRun

pytestmark = [pytest.mark.slow, pytest.mark.anvil, pytest.mark.ipfs]

READING = re.compile(r"round \d+: RSS ")
"""The progress message of one memory reading."""


def test_quick_run_reads_the_agents_memory_once_per_round(quick_run: ScriptRun) -> None:
    result = quick_run.report.memory
    assert result is not None
    config = result.config
    assert config == MemoryConfig.quick()
    messages = [m for m in quick_run.progress if READING.match(m)]

    check_memory(result)
    assert config.rounds == 4
    assert [r.round for r in result.rounds] == [1, 2, 3, 4]
    assert all(r.rss_mib > 0 and r.peak_mib > 0 for r in result.rounds)
    assert result.ready_mib > 0 and result.update_mib > 0
    assert len(messages) == config.rounds
    assert result.growth_from == 1  # shorter runs than 10 rounds: growth from round 1
    assert result.growth == result.last - result.first

    out = io.StringIO()
    Console(file=out, width=200).print(memory_table(result))
    assert "Member agent memory" in out.getvalue() and "peak MiB" in out.getvalue()
    assert "growth from round 1 to 4" in summary(result)

    report = BenchReport("now", describe_machine(), quick=True, seconds=1.0, memory=result)
    (goal,) = check_goals(report)
    assert goal.goal.startswith("member agent memory flat") and (goal.met or goal.gap)
    out = io.StringIO()
    print_report(report, Console(file=out, width=200))
    assert "Member agent memory" in out.getvalue() and "Goals" in out.getvalue()
