"""Peers' updates fetched while a member waits: in the background, as they are submitted.

A member that has submitted waits for the others. Every update that appears on chain
meanwhile is fetched, verified and decoded by a small thread pool, so when the vote
phase opens only the last ones remain. It is only a cache: the aggregation takes what it
holds and fetches the rest itself, so a failed prefetch (a store down, a bad blob) costs
just the retry there, and an agent restarted after a kill starts with it empty.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor

from daofed.learning.compression import Compression
from daofed.protocol.aggregate import FETCH_WORKERS, fetch_delta
from daofed.storage import BlobRef, BlobStore, ModelSpec, Weights


class Prefetcher:
    """Fetch and decode updates on worker threads; hand over the ones that arrived intact."""

    def __init__(self, store: BlobStore, workers: int = FETCH_WORKERS) -> None:
        self._store = store
        self._workers = workers
        self._pool: ThreadPoolExecutor | None = None  # started by the first fetch
        self._fetches: dict[bytes, Future[Weights]] = {}

    def fetch(self, ref: BlobRef, spec: ModelSpec, compression: Compression) -> None:
        """Start fetching ``ref`` (decoded as ``compression`` says) unless it already is."""
        if ref.digest in self._fetches:
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="daofed-prefetch")
        self._fetches[ref.digest] = self._pool.submit(
            fetch_delta, self._store, ref, spec, compression
        )

    def held(self) -> dict[bytes, Weights]:
        """Wait for the fetches under way; return the decoded updates by digest.

        Failed fetches are left out: the aggregation fetches those again and decides
        whether the sender is at fault (excluded) or the store is (retried later).
        """
        return {
            digest: fetch.result()
            for digest, fetch in self._fetches.items()
            if fetch.exception() is None
        }

    def clear(self) -> None:
        """Forget every fetch (a new round opened); those not started yet never run."""
        for fetch in self._fetches.values():
            fetch.cancel()
        self._fetches = {}
