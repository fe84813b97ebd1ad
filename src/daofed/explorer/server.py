"""Serve the explorer with uvicorn on a socket bound here, so errors and the URL are ours.

Binding before uvicorn starts turns a busy port into a one-line ConfigError naming
``--port``, and lets port 0 pick a free port whose real URL is then announced (a script
or test starting ``daofed explorer --port 0`` reads it from the first line of output).
"""

from __future__ import annotations

import socket
from collections.abc import Callable

import uvicorn
from starlette.applications import Starlette

from daofed.errors import ConfigError


def serve(
    app: Starlette,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    on_ready: Callable[[str], None] = lambda url: None,
) -> None:
    """Serve ``app`` on ``host:port`` until interrupted; ``on_ready(url)`` once listening."""
    sock = _bind(host, port)
    url = f"http://{_url_host(host)}:{sock.getsockname()[1]}/"
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    server = _AnnouncingServer(config, lambda: on_ready(url))
    server.run(sockets=[sock])


class _AnnouncingServer(uvicorn.Server):
    """A uvicorn server that says when it accepts connections (after the app's startup)."""

    def __init__(self, config: uvicorn.Config, announce: Callable[[], None]) -> None:
        super().__init__(config)
        self._announce = announce

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self._announce()


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise ConfigError(
            f"cannot listen on {host}:{port}: {error.strerror or error}; choose another "
            "port with --port (0 picks a free one) or another address with --host"
        ) from None
    sock.listen(128)
    return sock


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", "::"):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host
