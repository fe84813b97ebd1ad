"""What machine a benchmark ran on: numbers mean little without it."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Machine:
    """Cores, CPU model, memory, and how busy the machine was (other processes count)."""

    cpus: int
    cpu_model: str
    memory_gib: float
    python: str
    load_average: tuple[float, float, float]  # 1, 5, 15 minutes, when the run began


def describe_machine() -> Machine:
    """Read the machine's description from /proc (Linux)."""
    model = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    memory_kib = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            memory_kib = int(line.split()[1])
    return Machine(
        cpus=os.cpu_count() or 1,
        cpu_model=model,
        memory_gib=round(memory_kib / 2**20, 1),
        python=platform.python_version(),
        load_average=os.getloadavg(),
    )
