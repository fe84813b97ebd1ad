"""daofed's benchmarks: gas, overhead, aggregation, stores, scale, compression, memory.

One module per measurement, each returning frozen result values; :mod:`.runner` runs
them (full or quick), :mod:`.goals` checks the issue's goals with their gaps, and
:mod:`.report` prints tables and writes JSON. ``scripts/bench.py`` and ``daofed bench``
are thin wrappers around :func:`run_bench` and :func:`print_report`.
"""

from daofed.bench.goals import GoalCheck, check_goals
from daofed.bench.report import print_report, write_json
from daofed.bench.runner import PARTS, BenchConfig, BenchReport, run_bench

__all__ = [
    "PARTS",
    "BenchConfig",
    "BenchReport",
    "GoalCheck",
    "check_goals",
    "print_report",
    "run_bench",
    "write_json",
]
