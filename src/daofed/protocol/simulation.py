"""A federation in one process, no chain: the protocol core over an in-memory store.

Used by the tests, the poisoning experiment and the benchmarks. Every member makes its
update with :func:`~daofed.protocol.update.make_update` (or an attack's delta through
:func:`~daofed.protocol.update.encode_delta`), puts the bytes in a
:class:`~daofed.storage.MemoryStore`, and the round is aggregated by
:func:`~daofed.protocol.aggregate.aggregate_round`: the very functions agents run, so the
blobs are byte-identical to theirs for the same inputs. Only the transport is missing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from daofed.errors import LearningError, TaskError
from daofed.learning.aggregation import AggregationRule
from daofed.learning.aggregation.server import model_weights
from daofed.learning.attacks import Attack
from daofed.learning.data import FederatedSplit
from daofed.learning.privacy import PrivacySettings, noise_seed
from daofed.learning.task import FitConfig, Metrics, Task
from daofed.protocol.aggregate import RoundAggregate, SubmittedUpdate, UpdatePolicy, aggregate_round
from daofed.protocol.update import UpdateRecipe, encode_delta, fit_config, make_update
from daofed.storage import MemoryStore, ModelSpec, Weights, encode

SIMULATION = "simulation"
"""Stands in for the federation's address where a seed needs one."""


@dataclass(frozen=True, eq=False)
class SimMember:
    """One simulated member: a stable name (seeds derive from it), its data, maybe an attack."""

    name: str
    data: Any
    attack: Attack | None = None


@dataclass(frozen=True)
class SimulatedRound:
    """What one round produced: every update's digest, the aggregate's, the metrics."""

    round: int
    updates: dict[str, str]  # member -> sha256 hex of the update blob it published
    aggregate: RoundAggregate
    metrics: Metrics

    @property
    def aggregate_digest(self) -> str:
        """sha256 hex of the aggregate blob."""
        return hashlib.sha256(self.aggregate.blob).hexdigest()


@dataclass(frozen=True, eq=False)
class SimulationResult:
    """Every round, and the final global model (its blob's tensors, server state included)."""

    rounds: tuple[SimulatedRound, ...]
    weights: Weights

    @property
    def metrics(self) -> tuple[Metrics, ...]:
        """The metrics after each round."""
        return tuple(r.metrics for r in self.rounds)

    def series(self, metric: str = "accuracy") -> tuple[float, ...]:
        """One metric after each round."""
        return tuple(m[metric] for m in self.metrics)


@dataclass(frozen=True)
class SimulationConfig:
    """The rule and the run; ``options`` go to every member's ``fit`` as agents pass them."""

    rule: AggregationRule
    rounds: int
    seed: int = 0
    options: FitConfig = field(default_factory=dict)
    privacy: PrivacySettings | None = None
    policy: UpdatePolicy = field(default_factory=UpdatePolicy)


def members_of(task: Task[Any], split: FederatedSplit) -> list[SimMember]:
    """Make simulated members ``member-0000``... holding the training shares of ``split``."""
    return [
        SimMember(f"member-{i:04d}", task.as_data(share.train))
        for i, share in enumerate(split.members)
    ]


def simulate(
    task: Task[Any],
    members: Sequence[SimMember],
    config: SimulationConfig,
    *,
    genesis: Weights | None = None,
    test: Any = None,
    on_round: Callable[[SimulatedRound], None] = lambda _r: None,
) -> SimulationResult:
    """Run ``config.rounds`` rounds; evaluate on ``test`` after each (no metrics without it).

    A member whose task fails in a round (diverged to NaN, say) submits nothing that
    round, as an agent would; an attacker publishes its attack's delta instead of its
    honest one, and the aggregation decides what to do with it.
    """
    if config.rounds < 1:
        raise LearningError(f"rounds must be >= 1, got {config.rounds}")
    if len({m.name for m in members}) != len(members):
        raise LearningError("simulated members need distinct names")
    weights = task.initial_weights(config.seed) if genesis is None else genesis
    spec = ModelSpec.from_arrays(weights)
    rounds: list[SimulatedRound] = []
    for r in range(1, config.rounds + 1):
        store = MemoryStore()  # a round only ever reads its own blobs
        submissions = []
        for member in members:
            made = _member_update(task, weights, member, config, spec, r)
            if made is None:
                continue
            blob, num_examples = made
            ref = store.put(blob)
            submissions.append(SubmittedUpdate(member.name, ref.digest, ref.locator, num_examples))
        result = aggregate_round(r, weights, submissions, store, spec, config.rule, config.policy)
        weights = result.weights
        metrics = task.evaluate(model_weights(weights), test) if test is not None else {}
        done = SimulatedRound(r, {s.member: s.digest.hex() for s in submissions}, result, metrics)
        rounds.append(done)
        on_round(done)
    return SimulationResult(tuple(rounds), weights)


def _member_update(
    task: Task[Any],
    base: Weights,
    member: SimMember,
    config: SimulationConfig,
    spec: ModelSpec,
    round_number: int,
) -> tuple[bytes, int] | None:
    options = fit_config(
        config.options,
        round_number=round_number,
        seed=config.seed,
        member=member.name,
        proximal_mu=config.rule.proximal_mu,
    )
    recipe = UpdateRecipe(
        compression=config.rule.compression,
        privacy=config.privacy,
        noise_seed=noise_seed(f"{config.seed}:{member.name}".encode(), SIMULATION, round_number),
    )
    if member.attack is not None:
        delta = member.attack.delta(task, base, member.data, options)
        try:
            blob = encode_delta(delta, recipe)
        except LearningError:  # the honest encoder refuses NaN; an attacker uploads it anyway
            blob = encode(delta)
        return blob, _examples(member.data)
    try:
        update = make_update(task, base, member.data, config=options, spec=spec, recipe=recipe)
    except TaskError:
        return None
    return update.blob, update.num_examples


def _examples(data: Any) -> int:
    """Count an attacker's true samples (it reports them; FedAvg weights by them)."""
    return len(data) if hasattr(data, "__len__") else 1
