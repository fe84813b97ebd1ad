"""What the audit reports about a round when something does not hold."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    """One thing that does not match, said exactly (``reason`` is a stable tag)."""

    round: int
    member: str | None  # the member (or account) whose action is concerned, if any
    digest: bytes | None  # the model or update concerned; None for a commitment
    reason: str
    message: str


def short(digest: bytes) -> str:
    """Twelve hex digits name a digest in a message; the finding carries all 32 bytes."""
    return digest.hex()[:12] + ".."
