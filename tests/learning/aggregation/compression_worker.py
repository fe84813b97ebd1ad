"""Compress portable updates, decode and decompress them, aggregate; write every result's bytes.

Run as ``python compression_worker.py OUT_DIR`` by ``test_compression_determinism.py`` in
separate processes (with different CPU features and hash seeds), and imported by it for
the in-process copy. Inputs are the SHAKE-256 updates of ``determinism_worker``, the same
bytes everywhere, so only the compression arithmetic is under test.
"""

from __future__ import annotations

import sys
from pathlib import Path

from daofed.learning.aggregation import MemberUpdate, parse_rule
from daofed.learning.compression import Compression, decode_update, encode_update
from daofed.storage import ModelSpec, encode

if __package__:
    from .determinism_worker import make_updates
else:  # run as a script
    from determinism_worker import make_updates

RULES = ("fedavg", "median:clip=0.5", "multi-krum:f=1,m=3")


def results(seed: int) -> dict[str, bytes]:
    """Per compression: each member's wire bytes, its decompressed delta, each rule's aggregate."""
    out: dict[str, bytes] = {}
    updates = make_updates(seed, 8)
    spec = ModelSpec.from_arrays(updates[0].delta)
    for method in (Compression.FP16, Compression.INT8):
        received = []
        for i, update in enumerate(updates):
            wire = encode_update(update.delta, method)
            delta = decode_update(wire, spec, method)
            out[f"{method}-wire-{i}"] = wire
            out[f"{method}-delta-{i}"] = encode(delta)
            received.append(MemberUpdate(update.member, update.num_samples, delta))
        for rule in RULES:
            spec_text = f"{rule}{',' if ':' in rule else ':'}compress={method}"
            out[f"{method}-{spec_text}"] = encode(parse_rule(spec_text).aggregate(received))
    return out


def main(out_dir: str) -> None:
    target = Path(out_dir)
    target.mkdir(parents=True, exist_ok=True)
    for key, data in results(seed=2026).items():
        (target / key.replace(":", "_")).write_bytes(data)


if __name__ == "__main__":
    main(sys.argv[1])
