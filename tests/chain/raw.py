"""Raw transactions: attacks sent the way any client of the chain could, past daofed's checks.

daofed's own client refuses bad arguments before they reach the chain; an attacker uses
another client. These helpers ABI-encode a call, sign it with a fixed gas limit (no
estimate, which would show the revert first) and send the raw bytes, so each test shows
what the *contract* does with the attack: the transaction is mined, fails, and changes
nothing. The custom error is read by replaying the same call in a gas estimate.
"""

from __future__ import annotations

from typing import Any

from eth_account.signers.local import LocalAccount
from eth_tester.exceptions import TransactionFailed
from web3 import Web3
from web3.exceptions import Web3Exception
from web3.types import TxReceipt

from daofed.chain import Federation
from daofed.chain.artifacts import load_artifact
from daofed.chain.revert import RevertDecoder
from daofed.errors import ContractRevert

RAW_GAS = 3_000_000
_DECODER = RevertDecoder(load_artifact("Federation").abi)


def send_raw(w3: Web3, account: LocalAccount, tx: dict[str, Any]) -> TxReceipt:
    """Sign ``tx`` (``to`` and ``data`` set) with fixed gas, send the raw bytes, wait for it."""
    tx = {
        **tx,
        "from": account.address,
        "nonce": w3.eth.get_transaction_count(account.address, "pending"),
        "gas": RAW_GAS,
        "gasPrice": w3.eth.gas_price * 2 + 1,
        "chainId": w3.eth.chain_id,
        "value": 0,
    }
    signed = account.sign_transaction(tx)
    try:
        tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
    except (Web3Exception, TransactionFailed):
        # The embedded chain (eth-tester) refuses a failing transaction at once instead of
        # mining it; the state is untouched either way.
        return TxReceipt({"status": 0})  # type: ignore[typeddict-item]
    return w3.eth.wait_for_transaction_receipt(tx_hash)


def raw_call(
    federation: Federation, account: LocalAccount, function: str, *args: Any
) -> ContractRevert | None:
    """Send ``function(*args)`` raw from ``account``; the contract's revert, or None if mined ok."""
    call = federation.contract.functions[function](*args)
    data = call._encode_transaction_data()
    revert = _replay(federation.w3, account, {"to": federation.address, "data": data})
    receipt = send_raw(federation.w3, account, {"to": federation.address, "data": data})
    assert (receipt["status"] == 1) == (revert is None), (function, revert)
    return revert


def raw_deploy(
    w3: Web3, account: LocalAccount, *constructor_args: Any
) -> tuple[ContractRevert | None, str | None]:
    """Deploy a Federation with raw constructor arguments; (revert, None) or (None, address)."""
    artifact = load_artifact("Federation")
    factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    data = factory.constructor(*constructor_args).data_in_transaction
    revert = _replay(w3, account, {"data": data})
    receipt = send_raw(w3, account, {"data": data})
    assert (receipt["status"] == 1) == (revert is None), revert
    return revert, None if revert else str(receipt["contractAddress"])


def _replay(w3: Web3, account: LocalAccount, tx: dict[str, Any]) -> ContractRevert | None:
    """Run ``tx`` through the node's gas estimate: a revert comes back with its data."""
    try:
        w3.eth.estimate_gas({**tx, "from": account.address})  # type: ignore[typeddict-item]
    except Exception as error:
        revert = _DECODER.from_exception(error)
        if revert is None:
            raise
        return revert
    return None
