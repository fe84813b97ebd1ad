"""Fixtures for the explorer's browser tests: the real ``daofed explorer`` process and Chromium.

The explorer runs as a user runs it, in a subprocess of its own, on a free loopback port;
Playwright drives Debian's chromium (``scripts/install.sh`` installs it: Playwright's own
browser download does not work here).
"""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from daofed.chain import Federation

CHROMIUM = Path("/usr/bin/chromium")
READY = re.compile(r"^explorer at (http://127\.0\.0\.1:\d+/) \(Ctrl-C stops\)$")
START_TIMEOUT = 60.0  # seconds until the explorer prints its URL (it imports torch)
STOP_TIMEOUT = 15.0  # seconds it may take to stop after SIGINT
POLL = "0.2"  # the explorer's --poll: how often it looks for a new block


@dataclass
class Explorer:
    """A running ``daofed explorer`` process and the URL it printed."""

    url: str  # http://127.0.0.1:PORT/
    process: subprocess.Popen[str]
    stderr: Path
    stdout: list[str] = field(default_factory=list)  # the lines after the first

    def page_url(self, path: str) -> str:
        return self.url.rstrip("/") + path

    def output(self) -> str:
        """What the process printed, for failure messages."""
        err = self.stderr.read_text(errors="replace")[-3000:]
        return f"stdout: {self.stdout}\nstderr:\n{err}"


def explorer_command(rpc_url: str, federation: Federation, store_dir: Path) -> list[str]:
    return [
        sys.executable, "-m", "daofed", "explorer",
        "--rpc-url", rpc_url,
        "--contract", federation.address,
        "--store", f"local:{store_dir}",
        "--port", "0",
        "--poll", POLL,
    ]  # fmt: skip


@contextmanager
def run_explorer(
    rpc_url: str, federation: Federation, store_dir: Path, log_dir: Path
) -> Iterator[Explorer]:
    """Start ``daofed explorer`` on ``federation``, wait for its URL; SIGINT it on exit."""
    stderr = log_dir / "explorer.err"
    with stderr.open("w") as err:
        process = subprocess.Popen(
            explorer_command(rpc_url, federation, store_dir),
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_read_lines, args=(process, lines), daemon=True).start()
    try:
        explorer = Explorer(_wait_ready(process, lines, stderr), process, stderr)
    except BaseException:
        process.kill()
        process.wait()
        raise
    try:
        yield explorer
    finally:
        _stop(explorer, lines)


def _read_lines(process: subprocess.Popen[str], lines: queue.Queue[str | None]) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        lines.put(line.rstrip("\n"))
    lines.put(None)


def _wait_ready(
    process: subprocess.Popen[str], lines: queue.Queue[str | None], stderr: Path
) -> str:
    try:
        first = lines.get(timeout=START_TIMEOUT)
    except queue.Empty:
        first = None
    if first is None or not (match := READY.match(first)):
        process.kill()
        process.wait()
        pytest.fail(
            f"`daofed explorer` did not print `explorer at http://127.0.0.1:PORT/ (Ctrl-C stops)` "
            f"as its first line within {START_TIMEOUT:.0f} s (exit code {process.returncode}); "
            f"first line: {first!r}\nstderr:\n{stderr.read_text(errors='replace')[-3000:]}"
        )
    return match.group(1)


def _stop(explorer: Explorer, lines: queue.Queue[str | None]) -> None:
    process = explorer.process
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            pytest.fail(f"`daofed explorer` ignored SIGINT for {STOP_TIMEOUT:.0f} s: killed")
    while (line := lines.get(timeout=5)) is not None:
        explorer.stdout.append(line)
    if process.returncode not in (0, -signal.SIGINT, 128 + signal.SIGINT):
        pytest.fail(
            f"`daofed explorer` exited with {process.returncode} on SIGINT\n{explorer.output()}"
        )


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    """Headless Debian chromium driven by Playwright; fails (not skips) when it is missing."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the explorer's browser tests drive Debian's chromium; "
            "run scripts/install.sh (it installs it with apt)"
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    """A fresh page; the test fails if the page's own script throws."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.set_default_timeout(30_000)
    try:
        yield page
    finally:
        context.close()
    assert not errors, f"the explorer's script threw in the browser: {errors}"


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the screenshots go: $DAOFED_SCREENSHOTS, else a pytest temporary directory."""
    named = os.environ.get("DAOFED_SCREENSHOTS")
    directory = Path(named) if named else tmp_path_factory.mktemp("screenshots")
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def wait_synced(page: Page, federation: Federation) -> None:
    """Wait until the page shows the chain at (or after) its current block."""
    block = int(federation.w3.eth.block_number)
    page.wait_for_function(
        "block => Number(document.querySelector('main#content')?.dataset.block) >= block",
        arg=block,
    )
