"""The audit of private rounds: recomputed from their messages, tampering named by member.

One federation (see ``private.py``), built on this module's own anvil so the CLI can
reach it through its URL: round 1 plain, round 2 private, round 3 private with a wrong
revealed share, round 4 open.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import typer
from starlette.testclient import TestClient
from typer.testing import CliRunner

from daofed.audit import AuditSource, History, Verdict, read_history, verify_history
from daofed.chain import AnvilNode
from daofed.cli.audit import audit
from daofed.cli.status import status
from daofed.explorer import create_app
from daofed.storage import LocalStore

from .private import MEMBERS, PrivateFederation, build_private

HEX_DIGEST = re.compile(r"^0x[0-9a-f]{64}$")
app = typer.Typer()  # two commands, as daofed.cli.app registers them: `audit` is a subcommand
app.command()(audit)
app.command()(status)


@pytest.fixture(scope="module")
def private(own_anvil: AnvilNode, tmp_path_factory: pytest.TempPathFactory) -> PrivateFederation:
    return build_private(own_anvil.web3(), tmp_path_factory.mktemp("private") / "blobs")


@pytest.fixture(scope="module")
def history(private: PrivateFederation) -> History:
    return read_history(private.federation)


def store_copy(private: PrivateFederation, tmp_path: Path) -> LocalStore:
    """A copy of the federation's store to tamper with."""
    shutil.copytree(private.store.root, tmp_path / "blobs")
    return LocalStore(tmp_path / "blobs")


def test_the_history_records_private_messages_and_keys(
    private: PrivateFederation, history: History
) -> None:
    plain, two, three, _ = history.rounds
    assert plain.setups == plain.recoveries == ()
    assert len(two.setups) == len(two.recoveries) == len(two.updates) == MEMBERS
    assert [p.member for p in three.recoveries].count(private.cheater.address) == 1
    assert set(history.keys_in_force(2)) == {m.address for m in private.members}
    assert all(
        (key.block_number, key.log_index) < (two.opened_block, two.opened_log_index)
        for key in history.encryption_keys
    )


def test_plain_and_private_rounds_verify(private: PrivateFederation, history: History) -> None:
    result = verify_history(history, private.store)
    assert result.ok and result.findings == ()
    assert [r.verdict for r in result.rounds] == [
        Verdict.VERIFIED,
        Verdict.VERIFIED,
        Verdict.VERIFIED,
        Verdict.OPEN,
    ]
    one, two = result.rounds[:2]
    assert one.recomputed_digest == history.round(1).accepted_digest
    assert two.recomputed_digest == history.round(2).accepted_digest
    assert set(two.included) == {m.address for m in private.members}
    assert two.exclusions == ()


def test_a_wrong_revealed_share_is_an_exclusion_naming_its_sender(
    private: PrivateFederation, history: History
) -> None:
    three = verify_history(history, private.store).rounds[2]
    assert three.verdict is Verdict.VERIFIED
    assert three.recomputed_digest == history.round(3).accepted_digest
    (exclusion,) = three.exclusions
    assert (exclusion.member, exclusion.reason) == (private.cheater.address, "bad-share")
    (cheat,) = [p for p in history.round(3).recoveries if p.member == private.cheater.address]
    assert exclusion.digest == cheat.digest
    assert set(three.included) == {m.address for m in private.members}  # its update counts


def test_an_overwritten_masked_update_names_its_member(
    private: PrivateFederation, history: History, tmp_path: Path
) -> None:
    store = store_copy(private, tmp_path)
    victim = history.round(2).updates[1]
    path = store.path_for(victim.digest)
    path.write_bytes(path.read_bytes()[:-1] + b"\x01")

    result = verify_history(history, store)

    assert not result.ok
    two = result.rounds[1]
    assert two.verdict is Verdict.MISMATCH and two.recomputed_digest is None
    (finding,) = two.findings
    assert (finding.member, finding.reason) == (victim.member, "wrong-digest")
    assert f"round 2: masked update of {victim.member}" in finding.message
    assert result.rounds[2].verdict is Verdict.VERIFIED  # the other rounds are unaffected


def test_an_overwritten_recovery_message_names_its_sender(
    private: PrivateFederation, history: History, tmp_path: Path
) -> None:
    store = store_copy(private, tmp_path)
    victim = history.round(2).recoveries[0]
    store.path_for(victim.digest).write_bytes(b"not the recovery message on record")

    two = verify_history(history, store).rounds[1]

    assert two.verdict is Verdict.MISMATCH
    (finding,) = two.findings
    assert (finding.member, finding.reason) == (victim.member, "wrong-digest")
    assert f"round 2: recovery message of {victim.member}" in finding.message
    # the other four still reveal enough shares: the sum is the accepted model all the same
    assert two.recomputed_digest == history.round(2).accepted_digest


def test_an_overwritten_setup_message_stops_the_recomputation_naming_its_dealer(
    private: PrivateFederation, history: History, tmp_path: Path
) -> None:
    store = store_copy(private, tmp_path)
    victim = history.round(2).setups[2]
    store.path_for(victim.digest).unlink()

    two = verify_history(history, store).rounds[1]

    assert two.verdict is Verdict.MISMATCH and two.recomputed_digest is None
    (finding,) = two.findings
    assert (finding.member, finding.reason) == (victim.member, "missing-blob")
    assert f"round 2: setup message of {victim.member}" in finding.message


def test_a_key_counts_from_the_first_round_opened_after_it(history: History) -> None:
    """A key set in the block that opened a round counts if its log comes first."""
    two = history.round(2)
    first, *rest = history.encryption_keys
    same_block = dataclasses.replace(first, block_number=two.opened_block)

    def keys(log_index: int, round_number: int) -> dict[str, bytes]:
        moved = dataclasses.replace(same_block, log_index=log_index)
        return dataclasses.replace(history, encryption_keys=(moved, *rest)).keys_in_force(
            round_number
        )

    assert first.account in keys(two.opened_log_index - 1, 2)
    assert first.account not in keys(two.opened_log_index + 1, 2)
    assert first.account in keys(two.opened_log_index + 1, 3)


def test_audit_verify_json_exits_1_on_a_tampered_private_round(
    private: PrivateFederation, own_anvil: AnvilNode, history: History, tmp_path: Path
) -> None:
    store = store_copy(private, tmp_path)
    target = ["--rpc-url", own_anvil.url, "--contract", private.federation.address]
    target += ["--store", f"local:{store.root}", "--verify", "--json"]
    clean = runner_json(target, 0)
    two = clean["history"]["rounds"][1]
    posted = [*two["setups"], *two["recoveries"]]
    assert all(HEX_DIGEST.match(p["digest"]) for p in posted)
    assert all(HEX_DIGEST.match(k["key"]) for k in clean["history"]["encryption_keys"])

    victim = history.round(2).updates[0]
    store.path_for(victim.digest).write_bytes(b"swapped")
    document = runner_json(target, 1)
    assert document["ok"] is False
    findings = document["verification"]["rounds"][1]["findings"]
    assert [(f["member"], f["reason"]) for f in findings] == [(victim.member, "wrong-digest")]


def test_audit_table_names_the_ignored_share(
    private: PrivateFederation, own_anvil: AnvilNode
) -> None:
    target = ["--rpc-url", own_anvil.url, "--contract", private.federation.address]
    target += ["--store", f"local:{private.store.root}", "--verify"]
    result = CliRunner().invoke(app, ["audit", *target])
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())  # rich's line wrapping undone
    cheater = private.cheater.address
    assert f"round 3: recovery message of {cheater}: bad-share, ignored" in output
    assert "history verified" in output


def test_the_explorer_shows_private_messages_and_the_ignored_share(
    private: PrivateFederation, history: History
) -> None:
    """Here rather than in tests/explorer: it reads this module's federation."""
    app = create_app(AuditSource(private.federation, private.store), poll_interval=0.05)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        wait(lambda: client.get("/api/head").json()["version"] >= 1)
        rounds = client.get("/rounds").text
        for post in history.round(2).setups:
            assert f'data-setup data-member="{post.member}"' in rounds
        for post in history.round(2).recoveries:
            assert f'data-digest="0x{post.digest.hex()}"' in rounds
        client.post("/api/verify")
        wait(lambda: client.get("/api/verify").json()["state"] == "done")
        assert client.get("/api/verify").json()["ok"] is True
        cheater = private.cheater.address
        exclusion = f'data-exclusion data-member="{cheater}" data-reason="bad-share"'
        assert exclusion in client.get("/rounds").text


def wait(condition: Callable[[], bool], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def runner_json(arguments: list[str], exit_code: int) -> dict[str, Any]:
    """Run ``daofed audit`` with ``arguments``, check its exit code, parse its JSON."""
    result = CliRunner().invoke(app, ["audit", *arguments])
    assert result.exit_code == exit_code, result.output
    document: dict[str, Any] = json.loads(result.stdout)
    return document
