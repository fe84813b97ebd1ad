"""The RPC API's HTTP/1.1 client: kept-alive connections, bodies in pieces, one read buffer."""

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from daofed.storage.rpc import READ_SIZE, RpcClient, TransportError, read_answer


@contextmanager
def http11_server(
    respond: Callable[[BaseHTTPRequestHandler, bytes], None],
) -> Iterator[tuple[str, list[int]]]:
    """Serve HTTP/1.1 (keep-alive) on loopback; yield its URL and each request's client port."""
    ports: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            ports.append(self.client_address[1])
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            respond(self, body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", ports
    finally:
        server.shutdown()
        server.server_close()


def echo_chunked(handler: BaseHTTPRequestHandler, body: bytes) -> None:
    """Answer with the request body in chunks of 1000 bytes, as Kubo streams ``cat``."""
    handler.send_response(200)
    handler.send_header("Transfer-Encoding", "chunked")
    handler.end_headers()
    for start in range(0, len(body), 1000):
        piece = body[start : start + 1000]
        handler.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
    handler.wfile.write(b"0\r\n\r\n")


def test_a_body_in_pieces_arrives_whole_and_the_connection_is_reused() -> None:
    blob = bytes(range(256)) * 40
    with http11_server(echo_chunked) as (url, ports), RpcClient(url, timeout=2.0) as rpc:
        for _ in range(3):
            with rpc.post("echo", {"arg": "x"}, (b"head", memoryview(blob), b"tail")) as answer:
                assert read_answer(answer) == b"head" + blob + b"tail"
    assert len(ports) == 3 and len(set(ports)) == 1  # one connection served all three


def test_a_connection_the_server_closed_while_idle_is_not_used() -> None:
    def answer_then_hang_up(handler: BaseHTTPRequestHandler, body: bytes) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", "2")
        handler.end_headers()
        handler.wfile.write(b"ok")
        handler.wfile.flush()
        handler.connection.shutdown(socket.SHUT_RDWR)  # as a server's idle timeout does

    with http11_server(answer_then_hang_up) as (url, ports), RpcClient(url, timeout=2.0) as rpc:
        for _ in range(2):
            with rpc.post("ping", {}) as answer:
                assert answer.read() == b"ok"
            time.sleep(0.2)  # idle: the server hangs up meanwhile
    assert len(set(ports)) == 2


def test_an_answer_cut_short_is_a_transport_error() -> None:
    def cut_short(handler: BaseHTTPRequestHandler, body: bytes) -> None:
        handler.send_response(200)
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        handler.wfile.write(b"100\r\nonly a few bytes")
        handler.close_connection = True

    with (
        http11_server(cut_short) as (url, _),
        RpcClient(url, timeout=2.0) as rpc,
        pytest.raises(TransportError, match="IncompleteRead"),
        rpc.post("cat", {}) as answer,
    ):
        read_answer(answer)


@pytest.mark.parametrize("hint", [None, 0, 10, 5000, READ_SIZE + 12345, READ_SIZE + 12346])
def test_read_answer_reads_the_whole_answer_whatever_was_announced(hint: int | None) -> None:
    """An announced size only sizes the buffer: an answer longer or shorter is read whole."""
    blob = bytes(range(256)) * ((READ_SIZE + 12345) // 256) + b"end"
    seen: list[bytes] = []
    with (
        http11_server(echo_chunked) as (url, _),
        RpcClient(url, timeout=5.0) as rpc,
        rpc.post("echo", {}, (blob,)) as answer,
    ):
        data = read_answer(answer, hint, lambda piece: seen.append(bytes(piece)))
    assert data == blob and isinstance(data, bytes)
    assert b"".join(seen) == blob  # each byte shown once, in order


def test_a_piece_refused_stops_the_read_and_closes_the_connection() -> None:
    def refuse(_piece: memoryview) -> None:
        raise ValueError("too much")

    with http11_server(echo_chunked) as (url, ports), RpcClient(url, timeout=2.0) as rpc:
        with pytest.raises(ValueError), rpc.post("echo", {}, (b"x" * 5000,)) as answer:
            read_answer(answer, None, refuse)
        with rpc.post("echo", {}, (b"y",)) as answer:
            assert read_answer(answer) == b"y"
    assert len(set(ports)) == 2  # the half-read connection was not reused
