"""CPU seconds of secure aggregation at scale: ``python -m tests.secagg.measure_cpu``.

10 members, 5M float32 parameters each (two tensors). Prints the CPU time (process time,
all threads) of building one masked update, encoding and decoding it, and unmasking the
round with no dropout and with one member dropped before submitting; checks the result is
byte for byte ``fixed_point_fedavg``. Not a test: no timing is asserted anywhere.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import TypeVar

import numpy as np

from daofed.secagg import (
    build_masked_update,
    decode_masked,
    encode_masked,
    unmask,
)
from tests.secagg.helpers import make_round, same_bytes

T = TypeVar("T")


def cpu(label: str, action: Callable[[], T], seconds: dict[str, list[float]]) -> T:
    start = time.process_time()
    result = action()
    seconds.setdefault(label, []).append(time.process_time() - start)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=10)
    parser.add_argument("--rows", type=int, default=2000, help="5M parameters at 2000")
    args = parser.parse_args()
    shapes = {"a": (args.rows, args.rows), "b": (args.rows // 4, args.rows)}
    sim = make_round(members=args.members, threshold=args.members // 2 + 1, shapes=shapes)
    size = sim.layout.size
    seconds: dict[str, list[float]] = {}
    updates = []
    for member in sim.members:
        update = cpu(
            "build masked update",
            lambda m=member: build_masked_update(
                sim.context, sim.secrets[m], sim.setups, sim.deltas[m], sim.samples[m]
            ),
            seconds,
        )
        data = cpu("encode masked update", lambda u=update: encode_masked(sim.context, u), seconds)
        updates.append(
            cpu(
                "decode masked update",
                lambda d=data: decode_masked(sim.context, d, sim.layout),
                seconds,
            )
        )
    members = sim.members
    recoveries = cpu("build recoveries (all)", lambda: sim.recoveries(members, members), seconds)
    result = cpu(
        "unmask, no dropout", lambda: unmask(sim.context, sim.setups, updates, recoveries), seconds
    )
    assert same_bytes(result.delta, sim.reference(members))
    rest = members[1:]
    late = cpu("build recoveries (all)", lambda: sim.recoveries(rest, rest), seconds)
    dropped = cpu(
        "unmask, one dropout", lambda: unmask(sim.context, sim.setups, updates[1:], late), seconds
    )
    assert same_bytes(dropped.delta, sim.reference(rest))
    print(f"{args.members} members x {size:,} parameters, numpy {np.__version__}")
    for label, values in seconds.items():
        print(f"  {label:<26} {np.mean(values):7.3f} s CPU (mean of {len(values)})")


if __name__ == "__main__":
    main()
