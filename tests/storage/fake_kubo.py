"""A tiny scripted stand-in for a Kubo RPC API, for the IPFS client's error paths only.

The real-node behaviour is tested against a real Kubo node elsewhere; this fake only says
what a test scripts (status, body, delay) and records what it was asked.
"""

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes | Callable[[], Iterable[bytes]] = b""
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0


@dataclass(frozen=True)
class Seen:
    command: str
    params: dict[str, list[str]]
    body: bytes


@dataclass
class FakeKubo:
    url: str = ""
    script: dict[str, list[Reply]] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)

    def on(self, command: str, *replies: Reply) -> None:
        """Answer ``command`` with these replies in turn; the last one repeats."""
        self.script[command] = list(replies)

    def next_reply(self, command: str) -> Reply:
        replies = self.script.get(command)
        if not replies:
            return Reply(404, b"404 page not found")
        return replies.pop(0) if len(replies) > 1 else replies[0]

    def calls(self, command: str) -> list[Seen]:
        return [seen for seen in self.seen if seen.command == command]


def _handler(fake: FakeKubo) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            parts = urlsplit(self.path)
            command = parts.path.removeprefix("/api/v0/")
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            fake.seen.append(Seen(command, parse_qs(parts.query), body))
            reply = fake.next_reply(command)
            time.sleep(reply.delay)
            try:
                self.send_response(reply.status)
                for name, value in reply.headers:
                    self.send_header(name, value)
                if isinstance(reply.body, bytes):
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                else:  # streamed until done or the client hangs up
                    self.end_headers()
                    for chunk in reply.body():
                        self.wfile.write(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@contextmanager
def running_fake_kubo() -> Iterator[FakeKubo]:
    """Serve a FakeKubo on a free loopback port for the duration of the block."""
    fake = FakeKubo()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = True
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
