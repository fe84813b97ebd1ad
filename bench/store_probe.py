"""One blob-store operation in a fresh process, timed, with its peak memory.

Run by :mod:`bench.store` as ``python -m bench.store_probe``. A fresh
process per operation is what makes the memory figure honest: the kernel's high-water
mark (``VmHWM``) is reset just before the operation (``/proc/self/clear_refs``), so the
peak seen afterwards belongs to that operation alone, counting native buffers (httpx,
hashlib, file reads) that tracemalloc would miss. Linux only, like the benchmarks.

Prints one JSON object: seconds, base and peak resident memory in bytes, and the digest.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from daofed.storage import BlobRef, BlobStore, IpfsStore, LocalStore

IPFS_TIMEOUT = 600.0  # seconds; a 200 MB blob through a slow node takes a while


def memory() -> tuple[int, int]:
    """Return the current and peak resident set size of this process, in bytes."""
    fields = dict(
        line.split(":", 1)
        for line in Path("/proc/self/status").read_text().split("\n")
        if ":" in line
    )
    return int(fields["VmRSS"].split()[0]) * 1024, int(fields["VmHWM"].split()[0]) * 1024


def reset_peak() -> None:
    """Make the kernel's peak RSS start again from the current RSS."""
    Path("/proc/self/clear_refs").write_text("5")


def blob(size: int, seed: int) -> bytes:
    """``size`` pseudo-random bytes (incompressible, every page touched)."""
    return np.random.default_rng(seed).bytes(size)


def open_store(backend: str, target: str) -> BlobStore:
    """Open the store to probe: ``local`` in directory ``target``, ``ipfs`` at API ``target``."""
    if backend == "local":
        return LocalStore(Path(target))
    return IpfsStore(target, timeout=IPFS_TIMEOUT)


def main() -> None:
    """Run one operation as the command line says and print its measurements."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=("local", "ipfs"), required=True)
    parser.add_argument("--target", required=True)
    parser.add_argument("--op", choices=("put", "get"), required=True)
    parser.add_argument("--size", type=int, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--digest", help="hex digest to get")
    parser.add_argument("--locator", help="locator to get")
    args = parser.parse_args()
    store = open_store(args.backend, args.target)
    data = blob(args.size, args.seed) if args.op == "put" else b""
    reset_peak()
    base, _ = memory()
    start = time.perf_counter()
    if args.op == "put":
        ref = store.put(data)
    else:
        ref = BlobRef.from_hex(args.digest, args.locator)
        data = store.get(ref)
    seconds = time.perf_counter() - start
    _, peak = memory()
    answer = {"seconds": seconds, "base": base, "peak": peak, "digest": ref.hex, "size": len(data)}
    answer["locator"] = ref.locator
    print(json.dumps(answer))


if __name__ == "__main__":
    main()
