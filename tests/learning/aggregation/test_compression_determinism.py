"""Decompressed updates, hence aggregates of compressed rounds, are the same bits everywhere.

The same three checks as ``test_determinism.py``, for the compression layer: separate OS
processes (one with numpy's SIMD dispatch disabled and another BLAS kernel) agree byte for
byte, and the bytes match a digest recorded when the encoding was written.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .compression_worker import results
from .determinism_worker import digest
from .test_determinism import _dispatch_targets, _read

WORKER = Path(__file__).with_name("compression_worker.py")

#: sha256 over all (key, bytes) of ``results(seed=2026)``. Changing it changes the wire
#: format or the decompression arithmetic: a protocol change, so bump it only on purpose.
GOLDEN = "ee2ea458b5d98edb9e438cf3210f908f0f5a9dbffa6935ceae199034d3a52281"


def _run_worker(out_dir: Path, extra_env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, str(WORKER), str(out_dir)], env={**os.environ, **extra_env}
    )


def test_separate_processes_decompress_identically(tmp_path: Path) -> None:
    plain = _run_worker(tmp_path / "a", {"PYTHONHASHSEED": "1"})
    no_simd = _run_worker(
        tmp_path / "b",
        {
            "PYTHONHASHSEED": "2",
            "NPY_DISABLE_CPU_FEATURES": " ".join(_dispatch_targets()),
            "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1",
            "OPENBLAS_CORETYPE": "Prescott",
        },
    )
    assert plain.wait(timeout=120) == 0 and no_simd.wait(timeout=120) == 0
    a, b = _read(tmp_path / "a"), _read(tmp_path / "b")
    assert a == b
    here = {key.replace(":", "_"): value for key, value in results(seed=2026).items()}
    assert here == a


def test_bytes_match_the_recorded_digest() -> None:
    recorded = digest(results(seed=2026))
    print(f"compression golden digest: {recorded}")
    assert recorded == GOLDEN


def test_wire_bytes_are_smaller() -> None:
    res = results(seed=2026)
    for i in range(8):
        full = len(res[f"fp16-delta-{i}"])
        assert len(res[f"fp16-wire-{i}"]) < 0.55 * full
        assert len(res[f"int8-wire-{i}"]) < 0.3 * full
