"""The one derivation of a member's training seed, shared by agents and simulations."""

from __future__ import annotations

import hashlib


def training_seed(seed: int, round_number: int, member: str) -> int:
    """Derive a seed per (run seed, round, member): independent across all three.

    A restarted member derives the same seed and so retrains the very same update (its
    digest may already be committed); simulations name members the way agents do
    (checksum addresses, or any stable string) and get the seeds agents would.
    """
    material = f"{seed}:{round_number}:{member.lower()}".encode()
    return int.from_bytes(hashlib.sha256(material).digest()[:8], "big") >> 1
