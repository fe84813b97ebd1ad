"""Aggregate portable pseudo-random updates with every rule; write each result's bytes.

Run as ``python determinism_worker.py OUT_DIR`` by ``test_determinism.py`` in separate
processes (with different CPU features enabled and hash seeds), and imported by it for
the in-process copy. The inputs come from SHAKE-256, not numpy's RNG, so they are the
same bytes on every machine and numpy version; only the aggregation arithmetic is under
test.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np

from daofed.learning.aggregation import (
    MemberUpdate,
    krum_scores,
    l2_norm,
    parse_rule,
    sorted_updates,
)
from daofed.storage import encode

SPECS = (
    "fedavg",
    "median",
    "trimmed-mean:beta=0.2",
    "krum:f=1",
    "multi-krum:f=2,m=3",
    "fedavg:clip=1.0",
    "median:clip=0.5",
    "trimmed-mean:beta=0.1,clip=2.0",
    "multi-krum:f=1,m=4,clip=1.5",
)
SERVER_SPECS = (
    "fedavgm:lr=1.0,momentum=0.9",
    "fedadam:lr=0.01,beta1=0.9,beta2=0.99,tau=0.001",
    "fedyogi:lr=0.01,beta1=0.9,beta2=0.99,tau=0.001,of=median",
    "fedadagrad:lr=0.1,tau=1e-09,of=trimmed-mean,beta=0.2",
    "fedavgm:lr=0.5,momentum=0.0,of=multi-krum,f=1,m=4,clip=1.0",
)
"""Server optimisers, stepped three rounds each so that their carried state is tested too."""
SERVER_ROUNDS = 3
SHAPES = {"0.weight": (64, 64), "0.bias": (64,), "2.weight": (10, 64), "2.bias": (10,)}


def portable_array(label: str, shape: tuple[int, ...], scale: float) -> np.ndarray:
    """Float32 values in [-scale/2, scale/2) from SHAKE-256 of ``label``, ~1 in 16 zeros."""
    count = int(np.prod(shape))
    raw = hashlib.shake_256(label.encode()).digest(8 * count)
    ints = np.frombuffer(raw, dtype="<u4").reshape(count, 2)
    values = (ints[:, 0].astype(np.float64) / 2.0**32 - 0.5) * scale
    values[ints[:, 1] % 16 == 0] = 0.0
    values[ints[:, 1] % 64 == 1] = -0.0
    return values.astype(np.float32).reshape(shape)


def make_updates(seed: int, n: int) -> list[MemberUpdate]:
    """``n`` updates of the default MLP's shapes: honest ones, a copy, an outlier."""
    updates = []
    for i in range(n):
        member = "0x" + hashlib.sha256(f"{seed}:{i}".encode()).hexdigest()[:40]
        if i % 2:
            member = member.upper().replace("0X", "0x")  # mixed-case addresses sort the same
        scale = 1000.0 if i == n - 1 else 0.01 * (1 + i)
        source = 0 if i == 1 else i  # members 0 and 1 submit identical deltas (Krum ties)
        delta = {
            name: portable_array(f"{seed}:{source}:{name}", shape, scale)
            for name, shape in SHAPES.items()
        }
        updates.append(MemberUpdate(member=member, num_samples=10 + 37 * i, delta=delta))
    return updates


def results(seed: int) -> dict[str, bytes]:
    """Canonical bytes of every rule's aggregate, for 8 and 9 updates.

    Also the float64 intermediates (Krum scores, update norms): a rule's float32 output
    can hide a last-bit difference in them, which a later input would expose.
    """
    out: dict[str, bytes] = {}
    for n in (8, 9):
        updates = make_updates(seed, n)
        for spec in SPECS:
            out[f"n{n}-{spec}"] = encode(parse_rule(spec).aggregate(updates))
        ordered = sorted_updates(updates)
        out[f"n{n}-krum-scores"] = np.array(krum_scores(ordered, 2), np.float64).tobytes()
        out[f"n{n}-norms"] = np.array([l2_norm(u.delta) for u in ordered], np.float64).tobytes()
    return out


def server_results(seed: int) -> dict[str, bytes]:
    """Canonical bytes of the global model (weights and state) after each server step."""
    base = {
        name: portable_array(f"{seed}:base:{name}", shape, 1.0) for name, shape in SHAPES.items()
    }
    out: dict[str, bytes] = {}
    for spec in SERVER_SPECS:
        rule = parse_rule(spec)
        model, state = base, {}
        for r in range(1, SERVER_ROUNDS + 1):
            delta = rule.aggregate(make_updates(seed + r, 8))
            model, state = rule.server_step(model, state, delta)
            out[f"server-r{r}-{spec}"] = encode({**model, **state})
    return out


def digest(res: dict[str, bytes]) -> str:
    """sha256 over every (key, sha256 of bytes) in sorted key order: the golden digests."""
    h = hashlib.sha256()
    for key in sorted(res):
        h.update(key.encode() + b"\0" + hashlib.sha256(res[key]).digest())
    return h.hexdigest()


def main(out_dir: str) -> None:
    target = Path(out_dir)
    target.mkdir(parents=True, exist_ok=True)
    rules, servers = results(seed=2026), server_results(seed=2026)
    for key, data in {**rules, **servers}.items():
        (target / f"{key.replace(':', '_')}.safetensors").write_bytes(data)
    (target / "digests.json").write_text(
        json.dumps({"results": digest(rules), "server_results": digest(servers)})
    )


if __name__ == "__main__":
    main(sys.argv[1])
