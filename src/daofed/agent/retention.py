"""What a member's IPFS node keeps, and for how long: the federation's retention policy.

Pinned for good, so garbage collection never drops them:

- the member's own updates (``put`` pins them): the member answers for them in every
  audit, and each one is needed to re-compute its round;
- every accepted model: the base of a round, and the record of the federation's history.

Pinned while their round is open, released when it ends (accepted or closed):

- the peers' updates this member verified and aggregated, so that while the round runs
  its node can serve them by bitswap to members who have not fetched them yet, even if
  the author's node went down;
- this member's own aggregate, unless the quorum accepted it (then it is the next base).

Only pins are held in memory: an agent restarted in the middle of a round keeps that
round's peers' updates pinned (space, never a missing blob). The local store keeps
everything, so there is nothing to do for it.
"""

from __future__ import annotations

from daofed.errors import StorageError
from daofed.storage import BlobRef, BlobStore
from daofed.storage.ipfs import IpfsStore


class Retention:
    """Pins and releases blobs on the member's node as rounds go by (see the module doc)."""

    def __init__(self, store: BlobStore) -> None:
        self._node = store if isinstance(store, IpfsStore) else None
        self._round_pins: dict[int, list[BlobRef]] = {}  # released when the round ends

    @property
    def node(self) -> IpfsStore | None:
        """The member's IPFS node, whose pins this manages (None: a store without pins)."""
        return self._node

    def keep(self, ref: BlobRef, *, max_bytes: int | None = None) -> None:
        """Keep ``ref`` for good (an accepted model), fetching it from peers if needed."""
        if self._node is not None:
            self._node.pin(ref, max_bytes=max_bytes)

    def hold(self, round_number: int, refs: list[BlobRef]) -> None:
        """Keep ``refs`` (peers' updates, the member's aggregate) until the round ends."""
        if self._node is None:
            return
        for ref in refs:
            self._node.pin(ref)
        self._round_pins.setdefault(round_number, []).extend(refs)

    def release(self, before_round: int, *, keep: BlobRef | None = None) -> None:
        """Release what rounds before ``before_round`` held, except ``keep`` (the new base).

        A blob that cannot be unpinned now is tried again at the next round's end: it
        only costs space meanwhile.
        """
        if self._node is None:
            return
        for round_number in [r for r in self._round_pins if r < before_round]:
            left: list[BlobRef] = []
            for ref in self._round_pins.pop(round_number):
                if keep is not None and ref.digest == keep.digest:
                    continue
                try:
                    self._node.unpin(ref)
                except StorageError:
                    left.append(ref)
            if left:
                self._round_pins[before_round - 1] = left
