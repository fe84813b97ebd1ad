"""One consistent snapshot of a federation's events, for the auditor.

Every query stops at the same block, so a history read while the federation keeps running
is still consistent: a round cannot appear accepted without the votes that accepted it.
Besides the events it reads what they leave out and the audit needs: when each block was
mined (to check deadlines) and who sent each transaction (who executed or closed what).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar, cast

from web3 import HTTPProvider, Web3
from web3.exceptions import Web3TypeError
from web3.types import RPCEndpoint

from daofed.chain import ChainEvent, Federation
from daofed.chain.events import query_logs
from daofed.chain.tx import rpc_errors
from daofed.errors import ChainError

E = TypeVar("E", bound=ChainEvent)
T = TypeVar("T")

BATCH_SIZE = 200
"""Requests per JSON-RPC batch when asking for many blocks or transactions."""


REREAD_BLOCKS = 64
"""Blocks below the previous head that :meth:`EventLog.advance` reads again.

A chain may replace its latest blocks (a reorganisation): events read from them may be
gone, and others in their place. Re-reading this many keeps a followed history true to
the chain on the networks daofed runs on, for the price of a few blocks per advance.
"""


class EventLog:
    """A contract's events from its deploy block up to ``to_block`` (default: the latest).

    The snapshot can be moved forward with :meth:`advance`: events of the blocks read
    before are kept, so following a running federation costs what is new, not the whole
    history again (decoding is the expensive part: about a millisecond per event).
    """

    def __init__(self, federation: Federation, to_block: int | None = None) -> None:
        self.federation = federation
        self._cache: dict[type[ChainEvent], list[ChainEvent]] = {}
        self._times: dict[int, int] = {}
        self._senders: dict[str, str] = {}
        with rpc_errors(federation.w3, "reading the chain id"):
            self.chain_id = int(federation.w3.eth.chain_id)
        self.to_block = federation.deploy_block - 1  # nothing read yet
        self.to_timestamp = 0
        self.advance(to_block)

    def advance(self, to_block: int | None = None) -> None:
        """Move the snapshot to ``to_block`` (default: the latest block).

        Each kind read so far is extended by the new blocks (and the last
        :data:`REREAD_BLOCKS`, in case they were replaced); moving back starts over.
        """
        w3 = self.federation.w3
        if to_block is None:
            with rpc_errors(w3, "reading the latest block"):
                to_block = int(w3.eth.block_number)
        reread = max(self.federation.deploy_block, self.to_block + 1 - REREAD_BLOCKS)
        if to_block < self.to_block:
            reread = self.federation.deploy_block
        self._times = {block: time for block, time in self._times.items() if block < reread}
        for kind, events in self._cache.items():
            kept = [event for event in events if event.block_number < reread]
            self._cache[kind] = kept + self._query(kind, reread, to_block)
        self.to_block = to_block
        self.to_timestamp = self._timestamps([to_block])[to_block]

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
            self._cache[kind] = self._query(kind, self.federation.deploy_block, self.to_block)
        return cast(list[E], list(self._cache[kind]))  # cached under its own kind

    def timestamps(self, events: Iterable[ChainEvent]) -> dict[int, int]:
        """Map the block of each of ``events`` to the unix time it was mined at."""
        return self._timestamps(event.block_number for event in events)

    def senders(self, events: Iterable[ChainEvent]) -> dict[str, str]:
        """Map the transaction of each of ``events`` to its sender (``from``) address."""
        hashes = {event.tx_hash for event in events}
        self._senders.update(senders(self.federation.w3, hashes - self._senders.keys()))
        return {tx_hash: self._senders[tx_hash] for tx_hash in hashes}

    def _timestamps(self, blocks: Iterable[int]) -> dict[int, int]:
        wanted = set(blocks)
        self._times.update(block_timestamps(self.federation.w3, wanted - self._times.keys()))
        return {block: self._times[block] for block in wanted}

    def _query(self, kind: type[ChainEvent], from_block: int, to_block: int) -> list[ChainEvent]:
        with rpc_errors(self.federation.w3, f"reading {kind.__name__} events"):
            return list(
                query_logs(self.federation.contract, kind, from_block=from_block, to_block=to_block)
            )


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
    """Map each of ``tx_hashes`` to the gas its transaction used (from its receipt).

    Over HTTP the receipts are read raw, in batches: web3's formatting of a receipt and
    its logs costs about a millisecond, ten times the request, and only ``gasUsed`` is
    wanted. Other providers (the embedded chain) get web3's own calls.
    """
    hashes = sorted(set(tx_hashes))
    with rpc_errors(w3, "reading transaction receipts"):
        if isinstance(w3.provider, HTTPProvider):
            raw = _raw_batches(w3.provider, "eth_getTransactionReceipt", hashes)
            used = [int(receipt["gasUsed"], 16) for receipt in raw]
        else:
            used = [int(r["gasUsed"]) for r in _each(w3, w3.eth.get_transaction_receipt, hashes)]
    return dict(zip(hashes, used, strict=True))


def _raw_batches(provider: HTTPProvider, method: str, args: Sequence[Any]) -> list[Any]:
    """Return the unformatted results of ``method(arg)`` for each of ``args``, in batches."""
    results: list[Any] = []
    for start in range(0, len(args), BATCH_SIZE):
        chunk = args[start : start + BATCH_SIZE]
        responses = provider.make_batch_request([(RPCEndpoint(method), [arg]) for arg in chunk])
        if not isinstance(responses, list):  # the node refused the whole batch
            raise ChainError(f"the node refused a batch of {method}: {responses.get('error')}")
        for arg, response in zip(chunk, responses, strict=True):
            if response.get("result") is None:
                raise ChainError(f"{method}({arg}) failed: {response.get('error', 'no result')}")
            results.append(response["result"])
    return results


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
