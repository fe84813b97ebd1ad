"""One consistent snapshot of a federation's events, for the auditor.

Every query stops at the same block, so a history read while the federation keeps running
is still consistent: a round cannot appear accepted without the votes that accepted it.
Besides the events it reads what they leave out and the audit needs: when each block was
mined (to check deadlines) and who sent each transaction (who executed or closed what).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar, cast

from web3 import Web3
from web3.exceptions import Web3TypeError

from daofed.chain import ChainEvent, Federation
from daofed.chain.events import query_logs
from daofed.chain.tx import rpc_errors

E = TypeVar("E", bound=ChainEvent)
T = TypeVar("T")

BATCH_SIZE = 200
"""Requests per JSON-RPC batch when asking for many blocks or transactions."""


class EventLog:
    """A contract's events from its deploy block up to ``to_block`` (default: the latest)."""

    def __init__(self, federation: Federation, to_block: int | None = None) -> None:
        self.federation = federation
        self._cache: dict[type[ChainEvent], list[ChainEvent]] = {}
        with rpc_errors(federation.w3, "reading the latest block"):
            self.to_block = federation.w3.eth.block_number if to_block is None else to_block
            self.chain_id = int(federation.w3.eth.chain_id)
        self.to_timestamp = block_timestamps(federation.w3, [self.to_block])[self.to_block]

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

    def timestamps(self, events: Iterable[ChainEvent]) -> dict[int, int]:
        """Map the block of each of ``events`` to the unix time it was mined at."""
        return block_timestamps(self.federation.w3, (event.block_number for event in events))

    def senders(self, events: Iterable[ChainEvent]) -> dict[str, str]:
        """Map the transaction of each of ``events`` to its sender (``from``) address."""
        return senders(self.federation.w3, [event.tx_hash for event in events])


def block_timestamps(w3: Web3, blocks: Iterable[int]) -> dict[int, int]:
    """Map each of ``blocks`` to the unix time it was mined at."""
    numbers = sorted(set(blocks))
    with rpc_errors(w3, "reading block timestamps"):
        found = _each(w3, w3.eth.get_block, numbers)
    return {number: int(block["timestamp"]) for number, block in zip(numbers, found, strict=True)}


def senders(w3: Web3, tx_hashes: Iterable[str]) -> dict[str, str]:
    """Map each of ``tx_hashes`` to the address that sent it."""
    hashes = sorted(set(tx_hashes))
    with rpc_errors(w3, "reading transactions"):
        found = _each(w3, w3.eth.get_transaction, hashes)
    return {tx_hash: str(tx["from"]) for tx_hash, tx in zip(hashes, found, strict=True)}


def gas_used(w3: Web3, tx_hashes: Iterable[str]) -> dict[str, int]:
    """Map each of ``tx_hashes`` to the gas its transaction used (from its receipt)."""
    hashes = sorted(set(tx_hashes))
    with rpc_errors(w3, "reading transaction receipts"):
        found = _each(w3, w3.eth.get_transaction_receipt, hashes)
    return {tx_hash: int(r["gasUsed"]) for tx_hash, r in zip(hashes, found, strict=True)}


def _each(w3: Web3, method: Callable[[Any], T], args: Sequence[Any]) -> list[T]:
    """``[method(arg) for arg in args]``, sent in JSON-RPC batches where the node takes them.

    A history has a block per submission and vote: one request each would take minutes
    from a remote node; batched they take a few round trips.
    """
    results: list[T] = []
    try:
        for start in range(0, len(args), BATCH_SIZE):
            with w3.batch_requests() as batch:
                for arg in args[start : start + BATCH_SIZE]:
                    batch.add(method(arg))
                results += cast(list[T], batch.execute())
    except Web3TypeError:  # a provider that cannot batch (the embedded chain)
        return [method(arg) for arg in args]
    return results
