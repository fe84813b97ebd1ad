"""One consistent snapshot of a federation's events, for the auditor.

Every query stops at the same block, so a history read while the federation keeps running
is still consistent: a round cannot appear accepted without the votes that accepted it.
"""

from __future__ import annotations

from typing import TypeVar, cast

from daofed.chain import ChainEvent, Federation
from daofed.chain.events import query_logs
from daofed.chain.tx import rpc_errors

E = TypeVar("E", bound=ChainEvent)


class EventLog:
    """A contract's events from its deploy block up to ``to_block`` (default: the latest)."""

    def __init__(self, federation: Federation, to_block: int | None = None) -> None:
        self.federation = federation
        self._cache: dict[type[ChainEvent], list[ChainEvent]] = {}
        with rpc_errors(federation.w3, "reading the latest block"):
            self.to_block = federation.w3.eth.block_number if to_block is None else to_block
            self.chain_id = int(federation.w3.eth.chain_id)

    def has_event(self, name: str) -> bool:
        """Whether the contract's ABI declares event ``name`` (older contracts lack some)."""
        return any(
            item.get("type") == "event" and item.get("name") == name
            for item in self.federation.contract.abi
        )

    def all(self, kind: type[E]) -> list[E]:
        """Every ``kind`` event from the deploy block to the snapshot block, oldest first.

        Each kind is queried once per snapshot; later calls return the same events.
        """
        if kind not in self._cache:
            with rpc_errors(self.federation.w3, f"reading {kind.__name__} events"):
                self._cache[kind] = list(
                    query_logs(
                        self.federation.contract,
                        kind,
                        from_block=self.federation.deploy_block,
                        to_block=self.to_block,
                    )
                )
        return cast(list[E], list(self._cache[kind]))  # cached under its own kind
