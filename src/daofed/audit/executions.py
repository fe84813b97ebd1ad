"""Which proposal execution made which change: paired by their places in the transaction.

``execute`` emits the change's event (ConfigChanged, MemberAdded or MemberRemoved), then
ProposalExecuted. Anyone may execute, also through a contract of their own that executes
several proposals in one transaction, so a change is not "the" change of its transaction:
it belongs to the first ProposalExecuted that follows it in the same transaction.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable

Position = tuple[str, int]
"""Where an event was emitted: its transaction hash and its log index in the block."""


def pair_changes(
    changes: Iterable[Position], executions: Iterable[Position]
) -> dict[Position, Position]:
    """Map each change to the execution that made it; a change no execution follows is left out."""
    by_tx: dict[str, list[int]] = defaultdict(list)
    for tx_hash, log_index in executions:
        by_tx[tx_hash].append(log_index)
    for indices in by_tx.values():
        indices.sort()
    made: dict[Position, Position] = {}
    for tx_hash, log_index in changes:
        indices = by_tx.get(tx_hash, [])
        after = bisect_right(indices, log_index)
        if after < len(indices):
            made[(tx_hash, log_index)] = (tx_hash, indices[after])
    return made
