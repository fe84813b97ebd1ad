"""Aggregates must be the same bytes in every process on every machine.

Members compute the round's aggregate independently and vote for its sha256; a single
differing bit splits the vote. These tests pin that down three ways: input order does
not matter, separate OS processes agree byte for byte with each other and with digests
recorded when the rules were written (so another machine, e.g. CI, is checked too). One
process disables numpy's SIMD dispatch and has numba compile the rules' loops for a
generic x86-64 CPU (no AVX, no FMA: other vector widths and instructions), as on an older
CPU; the hash seeds differ too.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from daofed.learning.aggregation import parse_rule

from .determinism_worker import (
    SERVER_ROUNDS,
    SERVER_SPECS,
    SPECS,
    digest,
    make_updates,
    results,
    server_results,
)

WORKER = Path(__file__).with_name("determinism_worker.py")

#: sha256 over all (key, bytes) of ``results(seed=2026)`` in sorted key order. Changing
#: any rule's arithmetic changes this: that is a protocol change (old and new members
#: would vote for different digests), so bump it only on purpose.
#: Bumped 2026-11-30: Krum's distances add in 16 interleaved lanes instead of one pairwise
#: tree (see ``kernels.pair_distances``); the ``krum-scores`` entries changed in their last
#: bits, every aggregate's bytes stayed the same.
GOLDEN = "8d47ca324a9be4b9db6e60b3a478b948742bca13b7ee3d6ac71c0e1f6306c16d"
#: The same over ``server_results(seed=2026)``: the server optimisers' models and state.
SERVER_GOLDEN = "63db5c17401ca5facd6051a086a97ddfc04b57fc9d54bcce9c3bd4262e7c2e39"


def _dispatch_targets() -> list[str]:
    """numpy's optional SIMD targets on this CPU (empty where numpy does not say)."""
    try:
        from numpy._core._multiarray_umath import __cpu_dispatch__  # type: ignore[attr-defined]
    except ImportError:
        return []
    return list(__cpu_dispatch__)


def _run_worker(out_dir: Path, extra_env: dict[str, str]) -> subprocess.Popen[bytes]:
    env = {**os.environ, **extra_env}
    return subprocess.Popen([sys.executable, str(WORKER), str(out_dir)], env=env)


def _read(out_dir: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out_dir.iterdir()) if p.suffix != ".json"}


@pytest.mark.parametrize("spec", SPECS)
def test_input_order_does_not_change_a_bit(spec: str) -> None:
    rule = parse_rule(spec)
    updates = make_updates(seed=5, n=9)
    expected = rule.aggregate(updates)
    rng = random.Random(0)
    for _ in range(3):
        shuffled = updates[:]
        rng.shuffle(shuffled)
        got = rule.aggregate(shuffled)
        assert got.keys() == expected.keys()
        assert all(got[k].tobytes() == expected[k].tobytes() for k in expected)


def test_separate_processes_produce_identical_bytes(tmp_path: Path) -> None:
    plain = _run_worker(tmp_path / "a", {"PYTHONHASHSEED": "1"})
    no_simd = _run_worker(
        tmp_path / "b",
        {
            "PYTHONHASHSEED": "2",
            "NPY_DISABLE_CPU_FEATURES": " ".join(_dispatch_targets()),
            "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1",
            "OPENBLAS_CORETYPE": "Prescott",  # another BLAS kernel: catches any BLAS use
            "NUMBA_CPU_NAME": "generic",
        },
    )
    assert plain.wait(timeout=300) == 0 and no_simd.wait(timeout=300) == 0
    for out_dir in (tmp_path / "a", tmp_path / "b"):
        digests = json.loads((out_dir / "digests.json").read_text())
        assert digests == {"results": GOLDEN, "server_results": SERVER_GOLDEN}
    a, b = _read(tmp_path / "a"), _read(tmp_path / "b")
    assert len(a) == 2 * (len(SPECS) + 2) + SERVER_ROUNDS * len(SERVER_SPECS)
    assert a == b
    made = {**results(seed=2026), **server_results(seed=2026)}
    here = {f"{k.replace(':', '_')}.safetensors": v for k, v in made.items()}
    assert here == a


def test_bytes_match_the_recorded_digest() -> None:
    recorded = digest(results(seed=2026))
    print(f"aggregation golden digest: {recorded}")
    assert recorded == GOLDEN


def test_server_steps_match_the_recorded_digest() -> None:
    recorded = digest(server_results(seed=2026))
    print(f"server optimiser golden digest: {recorded}")
    assert recorded == SERVER_GOLDEN


def test_results_are_sane() -> None:
    """Guard the golden test from pinning nonsense: robust rules resist the outlier."""
    updates = make_updates(seed=2026, n=9)
    outlier = max(float(np.abs(u.delta["0.weight"]).max()) for u in updates)
    for spec in ("median", "trimmed-mean:beta=0.2", "krum:f=1", "multi-krum:f=2,m=3"):
        agg = parse_rule(spec).aggregate(updates)
        assert float(np.abs(agg["0.weight"]).max()) < 0.1 < outlier
