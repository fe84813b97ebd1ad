"""One quick benchmark run shared by tests/bench: it takes minutes, so it runs once.

It runs ``python -m bench --quick --json FILE`` the way CI and users run it, but in this
process. That way the tests get the typed report as well as what the script printed and
wrote.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import bench.__main__ as entry_point
from bench import BenchConfig, BenchReport, run_bench


@dataclass(frozen=True)
class ScriptRun:
    """One run of python -m bench: its report, output, JSON document and progress."""

    status: int
    report: BenchReport
    stdout: str
    document: dict[str, Any]
    progress: tuple[str, ...]


def run_script(*args: str, json_path: Path) -> ScriptRun:
    """Run ``python -m bench ARGS --json JSON_PATH`` in this process.

    The script's real ``run_bench`` does the work. It is wrapped here only to keep the
    report it returned and the progress messages it reported.
    """
    reports: list[BenchReport] = []
    messages: list[str] = []

    def recording(config: BenchConfig, progress: Any) -> BenchReport:
        def both(message: str) -> None:
            messages.append(message)
            progress(message)

        report = run_bench(config, both)
        reports.append(report)
        return report

    stdout = io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(entry_point, "run_bench", recording)
        patch.setattr(sys, "argv", ["bench", *args, "--json", str(json_path)])
        with contextlib.redirect_stdout(stdout):
            status = entry_point.main()
    (report,) = reports
    document = json.loads(json_path.read_text())
    return ScriptRun(status, report, stdout.getvalue(), document, tuple(messages))


@pytest.fixture(scope="session")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> ScriptRun:
    """``python -m bench --quick``, every part, run once for the session."""
    return run_script("--quick", json_path=tmp_path_factory.mktemp("bench") / "bench.json")
