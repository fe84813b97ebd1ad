"""``daofed chain up --host``: where the dev chain listens, and the URL it prints for it."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from daofed.chain import connect
from daofed.cli.app import app

pytestmark = pytest.mark.anvil


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_chain_up_on_every_interface_prints_a_loopback_url_and_stops_on_sigterm(
    tmp_path: Path,
) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "daofed", "chain", "up", "--host", "0.0.0.0", "--port", str(port)],
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        banner = process.stderr.readline()
        url = f"http://127.0.0.1:{port}"
        assert banner.startswith(f"anvil listening on every interface, port {port} ({url} "), banner
        assert connect(url).eth.chain_id == 31337
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_chain_up_on_an_address_not_of_this_host_names_the_option() -> None:
    result = CliRunner().invoke(app, ["chain", "up", "--host", "192.0.2.1", "--port", "8545"])
    assert result.exit_code == 1, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "192.0.2.1:8545" in errors[0] and "--host" in errors[0]
