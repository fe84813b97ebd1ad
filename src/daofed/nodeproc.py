"""The programs daofed runs beside itself (chain nodes, IPFS nodes): find one, run it, stop it.

A program is looked for on PATH first, then in the source checkout daofed runs from
(``node_modules/.bin``, ``tools/``), if it runs from one: an installed package has no
checkout, and nothing but this lookup asks for one. When neither has the program, the
error says what to install.

A started program is a :class:`NodeProcess`: its output goes to a log file, it is ready
when a probe says so (a line it prints, an answer on its port), it is reported in one
line if it exits or hangs before that, and it is stopped with SIGTERM, then SIGKILL. It
runs in a session of its own, so a Ctrl-C in the terminal is its owner's to handle, and
a program its owner forgot is stopped when the interpreter exits.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TypeVar

from daofed.errors import ConfigError, DaofedError

_T = TypeVar("_T")
STOP_TIMEOUT = 10.0  # seconds a program gets to stop cleanly (write its state) before SIGKILL
_POLL = 0.05  # seconds between readiness probes
LOOPBACK = "127.0.0.1"
"""Where the services daofed starts listen unless told otherwise."""
EVERY_INTERFACE = "0.0.0.0"
"""The bind address of every interface."""


def reach_host(bind: str) -> str:
    """Return where a client on this host reaches a service bound to ``bind``.

    A service on every interface is reached through loopback.
    """
    return LOOPBACK if bind == EVERY_INTERFACE else bind


def checkout_root() -> Path | None:
    """Return the source checkout this package runs from, or None for an installed package."""
    root = Path(__file__).resolve().parents[2]
    return root if (root / "pyproject.toml").is_file() and (root / "contracts").is_dir() else None


def find_program(
    name: str,
    *,
    in_checkout: str,
    install: str,
    error: type[DaofedError] = ConfigError,
) -> Path:
    """Find the executable ``name`` on PATH, else at ``in_checkout`` inside the checkout.

    ``install`` tells what to do when neither has it (it ends the error message).
    """
    found = shutil.which(name)
    if found is not None:
        return Path(found)
    root = checkout_root()
    if root is not None:
        candidate = root / in_checkout
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    where = "on PATH" if root is None else f"on PATH or in {root / in_checkout}"
    raise error(f"{name} not found {where}: {install}")


def line_match(pattern: re.Pattern[str]) -> Callable[[str], str | None]:
    """Probe for :meth:`NodeProcess.wait_ready`: group 1 of ``pattern`` once the output has it."""

    def probe(output: str) -> str | None:
        found = pattern.search(output)
        return found.group(1) if found else None

    return probe


class NodeProcess:
    """A program this process started and owns, with its output in a log file."""

    def __init__(
        self, name: str, popen: subprocess.Popen[bytes], log: Path, *, offset: int, owns_log: bool
    ) -> None:
        self.name = name
        self.popen = popen
        self.log = log
        self._offset = offset  # where this run's output starts in the log
        self._owns_log = owns_log

    @classmethod
    def start(
        cls,
        name: str,
        argv: Sequence[str],
        *,
        log: Path | None = None,
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
        error: type[DaofedError] = ConfigError,
    ) -> NodeProcess:
        """Run ``argv`` with its output appended to ``log`` (a temporary file if None).

        The program's stdin is a pipe that closes when this process dies, for programs
        that can stop then. A temporary log is deleted by a clean :meth:`stop`.
        """
        owns_log = log is None
        if log is None:
            log = Path(tempfile.mkstemp(prefix=f"daofed-{name}-", suffix=".log")[1])
        with log.open("ab") as out:
            offset = out.tell()
            try:
                popen = subprocess.Popen(
                    list(argv),
                    stdin=subprocess.PIPE,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    cwd=cwd,
                    env=None if env is None else dict(env),
                    start_new_session=True,
                )
            except OSError as failure:
                raise error(f"cannot run {name} ({argv[0]}): {failure.strerror}") from None
        started = cls(name, popen, log, offset=offset, owns_log=owns_log)
        _running.add(started)
        return started

    @property
    def pid(self) -> int:
        """Process id (for tests that kill it)."""
        return self.popen.pid

    @property
    def running(self) -> bool:
        """Whether the program is still alive."""
        return self.popen.poll() is None

    def output(self) -> str:
        """Everything the program printed so far (in this run: a log may hold earlier ones)."""
        try:
            with self.log.open("rb") as log:
                log.seek(self._offset)
                return log.read().decode(errors="replace")
        except OSError:
            return ""

    def wait_ready(
        self,
        probe: Callable[[str], _T | None],
        *,
        timeout: float,
        error: type[DaofedError],
    ) -> _T:
        """Wait until ``probe(output so far)`` returns a value, and return it.

        If the program exits first or ``timeout`` seconds pass, it is stopped and
        ``error`` is raised in one line: what happened, the program's last line of
        output, and where the rest is (the log is kept).
        """
        deadline = time.monotonic() + timeout
        while True:
            exited = self.popen.poll() is not None
            value = probe(self.output())
            if value is not None:
                return value
            if exited or time.monotonic() > deadline:
                what = (
                    f"exited with code {self.popen.returncode} while starting"
                    if exited
                    else f"did not get ready within {timeout:.0f} s"
                )
                self._owns_log = False  # the message points to it
                self.stop()
                raise error(f"{self.name} {what}: {self._last_line()} (its output: {self.log})")
            time.sleep(_POLL)

    def stop(self) -> None:
        """Stop the program (SIGTERM, then SIGKILL after a while) and wait for it."""
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        if self.popen.stdin is not None:
            self.popen.stdin.close()
        _running.discard(self)
        if self._owns_log:
            self.log.unlink(missing_ok=True)

    def _last_line(self) -> str:
        lines = [line.strip() for line in self.output().splitlines() if line.strip()]
        return lines[-1] if lines else "it printed nothing"


# Strong references on purpose: a program nobody holds any more must still be stopped.
_running: set[NodeProcess] = set()


@atexit.register
def _stop_all() -> None:
    """Stop programs a caller forgot, so an interpreter exit leaves no process behind."""
    for forgotten in list(_running):
        forgotten.stop()
