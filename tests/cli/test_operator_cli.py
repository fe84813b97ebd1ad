"""The operator's commands against a real anvil: keys, deploy, data, governance by hand."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import daofed
from daofed.agent.private import MemberKeys
from daofed.chain import AnvilNode, EncryptionKeySet, advance_time, dev_account
from daofed.chain.keystore import load_keystore
from daofed.cli import app
from daofed.errors import ConfigError
from daofed.session import abi_version, open_session

runner = CliRunner()
PASSWORD = "s3cret passphrase"


def invoke(*args: str) -> Any:
    """Run a command that must succeed; return its --json document."""
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def fail(*args: str) -> str:
    """Run a command that must fail cleanly; return what it said."""
    result = runner.invoke(app, list(args))
    assert result.exit_code == 1, result.output
    return result.stderr


def test_account_new_writes_an_owner_only_encrypted_keystore(tmp_path: Path) -> None:
    password_file = tmp_path / "password"
    password_file.write_text(PASSWORD + "\n")
    keys = tmp_path / "keys"
    entry = invoke(
        "account",
        "new",
        "--keystore-dir",
        str(keys),
        "--password-file",
        str(password_file),
        "--json",
    )
    path = Path(str(entry["path"]))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "private" not in path.read_text().lower()  # only the encrypted form is stored
    assert load_keystore(path, PASSWORD).address == entry["address"]
    with pytest.raises(ConfigError, match="wrong password"):
        load_keystore(path, "not it")
    listed = json.loads(
        json.dumps(invoke("account", "list", "--keystore-dir", str(keys), "--json"))
    )
    assert listed[0]["address"] == entry["address"]


def test_account_import_refuses_to_overwrite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAOFED_PASSWORD", PASSWORD)
    keys = str(tmp_path)
    invoke("account", "import", "--dev", "3", "--keystore-dir", keys, "--json")
    assert "already exists" in fail("account", "import", "--dev", "3", "--keystore-dir", keys)


def test_data_split_writes_member_files_and_a_test_set(tmp_path: Path) -> None:
    out = invoke("data", "split", "--members", "3", "--out-dir", str(tmp_path), "--json")
    files = out["files"]
    assert isinstance(files, dict) and set(files) == {
        "member-1.npz",
        "member-2.npz",
        "member-3.npz",
        "test.npz",
    }
    assert sum(int(n) for n in files.values()) == 1797


@pytest.fixture
def deployment(own_anvil: AnvilNode, tmp_path: Path) -> Path:
    path = tmp_path / "daofed.toml"
    members = [arg for i in (1, 2, 3) for arg in ("-m", dev_account(i).address)]
    invoke(
        "deploy", *members, "--quorum", "2", "--rpc-url", own_anvil.url, "--store",
        f"local:{tmp_path / 'blobs'}", "--dev", "0", "--out", str(path), "--json",
    )  # fmt: skip
    return path


def test_governance_by_hand(own_anvil: AnvilNode, deployment: Path) -> None:
    d = ["--deployment", str(deployment)]
    created = invoke("propose", "set-rule", "trimmed-mean:beta=0.25", *d, "--dev", "1", "--json")
    proposal = str(created["proposal_id"])
    assert created["value"] == "trimmed-mean:beta=0.25"
    invoke("vote", "proposal", proposal, "yes", *d, "--dev", "1", "--json")
    voted = invoke("vote", "proposal", proposal, "yes", *d, "--dev", "2", "--json")
    assert voted["proposal"]["yes"] == 2
    too_early = " ".join(fail("execute", proposal, *d, "--dev", "0").split())
    assert f"proposal {proposal} is open for votes until" in too_early
    assert "has 2 of the" in too_early and "more)" in too_early
    advance_time(own_anvil.web3(), 3600)  # past the voting period
    invoke("execute", proposal, *d, "--dev", "0", "--json")
    listed = invoke("proposals", *d, "--json")
    assert listed[0]["state"] == "executed"


def test_governance_errors_say_what_to_do(deployment: Path) -> None:
    d = ["--deployment", str(deployment)]
    assert "unknown" in fail("propose", "set-rule", "mean-of-vibes", *d, "--dev", "1").lower()
    assert "not a member" in fail("propose", "set-quorum", "1", *d, "--dev", "5")
    assert "no key given" in fail("propose", "set-quorum", "1", *d)
    assert "no deployment file" in fail("proposals", "--deployment", "missing.toml")


def test_encryption_keys_are_registered_once_and_rotated_by_generation(deployment: Path) -> None:
    d = ["--deployment", str(deployment), "--dev", "1", "--json"]
    federation = open_session(deployment).federation
    keys = MemberKeys(federation, dev_account(1))
    registered = invoke("encryption-key", "register", *d)
    assert registered["encryption_key"] == "0x" + keys.generation(0).public.hex()
    assert invoke("encryption-key", "register", *d)["status"] == "already registered"
    rotated = invoke("encryption-key", "rotate", *d)
    assert rotated["encryption_key"] == "0x" + keys.generation(1).public.hex()
    assert rotated["status"] == "rotated to generation 1"
    changes = [(e.account, e.key) for e in federation.events(EncryptionKeySet)]
    assert changes == [(dev_account(1).address, keys.generation(g).public) for g in (0, 1)]
    outsider = fail("encryption-key", "register", "--deployment", str(deployment), "--dev", "5")
    assert "not a member" in outsider and "Traceback" not in outsider


def test_version_as_json_names_the_abi_it_speaks() -> None:
    result = runner.invoke(app, ["version", "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["version"] == daofed.__version__
    assert document["abi_version"] == abi_version()
    assert runner.invoke(app, ["version"]).stdout.strip() == daofed.__version__
