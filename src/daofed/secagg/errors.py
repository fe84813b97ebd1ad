"""What secure aggregation reports when it cannot go on, and what it reports and goes on.

An error (:class:`SecAggError`) stops the computation: a malformed message, a round that
cannot be unmasked, an input the arithmetic cannot carry. A :class:`Finding` records a
peer's misbehaviour that the protocol tolerates (a revealed share that fails its
commitment is ignored), so the audit can name the sender without the round failing.
"""

from __future__ import annotations

from dataclasses import dataclass

from daofed.errors import LearningError


class SecAggError(LearningError):
    """Secure aggregation cannot proceed with the given inputs.

    ``reason`` is a short machine-readable tag (``"truncated"``, ``"too-few-shares"``,
    ``"non-finite"`` ...) for logs, status and audit output; the message says what failed
    and what to do.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Finding:
    """A peer's message (or part of it) that was ignored, and why.

    ``sender`` sent the message; ``dealer`` is the member whose share was concerned, when
    the finding is about one share; ``reason`` a tag like ``"bad-share"``.
    """

    sender: str
    dealer: str | None
    reason: str
    detail: str
