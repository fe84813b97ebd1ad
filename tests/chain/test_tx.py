"""A request lost on the way is retried once policy-wide, a resent transaction the node
already has is accepted, and a dead node is reported at once, on a real anvil."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from eth_account.datastructures import SignedTransaction
from hexbytes import HexBytes
from web3 import Web3

from daofed.chain import AnvilNode, connect, dev_account, load_artifact
from daofed.chain.revert import RevertDecoder
from daofed.chain.tx import _send_raw
from daofed.errors import ChainError, RpcUnavailable
from daofed.retry import RETRY, RetryPolicy

DECODER = RevertDecoder(load_artifact().abi)
QUICK = RetryPolicy(first_wait=0.01)


class Relay:
    """An HTTP relay to a real node that fails the requests it is told to fail.

    ``lose[method] = ["before", "after", ...]``: each entry fails one request for
    ``method`` with a 502, "before" without passing it on, "after" once the node has
    answered it (the answer is lost on the way back).
    """

    def __init__(self, target: str) -> None:
        self.target = target
        self.lose: dict[str, list[str]] = {}
        self.seen: list[str] = []
        self.url = ""

    def handle(self, body: bytes) -> tuple[int, bytes]:
        method = json.loads(body)["method"]
        self.seen.append(method)
        failure = self.lose.get(method, [])
        when = failure.pop(0) if failure else None
        if when == "before":
            return 502, b"bad gateway"
        answer = requests.post(
            self.target, data=body, headers={"Content-Type": "application/json"}, timeout=30
        )
        return (502, b"bad gateway") if when == "after" else (200, answer.content)


@contextmanager
def relay_to(target: str) -> Iterator[Relay]:
    relay = Relay(target)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            status, body = relay.handle(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    relay.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True).start()
    try:
        yield relay
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def chain(anvil: AnvilNode) -> Iterator[Web3]:
    """The session's anvil, put back as it was after the test."""
    w3 = anvil.web3()
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    yield w3
    w3.provider.make_request("evm_setAutomine", [True])  # type: ignore[arg-type]
    w3.provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]


def transfer(w3: Web3, value: int, *, nonce_offset: int = 0) -> SignedTransaction:
    sender = dev_account(9)
    nonce = w3.eth.get_transaction_count(sender.address, "pending") + nonce_offset
    return sender.sign_transaction(
        {
            "to": dev_account(8).address,
            "value": value,
            "gas": 21_000,
            "nonce": nonce,
            "chainId": w3.eth.chain_id,
            "maxFeePerGas": 10 * w3.eth.gas_price,
            "maxPriorityFeePerGas": 1,
        }
    )


def send(w3: Web3, signed: SignedTransaction) -> HexBytes:
    return _send_raw(w3, signed.raw_transaction, signed.hash, DECODER, "a test transfer")


def test_a_request_that_fails_on_the_way_is_retried(anvil: AnvilNode) -> None:
    with relay_to(anvil.url) as relay:
        w3 = connect(relay.url, retry=QUICK)
        relay.lose["eth_blockNumber"] = ["before", "before"]
        assert w3.eth.block_number >= 0
    assert relay.seen.count("eth_blockNumber") == 3


def test_a_send_whose_answer_was_lost_is_accepted_once_mined(chain: Web3, anvil: AnvilNode) -> None:
    """The resend meets "nonce too low": the node mined the first copy."""
    signed = transfer(chain, 1)
    with relay_to(anvil.url) as relay:
        relay.lose["eth_sendRawTransaction"] = ["after"]
        assert send(connect(relay.url, retry=QUICK), signed) == HexBytes(signed.hash)
    assert relay.seen.count("eth_sendRawTransaction") == 2
    assert chain.eth.get_transaction_receipt(signed.hash)["status"] == 1


def test_a_send_whose_answer_was_lost_is_accepted_while_pending(
    chain: Web3, anvil: AnvilNode
) -> None:
    """The resend meets "transaction already imported" (anvil; geth says "already known")."""
    chain.provider.make_request("evm_setAutomine", [False])  # type: ignore[arg-type]
    signed = transfer(chain, 1)
    with relay_to(anvil.url) as relay:
        relay.lose["eth_sendRawTransaction"] = ["after"]
        assert send(connect(relay.url, retry=QUICK), signed) == HexBytes(signed.hash)
    assert chain.eth.get_transaction(signed.hash)["blockNumber"] is None  # pending


def test_another_transaction_with_a_used_nonce_is_refused(chain: Web3) -> None:
    first = transfer(chain, 1)
    send(chain, first)
    replacement = transfer(chain, 2, nonce_offset=-1)  # the nonce ``first`` used
    with pytest.raises(ChainError, match="nonce too low"):
        send(chain, replacement)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_dead_node_is_reported_in_one_line_after_the_policys_tries() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()
    with pytest.raises(RpcUnavailable) as caught:
        connect(url, timeout=2)
    waits = sum(RETRY.first_wait * 2**i for i in range(RETRY.attempts - 1))
    assert time.monotonic() - started < waits + 1.0  # not the 25 tries of two nested loops
    message = str(caught.value)
    assert url in message and "Connection refused" in message and "\n" not in message


def test_a_send_is_tried_as_often_as_the_policy_says_and_no_more(
    chain: Web3, anvil: AnvilNode
) -> None:
    signed = transfer(chain, 1)
    with relay_to(anvil.url) as relay:
        w3 = connect(relay.url, retry=QUICK)
        relay.lose["eth_sendRawTransaction"] = ["before"] * 100
        with pytest.raises(RpcUnavailable, match=relay.url.replace(".", r"\.")):
            send(w3, signed)
    assert relay.seen.count("eth_sendRawTransaction") == QUICK.attempts
