"""Sending retries only what may not have reached the node, and never hides a rejection."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
import requests
from hexbytes import HexBytes
from web3.exceptions import Web3RPCError

from daofed.chain import load_artifact
from daofed.chain import tx as tx_module
from daofed.chain.revert import RevertDecoder
from daofed.errors import ChainError, RpcUnavailable

DECODER = RevertDecoder(load_artifact().abi)
TX_HASH = b"\x22" * 32


class FlakyNode:
    """Fails ``send_raw_transaction`` with the given errors, in order, then accepts."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0
        self.eth = SimpleNamespace(send_raw_transaction=self.send)
        self.provider = SimpleNamespace(endpoint_uri="http://127.0.0.1:9")

    def send(self, raw: bytes) -> HexBytes:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return HexBytes(TX_HASH)


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tx_module, "FIRST_BACKOFF", 0.0)


def send(node: Any) -> HexBytes:
    return tx_module._send_raw(node, b"raw", TX_HASH, DECODER, "a test transaction")


def test_a_send_is_retried_while_the_node_is_unreachable() -> None:
    node = FlakyNode(requests.ConnectionError("refused"), requests.Timeout("slow"))
    assert send(node) == HexBytes(TX_HASH)
    assert node.calls == 3


def test_a_retried_send_whose_first_try_arrived_is_not_an_error() -> None:
    node = FlakyNode(requests.Timeout("slow"), Web3RPCError("already known"))
    assert send(node) == HexBytes(TX_HASH)


def test_giving_up_names_the_node() -> None:
    node = FlakyNode(*[requests.ConnectionError("refused")] * tx_module.SEND_ATTEMPTS)
    with pytest.raises(RpcUnavailable, match=r"http://127\.0\.0\.1:9"):
        send(node)
    assert node.calls == tx_module.SEND_ATTEMPTS


def test_a_node_rejection_is_not_retried() -> None:
    node = FlakyNode(Web3RPCError("nonce too low"))
    with pytest.raises(ChainError, match="nonce too low"):
        send(node)
    assert node.calls == 1
