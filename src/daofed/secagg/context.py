"""The round a secure aggregation belongs to, and how members are named in it.

Every key derivation, commitment and encryption starts with :meth:`Context.label`, so a
message, share or mask made for one round (chain, contract, round number) is useless in any
other. Members are ordered by lower-case address; a member's Shamir index is 1 + its
position, so every party assigns the same index to the same member without talking.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from daofed.secagg.errors import SecAggError

PROTOCOL_TAG = b"daofed-secagg-v1"
"""First bytes of every label: bumping it makes old and new rounds' material unrelated."""

MAX_MEMBERS = 0xFFFF
"""Member counts travel as two bytes in messages."""

_ADDRESS = re.compile(r"0x[0-9a-f]{40}")


def normalize(address: str) -> str:
    """Return ``address`` in lower case after checking it is a 20-byte hex address."""
    lowered = address.lower() if isinstance(address, str) else ""
    if not _ADDRESS.fullmatch(lowered):
        raise SecAggError(
            "bad-address", f"{address!r} is not an address (0x followed by 40 hex digits)"
        )
    return lowered


def address_bytes(address: str) -> bytes:
    """Return the 20 bytes of ``address``: how addresses enter hashes, keys and messages."""
    return bytes.fromhex(normalize(address)[2:])


def address_text(raw: bytes) -> str:
    """Inverse of :func:`address_bytes` (lower case)."""
    return "0x" + raw.hex()


@dataclass(frozen=True)
class Context:
    """One round's secure-aggregation parameters, as every member and the audit see them.

    ``members`` is stored lower-cased and sorted (the Shamir index order); ``threshold``
    is how many shares rebuild a secret: fewer colluders learn nothing about one update,
    this many can (choose it above half the members, see docs/privacy.md).
    """

    chain_id: int
    contract: bytes
    round: int
    members: tuple[str, ...]
    threshold: int

    def __post_init__(self) -> None:
        for name in ("chain_id", "round", "threshold"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise SecAggError("bad-context", f"{name} must be an int, got {value!r}")
        if not 0 <= self.chain_id < 2**64 or not 0 <= self.round < 2**64:
            raise SecAggError("bad-context", "chain_id and round must fit in 8 unsigned bytes")
        if not isinstance(self.contract, bytes) or len(self.contract) != 20:
            raise SecAggError("bad-context", "contract must be the 20 bytes of its address")
        members = tuple(sorted(normalize(member) for member in self.members))
        if len(set(members)) != len(members):
            raise SecAggError("bad-context", "a member is listed twice")
        if not 2 <= len(members) <= MAX_MEMBERS:
            raise SecAggError(
                "bad-context",
                f"secure aggregation needs 2 to {MAX_MEMBERS} members, got {len(members)}",
            )
        if not 2 <= self.threshold <= len(members):
            raise SecAggError(
                "bad-context",
                f"threshold {self.threshold} must be between 2 and the number of members "
                f"({len(members)}); with 1 any single member could unmask anyone",
            )
        object.__setattr__(self, "members", members)

    @cached_property
    def _positions(self) -> dict[str, int]:
        return {member: position for position, member in enumerate(self.members)}

    def label(self) -> bytes:
        """Canonical bytes naming this round: tag | chain id | contract | round."""
        return (
            PROTOCOL_TAG
            + self.chain_id.to_bytes(8, "big")
            + self.contract
            + self.round.to_bytes(8, "big")
        )

    def position(self, member: str) -> int:
        """0-based position of ``member`` in :attr:`members`; SecAggError if not a member."""
        found = self._positions.get(normalize(member))
        if found is None:
            raise SecAggError("unknown-member", f"{member} is not a member of round {self.round}")
        return found

    def index(self, member: str) -> int:
        """Shamir index of ``member``: 1 + its position."""
        return self.position(member) + 1

    def is_member(self, member: str) -> bool:
        """Whether ``member`` (any case) takes part in this round."""
        try:
            self.position(member)
        except SecAggError:
            return False
        return True
