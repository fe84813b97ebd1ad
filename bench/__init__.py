"""daofed's benchmarks: gas, overhead, aggregation, stores, scale, compression, memory, secagg.

One module per measurement, each returning frozen result values; :mod:`.runner` runs
them (full or quick), :mod:`.goals` checks the issue's goals with their gaps, and
:mod:`.report` prints tables and writes JSON. ``python -m bench`` (:mod:`.__main__`)
is the one entry point. They live beside the package, not in it: they need the checkout
(anvil from node_modules, the test IPFS node), which an installed wheel does not have.

The names below are imported on first use: the benchmark's probe processes
(``python -m bench.store_probe``, ``bench.member``) import this package
too, and must not pay for importing every measurement (torch, web3, opacus ...).
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bench.goals import GoalCheck, check_goals
    from bench.report import print_report, write_json
    from bench.runner import PARTS, BenchConfig, BenchReport, run_bench

ROOT = Path(__file__).resolve().parents[1]
"""The checkout: probe processes (``python -m bench.…``) run from it to import us."""

_MODULES = {
    "GoalCheck": "goals",
    "check_goals": "goals",
    "print_report": "report",
    "write_json": "report",
    "PARTS": "runner",
    "BenchConfig": "runner",
    "BenchReport": "runner",
    "run_bench": "runner",
}

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


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
