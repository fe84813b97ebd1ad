"""``daofed explorer``'s errors: each is one line and exit status 1, before anything serves.

(The explorer serving pages is tested in a browser, tests/explorer.)
"""

from __future__ import annotations

import socket

import pytest
from typer.testing import CliRunner

from daofed.cli.app import app

from .conftest import CliFederation

runner = CliRunner()


def _one_line_error(args: list[str]) -> str:
    result = runner.invoke(app, ["explorer", *args])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = " ".join(result.output.split())
    assert lines.startswith("error: ") and "Traceback" not in result.output
    return lines


def test_a_busy_port_says_to_choose_another(cli_federation: CliFederation) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        message = _one_line_error([*cli_federation.target(), "--port", str(port)])
    assert f"cannot listen on 127.0.0.1:{port}" in message and "--port" in message


def test_a_dead_node_is_named() -> None:
    contract = "0x" + "11" * 20
    message = _one_line_error(["--rpc-url", "http://127.0.0.1:9", "--contract", contract])
    assert "http://127.0.0.1:9" in message


@pytest.mark.parametrize("contract", ["0x1234", "not-an-address"])
def test_a_bad_address_is_refused(cli_federation: CliFederation, contract: str) -> None:
    message = _one_line_error(["--rpc-url", cli_federation.url, "--contract", contract])
    assert contract in message


def test_a_missing_deployment_file_is_named() -> None:
    message = _one_line_error(["-d", "/nonexistent/daofed.toml"])
    assert "/nonexistent/daofed.toml" in message


def test_a_host_that_does_not_resolve_is_named(cli_federation: CliFederation) -> None:
    message = _one_line_error([*cli_federation.target(), "--host", "no-such-host.invalid"])
    assert "cannot listen on no-such-host.invalid" in message


def test_a_port_out_of_range_is_a_usage_error(cli_federation: CliFederation) -> None:
    result = runner.invoke(app, ["explorer", *cli_federation.target(), "--port", "70000"])
    assert result.exit_code == 2 and "Traceback" not in result.output
