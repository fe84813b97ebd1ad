"""The explorer's verify action: ``daofed audit --verify`` in the background, with progress.

Verifying re-fetches every blob and re-runs every round's aggregation, which takes
minutes on a long history: it runs in a thread of its own on the snapshot the person
was looking at when they asked, and reports how many rounds are done so the page can
show it moving. The result is the audit layer's own (:func:`~daofed.audit.check_code`
and :func:`~daofed.audit.verify_history`), so the page and the CLI cannot disagree.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum

from daofed.audit import CodeCheck, History, Verification, check_code, verify_history
from daofed.chain import Federation
from daofed.errors import DaofedError
from daofed.storage import BlobStore


class JobState(StrEnum):
    """Where the verification stands."""

    IDLE = "idle"  # never asked for
    RUNNING = "running"
    DONE = "done"  # ``verification`` and ``code`` hold the result
    FAILED = "failed"  # ``error`` says why (the store does not hold the genesis model, ...)


@dataclass(frozen=True)
class VerifyProgress:
    """A moment of the verification: rounds done of ``total``, and the result once done."""

    state: JobState = JobState.IDLE
    done: int = 0
    total: int = 0
    block: int | None = None  # the history's last block: rounds after it are unverified
    code: CodeCheck | None = None
    verification: Verification | None = None
    error: str | None = None

    @property
    def ok(self) -> bool | None:
        """Whether the code and every round check out; None until done."""
        if self.verification is None or self.code is None:
            return None
        return self.verification.ok and self.code.ok


class VerifyJob:
    """One verification at a time over a history; asking again while it runs changes nothing."""

    def __init__(
        self,
        federation: Federation,
        store: BlobStore | None,
        *,
        on_finish: Callable[[], None] = lambda: None,
    ) -> None:
        self.federation = federation
        self.store = store
        self.progress = VerifyProgress()
        self._on_finish = on_finish
        self._lock = threading.Lock()

    def start(self, history: History) -> bool:
        """Verify ``history`` in the background; False if a verification is already running."""
        with self._lock:
            if self.progress.state is JobState.RUNNING:
                return False
            if self.store is None:
                self.progress = VerifyProgress(
                    JobState.FAILED,
                    error="verifying needs the federation's blob store: restart the explorer "
                    "with --store local:DIR or --store ipfs:URL",
                )
                return False
            self.progress = VerifyProgress(
                JobState.RUNNING, total=len(history.rounds), block=history.latest_block
            )
        threading.Thread(
            target=self._run, args=(history, self.store), name="explorer-verify", daemon=True
        ).start()
        return True

    def _run(self, history: History, store: BlobStore) -> None:
        try:
            code = check_code(self.federation, history.latest_block)
            verification = verify_history(history, store, progress=self._advance)
        except DaofedError as error:
            self.progress = replace(self.progress, state=JobState.FAILED, error=str(error))
        else:
            self.progress = replace(
                self.progress, state=JobState.DONE, code=code, verification=verification
            )
        self._on_finish()

    def _advance(self, done: int, total: int) -> None:
        self.progress = replace(self.progress, done=done, total=total)
