"""Peers' updates fetched while a member waits: in the background, as they are submitted.

A member that has submitted waits for the others. Every update that appears on chain
meanwhile is fetched, verified and decoded by a small thread pool, so when the vote
phase opens only the last ones remain. It is only a cache: the aggregation takes what it
holds (updates, and the sender's faults it found: a bad or missing blob) and fetches the
rest itself, so a prefetch that failed for this member's own reasons (its store down)
costs just the retry there, and an agent restarted after a kill starts with it empty.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor

from daofed.errors import StorageError
from daofed.learning.compression import Compression
from daofed.protocol.aggregate import FETCH_WORKERS, SENDER_FAULTS, fetch_delta
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

    def held(self) -> dict[bytes, Weights | StorageError]:
        """Wait for the fetches under way; return by digest what each found.

        A decoded update, or the sender's fault the fetch found (the aggregation excludes
        it without fetching again: a blob nobody provides costs one search, not two).
        Fetches that failed for this member's own reasons (its store down) are left out:
        the aggregation fetches those again.
        """
        found: dict[bytes, Weights | StorageError] = {}
        for digest, fetch in self._fetches.items():
            error = fetch.exception()
            if error is None:
                found[digest] = fetch.result()
            elif isinstance(error, SENDER_FAULTS):
                found[digest] = error
        return found

    def clear(self) -> None:
        """Forget every fetch (a new round opened); those not started yet never run."""
        for fetch in self._fetches.values():
            fetch.cancel()
        self._fetches = {}
