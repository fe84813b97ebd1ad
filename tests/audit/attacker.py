"""What an attacker uses instead of daofed's client: own contracts, raw transactions, raw logs.

The fixture contracts in ``contracts/`` are compiled at test time with the project's
pinned solc. Transactions go out raw (:mod:`tests.chain.raw`), so none of daofed's
client-side checks stands between them and the contract.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from eth_abi.abi import encode
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from web3 import Web3
from web3.types import TxReceipt

from daofed.chain import Artifact, load_artifact
from daofed.chain.compile import compile_sources
from tests.chain.raw import send_raw

CONTRACTS = Path(__file__).parent / "contracts"


@cache
def fixture_artifacts() -> dict[str, Artifact]:
    """Compile the fixture contracts (Impostor, ExecuteBoth) once per test session."""
    sources = {
        f"tests/audit/contracts/{path.name}": path.read_text(encoding="utf-8")
        for path in sorted(CONTRACTS.glob("*.sol"))
    }
    names = [path.stem for path in sorted(CONTRACTS.glob("*.sol"))]
    return compile_sources(sources, names, via_ir=False)  # small: the IR pipeline buys nothing


def deploy_raw(w3: Web3, account: LocalAccount, name: str, *args: Any) -> ChecksumAddress:
    """Deploy fixture contract ``name`` with a raw transaction; return its address."""
    artifact = fixture_artifacts()[name]
    factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    receipt = send_raw(w3, account, {"data": factory.constructor(*args).data_in_transaction})
    address = receipt["contractAddress"]
    assert receipt["status"] == 1 and address is not None, f"deploying {name} failed"
    return to_checksum_address(address)


def call_raw(
    w3: Web3, account: LocalAccount, address: ChecksumAddress, name: str, function: str, *args: Any
) -> TxReceipt:
    """Call ``function(*args)`` of fixture contract ``name`` at ``address`` raw; the receipt."""
    contract = w3.eth.contract(address=address, abi=fixture_artifacts()[name].abi)
    data = contract.functions[function](*args)._encode_transaction_data()
    return send_raw(w3, account, {"to": address, "data": data})


def federation_event(name: str, **args: Any) -> tuple[list[bytes], bytes]:
    """Encode the Federation's event ``name`` with ``args`` (by ABI name): topics and data.

    The event comes from the shipped ABI, so what the Impostor emits decodes exactly like
    the real contract's events, whatever their current shape.
    """
    (event,) = (
        item
        for item in load_artifact("Federation").abi
        if item["type"] == "event" and item["name"] == name
    )
    inputs = event["inputs"]
    signature = f"{name}({','.join(i['type'] for i in inputs)})"
    topics = [keccak(text=signature)]
    topics += [encode([i["type"]], [args[i["name"]]]) for i in inputs if i["indexed"]]
    plain = [i for i in inputs if not i["indexed"]]
    data = encode([i["type"] for i in plain], [args[i["name"]] for i in plain])
    return topics, data


def as_logs(events: list[tuple[list[bytes], bytes]]) -> tuple[list[list[bytes]], list[bytes]]:
    """Split encoded events into the Impostor's (topics, data) arguments."""
    return [topics for topics, _ in events], [data for _, data in events]
