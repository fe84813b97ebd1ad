"""One quick benchmark run shared by tests/bench: it takes minutes, so it runs once.

It runs ``scripts/bench.py --quick --json FILE`` the way CI and users run it, but in this
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

from daofed.bench import BenchConfig, BenchReport, run_bench
from tests.scripts import load_script


@dataclass(frozen=True)
class ScriptRun:
    """One run of scripts/bench.py: its report, output, JSON document and progress."""

    status: int
    report: BenchReport
    stdout: str
    document: dict[str, Any]
    progress: tuple[str, ...]


def run_script(*args: str, json_path: Path) -> ScriptRun:
    """Run ``scripts/bench.py ARGS --json JSON_PATH`` in this process.

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
        script = load_script("bench", patch)
        patch.setattr(script, "run_bench", recording)
        patch.setattr(sys, "argv", ["bench.py", *args, "--json", str(json_path)])
        with contextlib.redirect_stdout(stdout):
            status = script.main()
    (report,) = reports
    document = json.loads(json_path.read_text())
    return ScriptRun(status, report, stdout.getvalue(), document, tuple(messages))


@pytest.fixture(scope="session")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> ScriptRun:
    """``scripts/bench.py --quick``, every part, run once for the session."""
    return run_script("--quick", json_path=tmp_path_factory.mktemp("bench") / "bench.json")
