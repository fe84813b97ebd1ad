"""A simulated secure round: members with keys, deltas and sample counts, built for tests."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from daofed.learning.aggregation.base import MemberUpdate
from daofed.learning.weights import Weights
from daofed.secagg import (
    Context,
    KeyPair,
    Layout,
    MaskedUpdate,
    RecoveryMessage,
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
    fixed_point_fedavg,
)

SHAPES: dict[str, tuple[int, ...]] = {"fc.weight": (8, 5), "fc.bias": (8,), "out": (3, 2, 2)}


@dataclass
class SimRound:
    """Everything of one round: public messages and every member's secrets."""

    context: Context
    identities: dict[str, KeyPair]
    setups: list[SetupMessage]
    secrets: dict[str, RoundSecrets]
    deltas: dict[str, Weights]
    samples: dict[str, int]

    @property
    def members(self) -> tuple[str, ...]:
        return self.context.members

    @property
    def public_keys(self) -> dict[str, bytes]:
        return {member: keys.public for member, keys in self.identities.items()}

    @property
    def layout(self) -> Layout:
        return Layout.of(self.deltas[self.members[0]])

    def masked(self, members: Iterable[str]) -> list[MaskedUpdate]:
        """Masked updates of ``members``, each through its canonical bytes and back."""
        out = []
        for member in members:
            update = build_masked_update(
                self.context,
                self.secrets[member],
                self.setups,
                self.deltas[member],
                self.samples[member],
            )
            data = encode_masked(self.context, update)
            out.append(decode_masked(self.context, data, self.layout))
        return out

    def recoveries(self, senders: Iterable[str], submitted: Sequence[str]) -> list[RecoveryMessage]:
        """Recovery messages of ``senders``, each through its canonical bytes and back."""
        out = []
        for sender in senders:
            message, findings = build_recovery(
                self.context,
                sender,
                self.identities[sender],
                self.setups,
                submitted,
                self.public_keys,
            )
            assert findings == ()
            out.append(decode_recovery(self.context, encode_recovery(self.context, message)))
        return out

    def reference(self, members: Iterable[str]) -> Weights:
        return fixed_point_fedavg(
            [MemberUpdate(m, self.samples[m], self.deltas[m]) for m in members]
        )


def make_round(
    members: int = 5,
    threshold: int = 3,
    shapes: dict[str, tuple[int, ...]] | None = None,
    seed: int = 0,
    scale: float = 1.0,
) -> SimRound:
    """A round of ``members`` with random float32 deltas and different sample counts.

    Addresses are random with mixed case, to check the library's lower-casing.
    """
    rng = np.random.default_rng(seed)
    addresses = [
        "0x" + "".join(c.upper() if i % 3 else c for i, c in enumerate(rng.bytes(20).hex()))
        for _ in range(members)
    ]
    context = Context(31337, bytes(range(20)), 7, tuple(addresses), threshold)
    identities = {m: KeyPair.generate() for m in context.members}
    public = {m: k.public for m, k in identities.items()}
    setups, secrets = [], {}
    for member in context.members:
        setup, secret = build_setup(context, member, identities[member], public)
        setups.append(decode_setup(context, encode_setup(context, setup)))
        secrets[member] = secret
    layout = shapes or SHAPES
    deltas = {
        m: {
            name: (rng.normal(size=math.prod(shape)) * scale).astype(np.float32).reshape(shape)
            for name, shape in layout.items()
        }
        for m in context.members
    }
    samples = {m: int(rng.integers(1, 1000)) for m in context.members}
    return SimRound(context, identities, setups, secrets, deltas, samples)


def same_bytes(got: Weights, want: Weights) -> bool:
    """Same names, dtypes, shapes and bytes."""
    return sorted(got) == sorted(want) and all(
        got[n].dtype == want[n].dtype
        and got[n].shape == want[n].shape
        and got[n].tobytes() == want[n].tobytes()
        for n in want
    )
