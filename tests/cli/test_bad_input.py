"""Every command, given malformed input, answers with one line and exit status 1 or 2.

Bad addresses (too short, a wrong EIP-55 checksum), a deployment file name with rich
markup characters in it, missing files and a dead RPC node, against each command that
takes them: no traceback, no crash in the terminal's markup, and what failed is named.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from daofed.chain import AnvilNode, dev_accounts
from daofed.chain.deployment import Deployment
from daofed.chain.keystore import write_keystore
from daofed.cli.app import app
from daofed.session import abi_version
from daofed.storage import LocalStore
from tests.explorer.federations import propose_rule_raw
from tests.federations import deploy

from .conftest import save_deployment

runner = CliRunner()

GOOD = dev_accounts(2)[1].address
_LETTER = next(i for i, c in enumerate(GOOD) if i > 1 and c.isalpha())
BAD_CHECKSUM = GOOD[:_LETTER] + GOOD[_LETTER].swapcase() + GOOD[_LETTER + 1 :]  # one case flipped
SHORT = "0x1234"
DEAD = "http://127.0.0.1:9"  # nothing listens on the discard port
BRACKETED = "conf[/x].toml"  # markup-like, and missing
KEY = ["--dev", "1"]


@pytest.fixture
def dead_deployment(tmp_path: Path) -> Path:
    """A well-formed deployment file naming a node that does not answer."""
    path = tmp_path / "daofed.toml"
    Deployment(
        chain_id=31337,
        rpc_url=DEAD,
        contract=GOOD,
        deploy_block=1,
        abi_version=abi_version(),
        store=f"local:{tmp_path / 'blobs'}",
    ).save(path)
    return path


def one_line_error(args: list[str], *, status: int = 1) -> str:
    """Run ``daofed ARGS``; check the exit status and that one line says what failed."""
    result = runner.invoke(app, args)
    output = result.output
    assert result.exit_code == status, f"{args}: exit {result.exit_code}\n{output}"
    assert "Traceback" not in output and isinstance(result.exception, SystemExit | None), output
    if status == 1:
        errors = [line for line in output.splitlines() if line.startswith("error: ")]
        assert len(errors) == 1, f"{args}: not one error line\n{output}"
        return errors[0]
    return output


@pytest.mark.parametrize("address", [SHORT, BAD_CHECKSUM])
def test_chain_fund_refuses_a_bad_address_before_connecting(address: str) -> None:
    assert address in one_line_error(["chain", "fund", address, "--rpc-url", DEAD])


@pytest.mark.parametrize("address", [SHORT, BAD_CHECKSUM])
def test_deploy_refuses_a_bad_member_address(address: str, tmp_path: Path) -> None:
    line = one_line_error(
        ["deploy", "-m", address, "--quorum", "1", *KEY, "--out", str(tmp_path / "d.toml")]
    )
    assert address in line


def test_a_wrong_checksum_says_it_was_probably_mistyped() -> None:
    line = one_line_error(["chain", "fund", BAD_CHECKSUM, "--rpc-url", DEAD])
    assert "checksum" in line and "mistyped" in line


def test_deploy_against_a_dead_node_leaves_no_store_behind(tmp_path: Path) -> None:
    blobs = tmp_path / "blobs"
    args = ["deploy", "-m", GOOD, "--quorum", "1", *KEY, "--rpc-url", DEAD]
    line = one_line_error([*args, "--store", f"local:{blobs}", "--out", str(tmp_path / "d.toml")])
    assert DEAD in line
    assert not blobs.exists()


@pytest.mark.parametrize(
    "command",
    [
        ["status"],
        ["members"],
        ["proposals"],
        ["audit"],
        ["explorer"],
        ["execute", "1", *KEY],
        ["vote", "proposal", "1", "yes", *KEY],
        ["vote", "aggregate", "1", "ab" * 32, *KEY],
        ["propose", "set-quorum", "2", *KEY],
        ["agent", "run", "--data", "member.npz", *KEY],
        ["encryption-key", "register", *KEY],
        ["encryption-key", "rotate", *KEY],
    ],
)
def test_a_bracketed_missing_deployment_file_is_named_as_it_is(command: list[str]) -> None:
    assert BRACKETED in one_line_error([*command, "-d", BRACKETED])


@pytest.mark.parametrize("command", [["status"], ["members"], ["audit"], ["explorer"]])
def test_a_dead_node_is_named_with_the_reason_alone(command: list[str]) -> None:
    line = one_line_error([*command, "--rpc-url", DEAD, "--contract", GOOD])
    assert DEAD in line and "(Connection refused)" in line
    assert "Max retries" not in line and "HTTPConnectionPool" not in line


@pytest.mark.parametrize("command", [["status"], ["members"], ["audit"], ["explorer"]])
@pytest.mark.parametrize("address", [SHORT, BAD_CHECKSUM])
def test_a_bad_contract_address_is_named(command: list[str], address: str) -> None:
    assert address in one_line_error([*command, "--rpc-url", DEAD, "--contract", address])


@pytest.mark.parametrize(
    "command",
    [
        ["status"],
        ["proposals"],
        ["execute", "1", *KEY],
        ["vote", "proposal", "1", "no", *KEY],
        ["propose", "set-quorum", "2", *KEY],
        ["propose", "add-member", GOOD, *KEY],
        ["encryption-key", "register", *KEY],
        ["encryption-key", "rotate", *KEY],
    ],
)
def test_a_deployment_whose_node_is_dead_names_the_node(
    command: list[str], dead_deployment: Path
) -> None:
    assert DEAD in one_line_error([*command, "-d", str(dead_deployment)])


@pytest.mark.parametrize("address", [SHORT, BAD_CHECKSUM])
def test_propose_refuses_a_bad_member_address(address: str, dead_deployment: Path) -> None:
    line = one_line_error(["propose", "add-member", address, *KEY, "-d", str(dead_deployment)])
    assert address in line


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("quorum", "2", "no proposal kind 'quorum': choose one of add-member, remove-member, "),
        ("set-quorum", "two", "set-quorum takes VOTES, got 'two'"),
        ("set-windows", "60,120", "set-windows takes SUBMIT,VOTE,REVEAL (seconds), got '60,120'"),
        ("set-rule", "medain", "unknown aggregation rule 'medain'"),
        ("set-commit-reveal", "yes", "set-commit-reveal takes on|off, got 'yes'"),
        ("set-voting-period", "0", "voting period must be 1 to"),
        ("set-max-samples", "0", "sample cap must be a whole number from 1"),
    ],
)
def test_propose_refuses_a_bad_kind_or_value_before_the_key_and_the_node(
    kind: str, value: str, expected: str, dead_deployment: Path
) -> None:
    args = ["propose", kind, value, "--keystore", "no-such-key.json", "-d", str(dead_deployment)]
    assert expected in one_line_error(args)


def test_missing_files_are_named(tmp_path: Path) -> None:
    missing = str(tmp_path / "no-such-file")
    assert missing in one_line_error(
        ["account", "new", "--keystore-dir", str(tmp_path), "--password-file", missing]
    )
    assert missing in one_line_error(["agent", "run", "--data", missing, *KEY, "-d", missing])


MARKUP_RULE = "median[/x][bold red]"  # rich markup that would crash or restyle the output


@pytest.mark.anvil
def test_markup_in_chain_data_is_printed_as_text(anvil: AnvilNode, tmp_path: Path) -> None:
    """A member may propose any string as a rule (the contract stores it unparsed): the
    auditor's tables show it as it is, instead of crashing on it."""
    w3 = anvil.web3()
    deployer, *members = dev_accounts(3)
    federation = deploy(w3, LocalStore(tmp_path / "blobs"), deployer, members)
    propose_rule_raw(w3, federation, members[0], MARKUP_RULE)
    deployment = save_deployment(
        tmp_path / "daofed.toml", federation, anvil.url, tmp_path / "blobs"
    )
    for command in (["proposals"], ["audit"]):
        result = runner.invoke(app, [*command, "-d", str(deployment)], env={"COLUMNS": "300"})
        assert result.exit_code == 0, result.output
        assert MARKUP_RULE in " ".join(result.output.split()), result.output


def test_no_terminal_and_no_password_fails_at_once_with_advice(
    tmp_path: Path, dead_deployment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In the background (``… &``) a prompt would stop the job: say how to give it."""
    monkeypatch.delenv("DAOFED_PASSWORD", raising=False)
    line = one_line_error(["account", "new", "--keystore-dir", str(tmp_path / "keys")])
    assert "no terminal" in line and "$DAOFED_PASSWORD" in line and "--password-file" in line
    assert not (tmp_path / "keys").exists() or not list((tmp_path / "keys").iterdir())
    keystore = write_keystore(dev_accounts(1)[0], "right", tmp_path / "keys").path
    args = ["propose", "set-quorum", "2", "--keystore", str(keystore), "-d", str(dead_deployment)]
    line = one_line_error(args)
    assert "no terminal" in line and "$DAOFED_PASSWORD" in line


def test_a_wrong_password_says_where_it_came_from(
    tmp_path: Path, dead_deployment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keystore = write_keystore(dev_accounts(1)[0], "right", tmp_path / "keys").path
    monkeypatch.setenv("DAOFED_PASSWORD", "wrong")
    args = ["propose", "set-quorum", "2", "--keystore", str(keystore), "-d", str(dead_deployment)]
    assert "wrong password (from $DAOFED_PASSWORD)" in one_line_error(args)
    password_file = tmp_path / "password.txt"
    password_file.write_text("also wrong\n")
    line = one_line_error([*args, "--password-file", str(password_file)])
    assert f"wrong password (from {password_file})" in line


@pytest.mark.parametrize(
    ("options", "named"),
    [(["--members", "900"], "--members 900"), (["--members", "3", "--alpha", "0"], "--alpha")],
)
def test_data_split_errors_name_the_options(options: list[str], named: str, tmp_path: Path) -> None:
    line = one_line_error(["data", "split", *options, "--out-dir", str(tmp_path)])
    assert named in line
    assert not any(word in line for word in ("num_members", "min_samples", "test_fraction"))
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_chain_up_on_a_busy_port_suggests_another() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        line = one_line_error(["chain", "up", "--port", str(port)])
    assert f"127.0.0.1:{port}" in line and "--port" in line
