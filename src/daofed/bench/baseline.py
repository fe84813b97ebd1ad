"""The reference a daofed round is compared with: the same work, one process, no transport.

Each member's training exactly as its agent does it (same data, seed, settings, one torch
thread), then FedAvg and the new global model, one member after another, with no chain,
no store and no other process. Because the arithmetic is the same, the final model's
canonical bytes must equal the model the federation accepted: the benchmark checks that,
so the ratio compares equal work.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from daofed.agent import training_seed
from daofed.learning import MemberData, ModelConfig, TrainConfig, initial_weights, train_local
from daofed.learning.aggregation import MemberUpdate, apply_delta, compute_delta, parse_rule
from daofed.storage import encode


@dataclass(frozen=True)
class BaselineRound:
    """One round done in-process: wall and CPU seconds, and the model it ends with."""

    round: int
    seconds: float
    cpu_seconds: float
    digest: str  # sha256 of the canonical encoding of the new global model


def run_baseline(
    model: ModelConfig,
    members: Sequence[tuple[str, MemberData]],
    *,
    epochs: int,
    seed: int,
    rounds: int,
) -> list[BaselineRound]:
    """Run ``rounds`` rounds for ``members`` (address, data), timing each round."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        weights = initial_weights(model, seed)
        rule = parse_rule("fedavg")
        results = []
        for round_number in range(1, rounds + 1):
            wall, cpu = time.perf_counter(), time.process_time()
            updates = []
            for address, data in members:
                trained = train_local(
                    model,
                    weights,
                    data.train,
                    train=TrainConfig(epochs=epochs),
                    seed=training_seed(seed, round_number, address),
                )
                delta = compute_delta(weights, trained)
                updates.append(MemberUpdate(address, len(data.train.y), delta))
            weights = apply_delta(weights, rule.aggregate(updates))
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            digest = hashlib.sha256(encode(weights)).hexdigest()  # not timed: no store here
            results.append(BaselineRound(round_number, wall, cpu, digest))
        return results
    finally:
        torch.set_num_threads(threads)
