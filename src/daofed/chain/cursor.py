"""Follow one kind of event as the chain grows, reading each block once.

A member keeps views that events update (where the members' nodes listen, which
encryption keys they registered) for as long as it runs. Re-reading them from the
deployment block at every round would make each round cost more than the last; a cursor
reads only the blocks it has not read yet.
"""

from __future__ import annotations

from typing import Generic

from daofed.chain.client import ContractClient
from daofed.chain.events import E


class EventCursor(Generic[E]):
    """Events of one ``kind`` from the deployment block on, handed out block range by range."""

    def __init__(self, client: ContractClient, kind: type[E]) -> None:
        self._client = client
        self._kind = kind
        self._next_block = client.deploy_block

    def read(self) -> list[E]:
        """Return the events of the blocks not read yet (up to the latest), oldest first."""
        head = self._client.block_number()
        if head < self._next_block:
            return []
        found = self._client.events(self._kind, from_block=self._next_block, to_block=head)
        self._next_block = head + 1
        return found
