"""The reference a daofed round is compared with: the same work, one process, no transport.

The members' rounds run through :func:`daofed.protocol.simulation.simulate`, the protocol
core over an in-memory store: each member's update exactly as its agent makes it (the
same task, data, options and seed, one torch thread), then the round's aggregate, with
no chain, no blob store and no other process. Because it is the same code, the final
model's bytes must equal the model the federation accepted: the benchmark checks that, so
the ratio compares equal work.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from daofed.learning.aggregation import parse_rule
from daofed.learning.task import Scalar, Task
from daofed.protocol.simulation import SimMember, SimulatedRound, SimulationConfig, simulate


@dataclass(frozen=True)
class BaselineRound:
    """One round done in-process: wall and CPU seconds, and the model it ends with."""

    round: int
    seconds: float
    cpu_seconds: float
    digest: str  # sha256 of the canonical encoding of the new global model


def run_baseline(
    task: Task[Any],
    members: Sequence[tuple[str, Any]],
    *,
    options: Mapping[str, Scalar],
    seed: int,
    rounds: int,
) -> list[BaselineRound]:
    """Run ``rounds`` rounds for ``members`` (address, task data), timing each round.

    ``options`` and ``seed`` are the members' :class:`~daofed.agent.MemberSettings`; the
    genesis model is ``task.initial_weights(seed)``, as :func:`daofed.protocol.genesis_blob`
    makes it.
    """
    results: list[BaselineRound] = []
    clock = [time.perf_counter(), time.process_time()]

    def timed(done: SimulatedRound) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        results.append(
            BaselineRound(done.round, wall - clock[0], cpu - clock[1], done.aggregate_digest)
        )
        clock[:] = [time.perf_counter(), time.process_time()]

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        simulate(
            task,
            [SimMember(address, data) for address, data in members],
            SimulationConfig(rule=parse_rule("fedavg"), rounds=rounds, seed=seed, options=options),
            on_round=timed,
        )
    finally:
        torch.set_num_threads(threads)
    return results
