"""Blob store throughput (put and get, MB/s) and peak memory, against plain sha256.

Every put and get hashes the whole blob (the digest is the blob's identity), so sha256 of
the same bytes is the speed a store cannot beat; the table shows how close each comes.
Three stores: the local directory, one IPFS node (put and get on the same node), and two
members' IPFS nodes (:data:`BITSWAP`: put on the first, get on a second node that lacks
the blob and fetches it from the first by bitswap, over loopback TCP).
Each operation runs in its own process (:mod:`bench.store_probe`) so its peak
memory can be told apart: a 200 MB blob must not be held more than twice at once. The
multiple counts every copy alive at the peak, including the caller's own (the bytes
handed to put, or returned by get). 1 MB = 10**6 bytes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench import ROOT
from bench.stats import time_best
from bench.store_probe import blob
from daofed.errors import StorageError
from daofed.storage.ipfs import IpfsStore
from daofed.storage.ipfs_node import IpfsNode

MB = 1_000_000
FULL_SIZES_MB = (1, 20, 50, 200)
QUICK_SIZES_MB = (1, 8)
MAX_COPIES = 2.0
"""The goal: a blob must not be held more than twice in memory."""
PROBE_TIMEOUT = 900.0
BITSWAP = "ipfs, two nodes (bitswap)"


@dataclass(frozen=True)
class ProbeResult:
    """What one probe process measured."""

    seconds: float
    base: int  # resident bytes just before the operation
    peak: int  # highest resident bytes during it
    digest: str
    locator: str
    size: int


@dataclass(frozen=True)
class StoreRow:
    """One backend and blob size: best put/get speed, sha256 speed, worst memory multiple."""

    backend: str
    size_mb: int
    put_mb_s: float
    get_mb_s: float
    sha256_mb_s: float
    put_copies: float
    get_copies: float

    @property
    def meets_memory_goal(self) -> bool:
        """Neither operation held more than :data:`MAX_COPIES` copies."""
        return max(self.put_copies, self.get_copies) <= MAX_COPIES


@dataclass(frozen=True)
class StoreResult:
    """Every backend at every size."""

    rows: tuple[StoreRow, ...]


def probe(backend: str, target: str, op: str, size: int, **extra: str) -> ProbeResult:
    """Run one operation in a fresh process and read its measurements."""
    command = [sys.executable, "-m", "bench.store_probe", "--backend", backend]
    command += ["--target", target, "--op", op, "--size", str(size)]
    for key, value in extra.items():
        command += [f"--{key}", value]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=PROBE_TIMEOUT, check=False, cwd=ROOT
    )
    if done.returncode != 0:
        raise StorageError(f"store probe {' '.join(command[3:])} failed:\n{done.stderr[-2000:]}")
    return ProbeResult(**json.loads(done.stdout.strip().splitlines()[-1]))


def sha256_rate(size: int, repeats: int) -> float:
    """MB/s of hashlib.sha256 over ``size`` bytes in this process (best of ``repeats``)."""
    data = blob(size, seed=0)
    timed, _ = time_best(lambda: hashlib.sha256(data).digest(), repeats)
    return size / timed.best / MB


def measure_backend(
    backend: str, target: str, size_mb: int, repeats: int, *, get_target: str | None = None
) -> StoreRow:
    """Put and get fresh blobs of ``size_mb`` ``repeats`` times; check every round trip.

    With ``get_target`` (a second IPFS node connected to ``target``), each get runs there:
    the row is :data:`BITSWAP`, and its blobs differ from the one-node row's, so the
    second node never holds one before it is asked for it.
    """
    size = size_mb * MB
    first_seed = 1000 * size_mb + (500 if get_target else 0)
    puts: list[ProbeResult] = []
    gets: list[ProbeResult] = []
    for seed in range(first_seed, first_seed + repeats):
        put = probe(backend, target, "put", size, seed=str(seed))
        expected = hashlib.sha256(blob(size, seed)).hexdigest()
        if put.digest != expected:
            raise AssertionError(f"{backend} put returned digest {put.digest}, not {expected}")
        got = probe(
            backend, get_target or target, "get", size, digest=put.digest, locator=put.locator
        )
        if got.digest != expected or got.size != size:
            raise AssertionError(f"{backend} get of {put.locator} did not return the blob")
        puts.append(put)
        gets.append(got)
    return StoreRow(
        backend=BITSWAP if get_target else backend,
        size_mb=size_mb,
        put_mb_s=size / min(p.seconds for p in puts) / MB,
        get_mb_s=size / min(g.seconds for g in gets) / MB,
        sha256_mb_s=sha256_rate(size, repeats=3),
        # put: the caller's bytes are in ``base`` already, so add that one copy
        put_copies=max(1 + (p.peak - p.base) / size for p in puts),
        get_copies=max((g.peak - g.base) / size for g in gets),
    )


def measure_stores(
    ipfs_api_url: str | None, sizes_mb: tuple[int, ...], repeats: int
) -> StoreResult:
    """Measure the local store (in a temp dir) and, if given, the IPFS node at the URL.

    With a node, a second one is started and connected to it for the :data:`BITSWAP` rows.
    """
    rows = []
    with contextlib.ExitStack() as stack:
        root = stack.enter_context(tempfile.TemporaryDirectory(prefix="daofed-bench-store-"))
        fetcher = None if ipfs_api_url is None else stack.enter_context(peer_node(ipfs_api_url))
        for size_mb in sizes_mb:
            rows.append(measure_backend("local", str(Path(root)), size_mb, repeats))
            if ipfs_api_url is not None and fetcher is not None:
                rows.append(measure_backend("ipfs", ipfs_api_url, size_mb, repeats))
                rows.append(
                    measure_backend(
                        "ipfs", ipfs_api_url, size_mb, repeats, get_target=fetcher.api_url
                    )
                )
    return StoreResult(tuple(rows))


@contextlib.contextmanager
def peer_node(holder_api_url: str) -> Iterator[IpfsNode]:
    """Start a second IPFS node, swarm-connected to the one at ``holder_api_url``."""
    with IpfsStore(holder_api_url) as holder, IpfsNode.start() as node:
        with IpfsStore(node.api_url) as fetcher:
            fetcher.connect(holder.info().addresses[0])
        yield node
