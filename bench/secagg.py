"""What a private round costs one member, next to a plain round: bytes up and down, CPU.

Both rounds run in this process with the real code: the secure-aggregation library
(:mod:`daofed.secagg`) and its message codecs for the private round, the update codec and
FedAvg for the plain one, on synthetic updates of the benchmark models (as
:mod:`bench.aggregation` makes them). The other members' messages are made beforehand,
untimed; what is timed is everything one member does in a round:

- private (``fedavg:secagg=<t>``, ``t`` a majority): build and encode its setup message;
  decode the others' setups; build and encode its masked update; decode the others'
  masked updates; build and encode its recovery message; decode the others' recoveries;
  unmask; take the server step and encode the model;
- plain (``fedavg``): encode its update; decode the others'; aggregate with FedAvg; take
  the server step and encode the model.

Bytes are the encoded messages' sizes. A member uploads its own messages once and
downloads every other member's (``n - 1`` of each kind); the model it makes is not sent
(every member computes it and votes for its digest), so neither column counts it. Nobody
drops out, so recoveries carry seed shares only. CPU is process time (all threads), the
best of a few repeats per step and of the round as a whole.

Correctness is checked while measuring: every message has the size its format fixes, and
the private round's aggregate is, byte for byte, ``SecureFedAvg(t).aggregate`` of the
plaintext updates (:func:`daofed.secagg.fixed_point_fedavg`).
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from bench.aggregation import make_updates
from bench.models import MODELS, parameter_count, synthetic_delta
from daofed.learning.aggregation import AggregationRule, MemberUpdate, parse_rule
from daofed.learning.compression import Compression, decode_update
from daofed.learning.model import ModelConfig, model_spec
from daofed.learning.weights import Weights
from daofed.protocol.update import UpdateRecipe, encode_delta
from daofed.secagg import (
    Context,
    KeyPair,
    Layout,
    RoundSecrets,
    SetupMessage,
    build_masked_update,
    build_recovery,
    build_setup,
    decode_masked,
    decode_recovery,
    decode_setup,
    encode_masked,
    encode_recovery,
    encode_setup,
)
from daofed.secagg import unmask as unmask_round
from daofed.storage import ModelSpec, encode

T = TypeVar("T")

PRIVATE_STEPS = (
    "setup",
    "read setups",
    "masked update",
    "read masked",
    "recovery",
    "read recoveries",
    "unmask",
    "next model",
)
"""The private round's steps, in order (each includes encoding what it builds)."""

PLAIN_STEPS = ("update", "read updates", "fedavg", "next model")
"""The plain round's steps, in order."""

CHAIN_ID = 31337
CONTRACT = bytes(range(20))


@dataclass(frozen=True)
class SecAggConfig:
    """Which models and federation sizes to measure, and how often to repeat each round."""

    models: tuple[str, ...] = ("100k", "5M")
    members: tuple[int, ...] = (5, 10, 20)
    repeats: int = 3

    @classmethod
    def quick(cls) -> SecAggConfig:
        """Return a run of a few seconds: 100k model, 3 and 5 members, one repeat (for CI)."""
        return cls(models=("100k",), members=(3, 5), repeats=1)


@dataclass(frozen=True)
class MessageSizes:
    """Bytes of each message one member publishes (and of the model it makes, not sent)."""

    setup: int
    masked: int
    recovery: int
    update: int  # the plain round's update
    model: int


@dataclass(frozen=True)
class SecAggCase:
    """One model and federation size: one member's bytes and CPU, private vs plain."""

    model: str
    parameters: int
    members: int
    threshold: int
    sizes: MessageSizes
    private_steps: dict[str, float]  # best CPU seconds of each step
    plain_steps: dict[str, float]
    private_cpu: float  # best CPU seconds of the whole round
    plain_cpu: float
    repeats: int
    digest: str  # sha256 of the private aggregate, equal to the plaintext reference's

    @property
    def private_up(self) -> int:
        """Bytes uploaded in a private round: setup, masked update, recovery."""
        return self.sizes.setup + self.sizes.masked + self.sizes.recovery

    @property
    def private_down(self) -> int:
        """Bytes downloaded in a private round: the others' three messages each."""
        return (self.members - 1) * self.private_up

    @property
    def plain_up(self) -> int:
        """Bytes uploaded in a plain round: the update."""
        return self.sizes.update

    @property
    def plain_down(self) -> int:
        """Bytes downloaded in a plain round: the others' updates."""
        return (self.members - 1) * self.sizes.update

    @property
    def bytes_ratio(self) -> float:
        """Private over plain bytes, up and down together."""
        return (self.private_up + self.private_down) / (self.plain_up + self.plain_down)

    @property
    def cpu_ratio(self) -> float:
        """Private over plain CPU seconds."""
        return self.private_cpu / self.plain_cpu


@dataclass(frozen=True)
class SecAggResult:
    """Every measured case."""

    config: SecAggConfig
    cases: tuple[SecAggCase, ...]


@dataclass(frozen=True, eq=False)
class Round:
    """A round as one member finds it: its own inputs and the others' encoded messages.

    The measured member is ``context.members[0]``; the blob lists are in member order,
    its own first. The others' plaintext updates are gone once their messages are made.
    """

    context: Context
    rule: AggregationRule
    spec: ModelSpec
    base: Weights
    own: MemberUpdate
    identity: KeyPair
    setup: SetupMessage  # its own, as the others masked against it
    secrets: RoundSecrets
    public_keys: dict[str, bytes]
    samples: dict[str, int]  # every member's, public on chain
    setup_blobs: list[bytes]
    masked_blobs: list[bytes]
    recovery_blobs: list[bytes]
    update_blobs: list[bytes]
    reference: str  # sha256 of SecureFedAvg(t).aggregate of the plaintext updates


def majority(members: int) -> int:
    """Return the threshold docs/privacy.md recommends: ``floor(n/2) + 1``."""
    return members // 2 + 1


def make_round(cfg: ModelConfig, members: int) -> Round:
    """Make every member's inputs and the messages the others publish (untimed)."""
    rule = parse_rule(f"fedavg:secagg={majority(members)}")
    threshold = rule.secure_threshold
    assert threshold is not None
    updates = make_updates(cfg, members)
    context = Context(CHAIN_ID, CONTRACT, 1, tuple(u.member for u in updates), threshold)
    updates.sort(key=lambda u: context.position(u.member))
    identities = [KeyPair.generate() for _ in updates]
    keys = {m: k.public for m, k in zip(context.members, identities, strict=True)}
    built = [
        build_setup(context, m, k, keys) for m, k in zip(context.members, identities, strict=True)
    ]
    setups = [setup for setup, _ in built]
    masked = [
        encode_masked(
            context, build_masked_update(context, secrets, setups, u.delta, u.num_samples)
        )
        for (_, secrets), u in zip(built, updates, strict=True)
    ]
    recoveries = []
    for member, identity in zip(context.members, identities, strict=True):
        message, findings = build_recovery(context, member, identity, setups, context.members, keys)
        assert not findings, findings
        recoveries.append(encode_recovery(context, message))
    return Round(
        context=context,
        rule=rule,
        spec=model_spec(cfg),
        base=synthetic_delta(cfg, seed=members + 1000, scale=0.1),
        own=updates[0],
        identity=identities[0],
        setup=setups[0],
        secrets=built[0][1],
        public_keys=keys,
        samples={u.member: u.num_samples for u in updates},
        setup_blobs=[encode_setup(context, setup) for setup in setups],
        masked_blobs=masked,
        recovery_blobs=recoveries,
        update_blobs=[encode_delta(u.delta, UpdateRecipe()) for u in updates],
        reference=_digest(rule.aggregate(updates)),
    )


class Clock:
    """Process time of named steps; :meth:`run` times one call."""

    def __init__(self) -> None:
        self.steps: dict[str, float] = {}

    def run(self, step: str, call: Callable[[], T]) -> T:
        """Return ``call()``, adding its CPU seconds to ``step``."""
        start = time.process_time()
        result = call()
        self.steps[step] = self.steps.get(step, 0.0) + time.process_time() - start
        return result


def private_round(r: Round, clock: Clock) -> tuple[Weights, MessageSizes]:
    """One member's private round; return the aggregate and the sizes of what it made."""
    ctx, me, identity, keys = r.context, r.context.members[0], r.identity, r.public_keys
    layout = Layout.of(r.own.delta)
    setup_blob = clock.run(
        "setup", lambda: encode_setup(ctx, build_setup(ctx, me, identity, keys)[0])
    )
    # The others masked against the setup made beforehand, so the round goes on with that
    # one; a setup's cost and size do not depend on its secrets.
    setups = clock.run(
        "read setups", lambda: [r.setup, *(decode_setup(ctx, b) for b in r.setup_blobs[1:])]
    )
    mine = clock.run(
        "masked update",
        lambda: build_masked_update(ctx, r.secrets, setups, r.own.delta, r.own.num_samples),
    )
    masked_blob = clock.run("masked update", lambda: encode_masked(ctx, mine))
    masked = clock.run(
        "read masked", lambda: [mine, *(decode_masked(ctx, b, layout) for b in r.masked_blobs[1:])]
    )
    recovery, findings = clock.run(
        "recovery", lambda: build_recovery(ctx, me, identity, setups, ctx.members, keys)
    )
    assert not findings, findings
    recovery_blob = clock.run("recovery", lambda: encode_recovery(ctx, recovery))
    recoveries = clock.run(
        "read recoveries",
        lambda: [recovery, *(decode_recovery(ctx, b) for b in r.recovery_blobs[1:])],
    )
    result = clock.run("unmask", lambda: unmask_round(ctx, setups, masked, recoveries))
    model = clock.run("next model", lambda: encode(r.rule.server_step(r.base, {}, result.delta)[0]))
    sizes = MessageSizes(
        setup=len(setup_blob),
        masked=len(masked_blob),
        recovery=len(recovery_blob),
        update=len(r.update_blobs[0]),
        model=len(model),
    )
    return result.delta, sizes


def plain_round(r: Round, clock: Clock) -> bytes:
    """One member's plain FedAvg round; return its update's bytes."""
    rule = parse_rule("fedavg")
    blob = clock.run("update", lambda: encode_delta(r.own.delta, UpdateRecipe()))
    peers = r.context.members[1:]
    updates = clock.run(
        "read updates",
        lambda: [
            r.own,
            *(
                MemberUpdate(peer, r.samples[peer], decode_update(b, r.spec, Compression.NONE))
                for peer, b in zip(peers, r.update_blobs[1:], strict=True)
            ),
        ],
    )
    delta = clock.run("fedavg", lambda: rule.aggregate(updates))
    clock.run("next model", lambda: encode(rule.server_step(r.base, {}, delta)[0]))
    return blob


def measure_case(name: str, members: int, repeats: int) -> SecAggCase:
    """Measure one model and federation size, best of ``repeats`` rounds of each kind."""
    cfg = MODELS[name]
    r = make_round(cfg, members)
    what = f"secagg, {name} model, {members} members"
    private: list[dict[str, float]] = []
    plain: list[dict[str, float]] = []
    sizes: MessageSizes | None = None
    for _ in range(max(1, repeats)):
        clock = Clock()
        delta, sizes = private_round(r, clock)
        if _digest(delta) != r.reference:
            raise AssertionError(f"{what}: the private aggregate is not SecureFedAvg's")
        private.append(clock.steps)
        del delta
        clock = Clock()
        if plain_round(r, clock) != r.update_blobs[0]:
            raise AssertionError(f"{what}: the update's encoding is not canonical")
        plain.append(clock.steps)
    assert sizes is not None and r.rule.secure_threshold is not None
    return SecAggCase(
        model=name,
        parameters=parameter_count(cfg),
        members=members,
        threshold=r.rule.secure_threshold,
        sizes=sizes,
        private_steps={step: min(run[step] for run in private) for step in PRIVATE_STEPS},
        plain_steps={step: min(run[step] for run in plain) for step in PLAIN_STEPS},
        private_cpu=min(sum(run.values()) for run in private),
        plain_cpu=min(sum(run.values()) for run in plain),
        repeats=max(1, repeats),
        digest=r.reference,
    )


def measure_secagg(
    config: SecAggConfig, progress: Callable[[str], None] = lambda _m: None
) -> SecAggResult:
    """Measure every model and federation size of ``config``."""
    _load_fedavg()
    cases = []
    for name in config.models:
        for members in config.members:
            progress(f"secagg: {name} model, {members} members, private vs plain")
            cases.append(measure_case(name, members, config.repeats))
    result = SecAggResult(config, tuple(cases))
    check_secagg(result)
    return result


def expected_sizes(case: SecAggCase) -> MessageSizes:
    """Return the sizes each message's format fixes for ``case`` (docs/privacy.md, Costs).

    Header: magic, version and kind, the round's label (58 bytes). Setup: dealer, mask key,
    seed commitment, then 204 bytes per member. Masked update: member, sample count, the
    mask-set bitmap, then the uint64 tensors as safetensors. Recovery: sender, the
    submitted bitmap, a share count, then 53 bytes per seed share (nobody dropped out).
    """
    cfg = MODELS[case.model]
    n, bitmap = case.members, math.ceil(case.members / 8)
    layout = Layout(tuple(cfg.tensor_shapes().items()))
    float32 = model_spec(cfg).encoded_size
    return MessageSizes(
        setup=142 + 204 * n,
        masked=58 + 20 + 8 + bitmap + layout.spec("uint64").encoded_size,
        recovery=80 + bitmap + 53 * n,
        update=float32,
        model=float32,
    )


def check_secagg(result: SecAggResult) -> None:
    """Assert what was measured is consistent (never how fast): sizes, ratios, CPU > 0."""
    assert result.cases, "no secagg case was measured"
    for case in result.cases:
        what = f"secagg {case.model} x {case.members}"
        assert case.sizes == expected_sizes(case), f"{what}: {case.sizes}"
        assert case.private_up > case.plain_up and case.private_down > case.plain_down, what
        assert case.plain_down == (case.members - 1) * case.plain_up, what
        assert 2 <= case.threshold <= case.members, what
        assert case.private_cpu > 0 and case.plain_cpu > 0, what
        assert set(case.private_steps) == set(PRIVATE_STEPS), what
        assert set(case.plain_steps) == set(PLAIN_STEPS), what


def _load_fedavg() -> None:
    """Run FedAvg once on a tiny update: its compiled loop loads (or compiles) untimed."""
    tiny = MemberUpdate("0x" + "0" * 39 + "1", 1, {"w": np.zeros(8, np.float32)})
    parse_rule("fedavg").aggregate([tiny])


def _digest(weights: Weights) -> str:
    return hashlib.sha256(encode(weights)).hexdigest()
