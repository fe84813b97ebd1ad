"""Send contract transactions signed locally, and read from the node, with errors that explain.

A member's key stays in this process: a transaction is built (gas estimated, which also
reveals a revert before anything is sent), signed with the LocalAccount, sent raw, and
waited for. Only failures on the way are retried, by the provider under daofed's one
retry policy (:mod:`daofed.retry`); a revert is final and comes back as a decoded
:class:`ContractRevert`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests
from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import TimeExhausted, TransactionNotFound, Web3Exception, Web3RPCError
from web3.types import TxParams, TxReceipt

from daofed.chain.revert import RevertDecoder
from daofed.chain.values import TxResult
from daofed.errors import ChainError, RpcUnavailable
from daofed.retry import TRANSIENT

UNREACHABLE: tuple[type[BaseException], ...] = (*TRANSIENT, OSError)
"""Failures that leave the node's answer unknown: the node is reported unreachable."""
RECEIPT_TIMEOUT = 120.0  # seconds
GAS_MARGIN = 1.25  # over the estimate, in case state moves between estimate and inclusion


def node_name(w3: Web3) -> str:
    """Name the node for messages: its URL, or the provider's name for an embedded chain."""
    return str(getattr(w3.provider, "endpoint_uri", None) or type(w3.provider).__name__)


_ERRNO_TEXT = re.compile(r"\[Errno -?\d+\] ([^'\")]+)")


def network_reason(error: BaseException) -> str:
    """Say in a few words why a request to a node failed ("Connection refused").

    requests and urllib3 nest the operating system's reason three exceptions deep and
    print every layer ("HTTPConnectionPool(host=..., port=...): Max retries exceeded with
    url: / (Caused by NewConnectionError(...))"): the reason is what a person can act on.
    """
    text = str(error)
    found = _ERRNO_TEXT.search(text)
    if found:
        return found.group(1).strip()
    if isinstance(error, requests.Timeout) or "timed out" in text.lower():
        return "timed out"
    if isinstance(error, requests.HTTPError) and error.response is not None:
        return f"HTTP {error.response.status_code}"
    return type(error).__name__


@contextmanager
def rpc_errors(w3: Web3, what: str, decoder: RevertDecoder | None = None) -> Iterator[None]:
    """Turn a node's failures while doing ``what`` into daofed errors naming the node."""
    try:
        yield
    except UNREACHABLE as error:
        raise RpcUnavailable(
            f"the node at {node_name(w3)} did not answer while {what} "
            f"({network_reason(error)}): "
            "check that it is running and reachable"
        ) from None
    except Exception as error:
        revert = decoder.from_exception(error) if decoder else None
        if revert is not None:
            raise revert from None
        if isinstance(error, Web3Exception):
            raise ChainError(f"{what} failed at {node_name(w3)}: {error}") from None
        raise


def send_transaction(
    w3: Web3,
    account: LocalAccount,
    call: Any,  # a ContractFunction or ContractConstructor with its arguments bound
    decoder: RevertDecoder,
    *,
    what: str,
    gas_floor: int = 0,
) -> TxReceipt:
    """Build, sign with ``account``, send and wait for a transaction; return its receipt.

    ``gas_floor`` covers calls whose cost depends on who comes first (the vote that
    reaches quorum also opens the next round): unused gas is not charged.
    """
    with rpc_errors(w3, f"preparing {what}", decoder):
        nonce = w3.eth.get_transaction_count(account.address, "pending")
        tx: TxParams = call.build_transaction({"from": account.address, "nonce": nonce})
    tx["gas"] = max(int(tx["gas"] * GAS_MARGIN), gas_floor)
    signed = account.sign_transaction(tx)  # type: ignore[arg-type]
    tx_hash = _send_raw(w3, signed.raw_transaction, signed.hash, decoder, what)
    with rpc_errors(w3, f"waiting for {what}", decoder):
        try:
            receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=RECEIPT_TIMEOUT)
        except TimeExhausted:
            raise ChainError(
                f"{what} ({tx_hash.to_0x_hex()}) was not mined within {RECEIPT_TIMEOUT:.0f} s "
                f"by {node_name(w3)}: check that the node mines blocks"
            ) from None
    if receipt["status"] != 1:
        _explain_failure(w3, tx, receipt, decoder, what)
    return receipt


def result_of(receipt: TxReceipt) -> TxResult:
    """Keep the parts of a receipt callers need."""
    return TxResult(
        tx_hash=HexBytes(receipt["transactionHash"]).to_0x_hex(),
        block_number=receipt["blockNumber"],
        gas_used=receipt["gasUsed"],
    )


def _send_raw(
    w3: Web3, signed_raw: bytes, tx_hash: bytes, decoder: RevertDecoder, what: str
) -> HexBytes:
    """Send a signed transaction; a node that already has it has accepted it.

    The provider resends a transaction whose answer was lost on the way; the node then
    refuses the copy ("already known" while pending, "nonce too low" once mined). Asking
    the node for the transaction's hash tells that apart from a real refusal, whatever
    words the node uses.
    """
    with rpc_errors(w3, f"sending {what}", decoder):
        try:
            return HexBytes(w3.eth.send_raw_transaction(signed_raw))
        except Web3RPCError:
            if _node_has(w3, tx_hash):
                return HexBytes(tx_hash)
            raise


def _node_has(w3: Web3, tx_hash: bytes) -> bool:
    """Whether the node knows the transaction ``tx_hash``, pending or mined."""
    try:
        w3.eth.get_transaction(HexBytes(tx_hash))
    except TransactionNotFound:
        return False
    return True


def _explain_failure(
    w3: Web3, tx: TxParams, receipt: TxReceipt, decoder: RevertDecoder, what: str
) -> None:
    """Raise the reason a mined transaction failed, found by replaying it before its block."""
    replay = TxParams({k: tx[k] for k in ("from", "to", "data", "value", "gas") if k in tx})  # type: ignore[misc]
    with rpc_errors(w3, f"replaying the failed {what}", decoder):
        w3.eth.call(replay, block_identifier=receipt["blockNumber"] - 1)
    out_of_gas = receipt["gasUsed"] >= tx["gas"]
    raise ChainError(
        f"{what} ({HexBytes(receipt['transactionHash']).to_0x_hex()}) failed in block "
        f"{receipt['blockNumber']}"
        + (": it ran out of gas" if out_of_gas else ", and replaying it gives no reason")
    )
