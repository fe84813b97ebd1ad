"""``daofed ipfs up`` as a member runs it: a real node, reached at the URL it prints, stopped by
a signal with nothing left behind, and one-line errors before anything starts."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from daofed.cli.app import app
from daofed.storage import IpfsStore
from tests.e2e.processes import read_document

pytestmark = pytest.mark.ipfs
runner = CliRunner()
START_TIMEOUT = 90.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def children(pid: int) -> list[int]:
    """The processes ``pid`` started that are still running (its IPFS node)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@contextmanager
def ipfs_up(*args: str) -> Iterator[subprocess.Popen[str]]:
    """Run ``daofed ipfs up ARGS`` as a process of its own; kill it if the test left it running."""
    process = subprocess.Popen(
        [sys.executable, "-m", "daofed", "ipfs", "up", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()


def read_json(process: subprocess.Popen[str]) -> dict[str, Any]:
    """Read the one JSON document ``--json`` prints once the node is up."""
    return read_document(process, "ipfs up", START_TIMEOUT)


def read_stderr_until(process: subprocess.Popen[str], marker: str) -> str:
    """Read the human output up to the line containing ``marker``."""
    assert process.stderr is not None
    text = ""
    while marker not in text:
        line = process.stderr.readline()
        if not line:
            raise AssertionError(f"ipfs up exited {process.wait()} before {marker!r}: {text}")
        text += line
    return text


def stopped_cleanly(process: subprocess.Popen[str], signum: int) -> None:
    """Send ``signum``; check the command exits 0 and leaves none of its processes running."""
    started = children(process.pid)
    assert started, "ipfs up runs no node"
    process.send_signal(signum)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "IPFS node stopped" in err
    assert not [pid for pid in started if alive(pid)]


def test_ipfs_up_serves_its_api_until_sigterm_stops_it(tmp_path: Path) -> None:
    port = free_port()
    swarm = "/ip4/127.0.0.1/tcp/0"
    with ipfs_up(
        "--repo", str(tmp_path), "--api-port", str(port), "--swarm", swarm, "--json"
    ) as up:
        said = read_json(up)
        assert said["api_url"] == f"http://127.0.0.1:{port}"
        assert said["store"] == f"ipfs:http://127.0.0.1:{port}"
        with IpfsStore(str(said["api_url"])) as store:
            ref = store.put(b"a member's update")
            assert store.get(ref) == b"a member's update"
            info = store.info()
        assert said["peer_id"] == info.peer_id
        addresses = [str(a) for a in said["addresses"]]  # type: ignore[attr-defined]
        assert addresses and all(
            a.startswith("/ip4/127.0.0.1/tcp/") and a.endswith(f"/p2p/{info.peer_id}")
            for a in addresses
        )
        stopped_cleanly(up, signal.SIGTERM)


def test_ipfs_up_prints_the_store_to_use_and_says_so_when_its_node_dies(tmp_path: Path) -> None:
    port = free_port()
    swarm = "/ip4/127.0.0.1/tcp/0"
    with ipfs_up("--repo", str(tmp_path), "--api-port", str(port), "--swarm", swarm) as up:
        banner = read_stderr_until(up, "stop with Ctrl-C")
        assert f"agents use: --store ipfs:http://127.0.0.1:{port}" in banner
        with IpfsStore(f"http://127.0.0.1:{port}") as store:
            info = store.info()
        assert f"peer id: {info.peer_id}" in banner
        for pid in children(up.pid):
            os.kill(pid, signal.SIGKILL)
        _, err = up.communicate(timeout=30)
    assert up.returncode == 1
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "stopped by itself" in errors[0] and str(tmp_path) in errors[0]


def one_line_error(args: list[str]) -> str:
    result = runner.invoke(app, ["ipfs", "up", *args])
    assert result.exit_code == 1, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.output
    return errors[0]


@pytest.mark.parametrize("flag", ["--api-port", "--swarm"])
def test_ipfs_up_on_a_taken_port_names_the_option(flag: str, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        args = {
            "--api-port": ["--api-port", str(port)],
            "--swarm": ["--api-port", str(free_port()), "--swarm", f"/ip4/127.0.0.1/tcp/{port}"],
        }[flag]
        line = one_line_error(["--repo", str(tmp_path / "ipfs"), *args])
    assert f"127.0.0.1:{port}" in line and "Address already in use" in line and flag in line
    assert not (tmp_path / "ipfs").exists()  # refused before anything was made


def test_ipfs_up_on_an_address_not_of_this_host_names_the_option(tmp_path: Path) -> None:
    line = one_line_error(["--repo", str(tmp_path / "ipfs"), "--api-host", "192.0.2.1"])
    assert "192.0.2.1:5001" in line and "--api-host" in line


def test_ipfs_up_without_a_node_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if shutil.which("ipfs"):
        pytest.skip("Kubo is on PATH: it would be started instead")
    tool = tmp_path / "ipfs-node"  # the tool's script, its packages not installed
    tool.mkdir()
    (tool / "ipfs-node.mjs").write_text("")
    monkeypatch.setenv("DAOFED_IPFS_NODE_DIR", str(tool))
    line = one_line_error(["--repo", str(tmp_path / "ipfs"), "--api-port", str(free_port())])
    assert "not installed" in line and f"npm ci --prefix {tool}" in line
