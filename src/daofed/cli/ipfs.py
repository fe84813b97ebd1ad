"""``daofed ipfs up``: a member's own IPFS node, for as long as the command runs.

Each member runs its own node (Kubo when ``ipfs`` is on PATH, else the Helia node of
``tools/ipfs-node``) and points its agent at it with ``--store``. Both listeners are on
loopback unless told otherwise: the RPC API has no authentication (whoever reaches it can
add, pin and unpin), so it stays on loopback or a private network; and a node's swarm
serves its blobs to any peer that dials it, so it listens beyond this host only when the
member says where (``--swarm /ip4/0.0.0.0/tcp/4001``, or one address the other members
reach). The swarm port is fixed (4001, Kubo's) rather than free: the addresses a member
announces on chain then stay valid across restarts.
"""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from typing import Annotated

import typer

from daofed.cli.bind import check_bindable
from daofed.cli.options import JsonOpt
from daofed.cli.output import err_console, friendly_errors, print_json
from daofed.errors import StoreUnavailable
from daofed.nodeproc import EVERY_INTERFACE, LOOPBACK
from daofed.storage import IpfsStore
from daofed.storage.ipfs_node import IpfsNode

ipfs_app = typer.Typer(help="Run this member's IPFS node.")

DEFAULT_SWARM = "/ip4/127.0.0.1/tcp/4001"
_WATCH = 1.0  # seconds between checks that the node is still running


@ipfs_app.command("up")
def up(
    repo: Annotated[
        Path, typer.Option(help="The node's repo: blobs, pins and identity (kept across runs).")
    ] = Path(".daofed/ipfs"),
    api_host: Annotated[
        str,
        typer.Option(
            help="IPv4 address of the RPC API: loopback by default (it has no authentication); "
            "0.0.0.0 for every interface."
        ),
    ] = LOOPBACK,
    api_port: Annotated[int, typer.Option(help="Port of the RPC API.", min=1, max=65535)] = 5001,
    swarm: Annotated[
        list[str] | None,
        typer.Option(
            help="libp2p listen multiaddr (repeat for several); other members' nodes dial it. "
            f"Default {DEFAULT_SWARM}: this host only; e.g. /ip4/0.0.0.0/tcp/4001 for every "
            "interface."
        ),
    ] = None,
    json_output: JsonOpt = False,
) -> None:
    """Start an IPFS node and keep it running until Ctrl-C; print the --store to give agents."""
    listen = swarm or [DEFAULT_SWARM]
    with friendly_errors():
        check_bindable(
            api_host,
            api_port,
            busy="another IPFS node may be running there (use it, or stop it)",
            host_option="--api-host",
            port_option="--api-port",
        )
        for address in listen:
            _check_swarm_bindable(address)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with friendly_errors(), IpfsNode.start(repo, api_port, host=api_host, swarm=listen) as node:
        with IpfsStore(node.api_url) as store:
            info = store.info()
        store_spec = f"ipfs:{node.api_url}"
        if json_output:
            print_json(
                {
                    "kind": node.kind,
                    "api_url": node.api_url,
                    "store": store_spec,
                    "peer_id": info.peer_id,
                    "addresses": list(info.addresses),
                    "repo": str(node.repo_dir),
                    "log": str(node.log_path),
                }
            )
            sys.stdout.flush()  # a pipe would hold it until the node stops
        else:
            where = "every interface" if api_host == EVERY_INTERFACE else api_host
            err_console.print(f"{node.kind} IPFS node up: RPC API on {where}, {node.api_url}")
            err_console.print(f"agents use: --store {store_spec}")
            err_console.print(f"peer id: {info.peer_id}")
            for address in info.addresses:
                err_console.print(f"  listening on {address}")
            err_console.print(f"repo: {node.repo_dir}; log: {node.log_path}; stop with Ctrl-C")
        while not stop.wait(_WATCH):
            if not node.running:
                raise StoreUnavailable(
                    f"the IPFS node stopped by itself: its log is {node.log_path}"
                )
    err_console.print("IPFS node stopped")


def _check_swarm_bindable(address: str) -> None:
    """Refuse a taken or foreign ``/ip4/HOST/tcp/PORT`` address; others are the node's to check."""
    parts = address.split("/")
    if len(parts) >= 5 and parts[1] == "ip4" and parts[3] == "tcp" and parts[4].isdigit():
        port = int(parts[4])
        if port:  # 0: a free port
            check_bindable(
                parts[2],
                port,
                busy="another IPFS node may be listening there",
                host_option="--swarm",
                port_option="--swarm",
            )
