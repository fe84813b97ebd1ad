"""In-process federated rounds, no chain and no storage: the learning layer's own check.

Used to choose training defaults, by the tests, and as a quick baseline: it runs
exactly the arithmetic the agents run (train from the base, publish the delta,
aggregate, apply), only without the transport.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from daofed.errors import LearningError
from daofed.learning.aggregation import AggregationRule, MemberUpdate, apply_delta, compute_delta
from daofed.learning.data import FederatedSplit
from daofed.learning.model import ModelConfig, initial_weights
from daofed.learning.train import TrainConfig, evaluate, train_local
from daofed.learning.weights import Weights


@dataclass(frozen=True, eq=False)
class SimulationResult:
    """Test accuracy after each round and the final global weights."""

    accuracies: tuple[float, ...]
    weights: Weights


def member_seed(seed: int, round_number: int, member: int) -> int:
    """Derive a training seed per (run seed, round, member), independent across all three."""
    return int(np.random.SeedSequence([seed, round_number, member]).generate_state(1)[0])


def simulate(
    cfg: ModelConfig,
    split: FederatedSplit,
    *,
    rule: AggregationRule,
    rounds: int,
    train: TrainConfig,
    seed: int,
    genesis: Weights | None = None,
) -> SimulationResult:
    """Run ``rounds`` rounds where every member trains and ``rule`` aggregates the deltas."""
    if rounds < 1:
        raise LearningError(f"rounds must be >= 1, got {rounds}")
    weights = initial_weights(cfg, seed) if genesis is None else genesis
    accuracies: list[float] = []
    for r in range(1, rounds + 1):
        updates = []
        for i, member in enumerate(split.members):
            local = train_local(
                cfg, weights, member.train, train=train, seed=member_seed(seed, r, i)
            )
            updates.append(
                MemberUpdate(
                    member=f"member-{i:04d}",
                    num_samples=len(member.train),
                    delta=compute_delta(weights, local),
                )
            )
        weights = apply_delta(weights, rule.aggregate(updates))
        accuracies.append(evaluate(cfg, weights, split.test))
    return SimulationResult(accuracies=tuple(accuracies), weights=weights)
