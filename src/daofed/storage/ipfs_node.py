"""Start a real, offline IPFS node on loopback for tests, demos and CI.

daofed talks to IPFS only through the Kubo RPC API (``/api/v0/...``), so any node that
speaks it will do. Kubo (``ipfs`` on PATH) is used when present. Otherwise the node is
js-ipfs from ``tools/ipfs-node`` (installed with ``npm ci --prefix tools/ipfs-node``),
which serves the same API and makes the same CIDs; its README says why and how fast.

The node gets its own repo directory (a temporary one unless given), listens on
127.0.0.1 only, never talks to the network, and is stopped with SIGTERM, then SIGKILL
after a timeout, so a test run leaves no process behind::

    with IpfsNode.start() as node:
        httpx.post(f"{node.api_url}/api/v0/version")
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Literal

import httpx

from daofed.errors import StoreUnavailable

NodeKind = Literal["kubo", "js-ipfs"]

_TOOL_ENV = "DAOFED_IPFS_NODE_DIR"
_INSTALL_HINT = "run `npm ci --prefix tools/ipfs-node` in the daofed repo"
_START_TIMEOUT = 60.0
_STOP_TIMEOUT = 10.0
_PORT_TRIES = 3

# Strong references on purpose: a node nobody holds any more must still be stopped at exit.
_running: set[IpfsNode] = set()


class IpfsNode:
    """One IPFS node process and the repo it owns; see the module docstring."""

    def __init__(self, kind: NodeKind, repo_dir: Path, port: int, *, owns_repo: bool) -> None:
        self.kind: NodeKind = kind
        self.repo_dir = repo_dir
        self.port = port
        self.log_path = repo_dir / "daofed-node.log"  # the node's stdout and stderr
        self._owns_repo = owns_repo
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def api_url(self) -> str:
        """Base URL of the RPC API, without ``/api/v0`` (e.g. ``http://127.0.0.1:5001``)."""
        return f"http://127.0.0.1:{self.port}"

    @classmethod
    def start(cls, repo_dir: Path | None = None, port: int | None = None) -> IpfsNode:
        """Start a node on ``repo_dir`` (a new temp dir if None) and ``port`` (free if None).

        Returns once ``/api/v0/version`` answers. A repo that a node used before keeps its
        blobs and pins. Raises StoreUnavailable, saying what to do, if no node can run.
        """
        kind: NodeKind = "kubo" if shutil.which("ipfs") else "js-ipfs"
        if kind == "js-ipfs":
            _node_tool()  # fail before making anything if it is not installed
        owns_repo = repo_dir is None
        repo = Path(tempfile.mkdtemp(prefix="daofed-ipfs-")) if repo_dir is None else repo_dir
        repo.mkdir(parents=True, exist_ok=True)
        tries = 1 if port is not None else _PORT_TRIES
        for attempt in range(1, tries + 1):
            node = cls(kind, repo.resolve(), port or _free_port(), owns_repo=owns_repo)
            try:
                node._launch()
                return node
            except StoreUnavailable:
                # Another process may have taken the free port between probe and bind.
                if attempt == tries:
                    if owns_repo:
                        shutil.rmtree(repo, ignore_errors=True)
                    raise
        raise AssertionError("unreachable")

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
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        """Whether the node process is alive."""
        return self._proc is not None and self._proc.poll() is None

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
        self._log = self.log_path.open("ab")
        self._proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,  # js-ipfs node stops when this closes, i.e. when we die
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # a Ctrl-C in the terminal is ours to handle, not its
        )
        _running.add(self)
        try:
            self._wait_ready()
        except BaseException:
            self._terminate()
            raise

    def _command(self) -> tuple[list[str], dict[str, str]]:
        env = dict(os.environ)
        if self.kind == "js-ipfs":
            node = shutil.which("node")
            if node is None:
                raise StoreUnavailable(
                    "cannot start the js-ipfs node: `node` (Node.js >= 18) is not on PATH; "
                    "install Node.js, or put Kubo's `ipfs` on PATH"
                )
            script = str(_node_tool() / "ipfs-node.mjs")
            argv = [node, script, "--repo", str(self.repo_dir), "--api-port", str(self.port)]
            return [*argv, "--stop-on-stdin-close"], env
        env["IPFS_PATH"] = str(self.repo_dir)
        self._init_kubo(env)
        return ["ipfs", "daemon", "--offline"], env

    def _init_kubo(self, env: dict[str, str]) -> None:
        """Create the Kubo repo once, then pin its listeners to loopback on every start."""
        loopback = "/ip4/127.0.0.1/tcp/"
        steps: list[tuple[list[str], bool]] = []  # (argv, must succeed)
        if not (self.repo_dir / "config").exists():
            steps.append((["ipfs", "init", "--profile=test", "--empty-repo"], True))
        steps += [
            (["ipfs", "config", "Addresses.API", f"{loopback}{self.port}"], True),
            (["ipfs", "config", "Addresses.Gateway", f"{loopback}0"], True),
            (["ipfs", "config", "--json", "Addresses.Swarm", f'["{loopback}0"]'], True),
            (["ipfs", "config", "--json", "Bootstrap", "[]"], True),
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

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + _START_TIMEOUT
        with httpx.Client(timeout=2.0) as client:
            while True:
                assert self._proc is not None
                if self._proc.poll() is not None:
                    raise StoreUnavailable(
                        f"the {self.kind} IPFS node exited with code {self._proc.returncode} "
                        f"while starting on {self.api_url}; its output:\n{self._log_tail()}"
                    )
                try:
                    if client.post(f"{self.api_url}/api/v0/version").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise StoreUnavailable(
                        f"the {self.kind} IPFS node did not answer on {self.api_url} within "
                        f"{_START_TIMEOUT:.0f} s; its output:\n{self._log_tail()}"
                    )
                time.sleep(0.1)

    def _terminate(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(_STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            if proc.stdin is not None:
                proc.stdin.close()
        _running.discard(self)
        if self._log is not None:
            self._log.close()
            self._log = None

    def _log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no output)"
        return "\n".join(text.splitlines()[-lines:]) or "(no output)"


def _node_tool() -> Path:
    """Find ``tools/ipfs-node`` with its npm packages installed."""
    override = os.environ.get(_TOOL_ENV)
    candidates = [Path(override)] if override else []
    candidates += [
        Path(__file__).resolve().parents[3] / "tools" / "ipfs-node",
        Path.cwd() / "tools" / "ipfs-node",
    ]
    for tool in candidates:
        if (tool / "ipfs-node.mjs").is_file():
            if not (tool / "node_modules" / "ipfs-core" / "package.json").is_file():
                raise StoreUnavailable(
                    f"the js-ipfs node in {tool} is not installed: {_INSTALL_HINT} "
                    "(or put Kubo's `ipfs` on PATH)"
                )
            return tool
    raise StoreUnavailable(
        "no IPFS node to start: Kubo's `ipfs` is not on PATH and tools/ipfs-node was not found "
        f"(looked in {', '.join(str(c) for c in candidates)}); set {_TOOL_ENV} to that folder, "
        f"or {_INSTALL_HINT}"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@atexit.register
def _stop_all() -> None:
    """Stop nodes a caller forgot, so an interpreter exit leaves no process behind."""
    for node in list(_running):
        node.stop()
