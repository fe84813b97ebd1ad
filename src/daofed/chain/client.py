"""The plumbing every typed contract wrapper shares: calls, signed transactions, event queries.

Views and transactions go through here so that every failure comes back as a daofed
error naming the node, and every revert as a decoded :class:`ContractRevert`.
"""

from __future__ import annotations

from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract
from web3.logs import DISCARD
from web3.types import TxParams, TxReceipt

from daofed.chain.artifacts import load_artifact
from daofed.chain.events import E, from_log, query_logs
from daofed.chain.revert import RevertDecoder
from daofed.chain.tx import result_of, rpc_errors, send_transaction
from daofed.chain.values import TxResult
from daofed.chain.views import view_functions
from daofed.errors import ChainError


class ContractClient:
    """One deployed contract of a daofed artifact, on one chain."""

    ARTIFACT = "Federation"

    def __init__(self, w3: Web3, address: str, deploy_block: int) -> None:
        artifact = load_artifact(self.ARTIFACT)
        self.w3 = w3
        self.address = to_checksum_address(address)
        self.deploy_block = deploy_block
        # structs come back as named tuples: read by name, never by position
        self.contract: Contract = w3.eth.contract(
            address=self.address, abi=artifact.abi, decode_tuples=True
        )
        self._decoder = RevertDecoder(artifact.abi)
        self._views = view_functions(artifact.abi)

    def events(
        self,
        kind: type[E],
        *,
        from_block: int | None = None,
        to_block: int | None = None,
        **filters: Any,
    ) -> list[E]:
        """Return events of ``kind`` in ``from_block..to_block``, oldest first.

        The range defaults to deployment through the latest block. ``filters`` match
        indexed arguments by their Solidity names (``round=3``).
        """
        with rpc_errors(self.w3, f"reading {kind.__name__} events"):
            return list(
                query_logs(
                    self.contract,
                    kind,
                    from_block=self.deploy_block if from_block is None else from_block,
                    to_block=self.w3.eth.block_number if to_block is None else to_block,
                    filters=filters,
                )
            )

    def block_number(self) -> int:
        """Return the latest block's number."""
        with rpc_errors(self.w3, "reading the block number"):
            return int(self.w3.eth.block_number)

    def _view(self, name: str, *args: Any, block: int | None = None) -> Any:
        """Call the view ``name`` with ``args`` at ``block`` (default: the latest)."""
        view = self._views[name]
        call: TxParams = {"to": self.address, "data": HexBytes(view.encode(args))}
        with rpc_errors(self.w3, f"reading {name}", self._decoder):
            answer = self.w3.eth.call(call, "latest" if block is None else block)
        return view.decode(bytes(answer), self.address)

    def _send(self, account: LocalAccount, call: Any, what: str, gas_floor: int = 0) -> TxResult:
        return result_of(self._transact(account, call, what, gas_floor))

    def _transact(
        self, account: LocalAccount, call: Any, what: str, gas_floor: int = 0
    ) -> TxReceipt:
        return send_transaction(
            self.w3, account, call, self._decoder, what=what, gas_floor=gas_floor
        )

    def _event_in(self, receipt: TxReceipt, kind: type[E]) -> E:
        """Find the one event of ``kind`` this contract emitted in ``receipt``'s transaction."""
        event = self.contract.events[kind.__name__]()
        found = [
            from_log(kind, log)
            for log in event.process_receipt(receipt, errors=DISCARD)
            if log["address"] == self.address
        ]
        if len(found) != 1:
            raise ChainError(
                f"expected one {kind.__name__} event in transaction "
                f"{HexBytes(receipt['transactionHash']).to_0x_hex()}, found {len(found)}"
            )
        return found[0]
