"""CPU seconds of other processes over time, sampled from ``/proc`` (Linux).

Wall time alone hides where a round's work happens: member processes run in parallel on
the machine's cores, and anvil and the IPFS node work for all of them. Sampling each
process's user + system time every few hundredths of a second lets the benchmark read
off the CPU each one spent inside a round, whose boundaries are only known afterwards.
"""

from __future__ import annotations

import bisect
import os
import threading
import time
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` (its threads included); 0 once gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = text[text.rindex(")") + 2 :].split()  # the name may hold spaces
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime


class CpuSampler:
    """Sample named processes' CPU seconds in a background thread until stopped."""

    def __init__(self, pids: dict[str, int], interval: float = 0.05) -> None:
        self.pids = dict(pids)
        self.interval = interval
        self.times: list[float] = []
        self.samples: list[dict[str, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cpu-sampler", daemon=True)

    def __enter__(self) -> CpuSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while True:
            sample = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
            self.times.append(time.monotonic())
            self.samples.append(sample)
            if self._stop.wait(self.interval):
                return

    def at(self, moment: float) -> dict[str, float]:
        """Return the last sample taken at or before ``moment`` (the first if none was)."""
        index = max(0, bisect.bisect_right(self.times, moment) - 1)
        return self.samples[index]

    def between(self, start: float, end: float) -> dict[str, float]:
        """CPU seconds each process spent from ``start`` to ``end``."""
        before, after = self.at(start), self.at(end)
        return {name: max(0.0, after[name] - before[name]) for name in self.pids}
