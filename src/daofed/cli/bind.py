"""Bind addresses of the services the CLI starts (a chain node, an IPFS node)."""

from __future__ import annotations

import errno
import socket

from daofed.errors import ConfigError


def check_bindable(
    host: str, port: int, *, busy: str, host_option: str = "--host", port_option: str = "--port"
) -> None:
    """Refuse ``host:port`` in one line if it is taken or not an address of this host.

    Checked before starting the service, which would fail there in its own words. ``busy``
    says what may be listening there; the options name the flags that move it.
    """
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # only a listener blocks
        try:
            probe.bind((host, port))
        except OSError as error:
            reason = f"cannot listen on {host}:{port} ({error.strerror or error})"
            if error.errno == errno.EADDRINUSE:
                raise ConfigError(
                    f"{reason}: {busy}, or choose another port with {port_option}"
                ) from None
            raise ConfigError(
                f"{reason}: give {host_option} an IPv4 address of this host (127.0.0.1 for "
                "this host only, 0.0.0.0 for every interface)"
            ) from None
