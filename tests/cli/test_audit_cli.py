"""``daofed audit`` over JSON-RPC: tables, --json, --verify, --plot, --task and exit codes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from daofed.chain import AnvilNode, dev_accounts
from daofed.cli.audit import audit
from daofed.cli.status import members, status
from daofed.learning import load_task
from tests.audit.impostor import build_impostor

from .conftest import CliFederation, CliGoverned

app = typer.Typer()  # the commands as daofed.cli.app registers them
app.command()(audit)
app.command()(status)
app.command()(members)
runner = CliRunner()


def flat(text: str) -> str:
    """The output with rich's line wrapping undone, for matching sentences."""
    return " ".join(text.split())


def test_audit_json_lists_every_round_from_events(cli_federation: CliFederation) -> None:
    result = runner.invoke(app, ["audit", *cli_federation.target(), "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["verified"] is False and document["ok"] is None  # nothing was checked
    assert document["code"] is None and document["verification"] is None
    rounds = document["history"]["rounds"]
    assert [r["outcome"] for r in rounds] == ["accepted", "accepted", "closed", "open"]
    closer = cli_federation.scenario.members[0].address
    assert [r["closed_by"] for r in rounds] == [None, None, closer, None]
    assert rounds[0]["tallies"][0]["votes"] == 3
    assert rounds[1]["base_digest"] == rounds[0]["accepted_digest"]
    assert document["history"]["contract"] == cli_federation.address


def test_audit_verify_json_reports_every_round(cli_federation: CliFederation) -> None:
    store = f"local:{cli_federation.scenario.store_dir}"
    result = runner.invoke(
        app, ["audit", *cli_federation.target(), "--store", store, "--verify", "--json"]
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["verified"] is True and document["ok"] is True
    code = document["code"]
    assert code["ok"] is True and code["problem"] is None
    assert code["message"].startswith(f"runtime code at {cli_federation.address} is the shipped")
    verification = document["verification"]
    assert verification["ok"] is True
    verdicts = [r["verdict"] for r in verification["rounds"]]
    assert verdicts == ["verified", "verified", "closed", "open"]
    assert verification["task"] == "digits-mlp"  # the task the genesis model pins
    (exclusion,) = verification["rounds"][1]["exclusions"]
    assert exclusion["reason"] == "not-safetensors"
    evaluation = json.loads(result.stdout)["evaluation"]
    assert (evaluation["task"], evaluation["test_data"], evaluation["test_seed"]) == (
        "digits-mlp",
        None,
        0,
    )
    assert evaluation["metrics"] == ["accuracy", "loss"] and evaluation["headline"] == "accuracy"
    rounds = evaluation["rounds"]
    assert [r["round"] for r in rounds] == [0, 1, 2, 3]
    assert all(r["accuracy"] == r["metrics"]["accuracy"] for r in rounds)


def test_audit_tables_from_a_deployment_file(cli_federation: CliFederation, tmp_path: Path) -> None:
    plot = tmp_path / "audit.png"
    result = runner.invoke(
        app,
        ["audit", "--deployment", str(cli_federation.deployment), "--verify", "--plot", str(plot)],
    )
    assert result.exit_code == 0, result.output
    output = flat(result.stdout)
    for text in ("rounds", "updates and votes", "verified", "history verified", "not-safetensors"):
        assert text in output
    address = cli_federation.address
    assert f"runtime code at {address} is the shipped Federation (solc 0.8.37" in output
    closer = cli_federation.scenario.members[0].address
    assert f"closed by {closer[:6]}..{closer[-4:]}" in output
    for text in ("(task digits-mlp)", "metrics of task digits-mlp", "accuracy", "loss"):
        assert text in output
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_tampered_store_fails_with_the_round_and_member(
    cli_federation: CliFederation, tmp_path: Path
) -> None:
    blobs = tmp_path / "blobs"
    shutil.copytree(cli_federation.scenario.store_dir, blobs)
    history = json.loads(runner.invoke(app, ["audit", *cli_federation.target(), "--json"]).stdout)[
        "history"
    ]
    victim = history["rounds"][1]["updates"][0]
    if victim["num_samples"] == 100:  # the bad update is excluded anyway: pick an honest one
        victim = history["rounds"][1]["updates"][1]
    digest = victim["digest"].removeprefix("0x")
    (blobs / digest[:2] / digest[2:]).write_bytes(b"swapped")
    target = [*cli_federation.target(), "--store", f"local:{blobs}", "--verify"]

    as_json = runner.invoke(app, ["audit", *target, "--json"])
    assert as_json.exit_code == 1
    document = json.loads(as_json.stdout)
    assert document["ok"] is False
    findings = document["verification"]["rounds"][1]["findings"]
    assert {(f["round"], f["member"], f["reason"]) for f in findings if f["member"]} >= {
        (2, victim["member"], "wrong-digest")
    }

    as_table = runner.invoke(app, ["audit", *target])
    assert as_table.exit_code == 1
    assert f"round 2: update of {victim['member']}" in flat(as_table.output)
    assert "history does NOT verify" in flat(as_table.stdout)


def test_a_wrong_store_is_a_clear_error(cli_federation: CliFederation, tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["audit", *cli_federation.target(), "--store", f"local:{tmp_path}", "--verify"],
    )
    assert result.exit_code == 1
    assert "does not hold this federation's genesis model" in flat(result.output)
    assert "Traceback" not in result.output


def test_verify_without_a_store_says_how_to_give_one(cli_federation: CliFederation) -> None:
    result = runner.invoke(app, ["audit", *cli_federation.target(), "--verify"])
    assert result.exit_code == 1
    assert "--store" in result.output


def test_contract_without_rpc_url_is_refused(cli_federation: CliFederation) -> None:
    result = runner.invoke(app, ["audit", "--contract", cli_federation.address])
    assert result.exit_code == 1
    assert "--contract needs --rpc-url" in flat(result.output)


def test_test_data_override(cli_federation: CliFederation, tmp_path: Path) -> None:
    from daofed.audit import default_test_data
    from daofed.learning import Dataset, save_npz

    full = default_test_data(load_task("digits-mlp"))
    save_npz(tmp_path / "test.npz", Dataset(x=full.x[:50], y=full.y[:50]))
    store = f"local:{cli_federation.scenario.store_dir}"
    args = ["audit", *cli_federation.target(), "--store", store, "--verify", "--json"]
    default = json.loads(runner.invoke(app, args).stdout)["evaluation"]
    custom = runner.invoke(app, [*args, "--test-data", str(tmp_path / "test.npz")])
    assert custom.exit_code == 0, custom.output
    evaluation = json.loads(custom.stdout)["evaluation"]
    assert evaluation["test_data"] == str(tmp_path / "test.npz")
    assert evaluation["test_seed"] is None
    assert evaluation["rounds"] != default["rounds"]


@pytest.mark.slow
def test_governed_federation_verifies_and_lists_its_proposals(cli_governed: CliGoverned) -> None:
    """Governance end to end over RPC: 4 members, rule -> median, a fifth member, rounds
    continue, and the audit verifies it all."""
    result = runner.invoke(app, ["audit", *cli_governed.target(), "--verify", "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    verification = document["verification"]
    assert verification["ok"] is True and verification["governance"] == []
    assert [r["verdict"] for r in verification["rounds"]] == ["verified"] * 3 + ["open"]
    assert [r["rule"] for r in document["history"]["rounds"]] == ["fedavg"] * 2 + ["median"] * 2
    median, admit, stricter = document["history"]["proposals"]
    members = [m.address for m in cli_governed.governed.members]
    assert (median["kind"], median["value"], median["state"]) == ("set-rule", "median", "executed")
    assert [(v["member"], v["support"]) for v in median["votes"]] == [
        (members[0], True),
        (members[1], True),
        (members[2], True),
    ]
    assert (admit["kind"], admit["value"], admit["state"]) == ("add-member", members[4], "executed")
    assert (median["executed_by"], admit["executed_by"]) == (members[2], dev_accounts(1)[0].address)
    assert [(v["member"], v["support"]) for v in admit["votes"]][-1] == (members[3], False)
    assert (stricter["state"], stricter["yes"], stricter["no"]) == ("defeated", 1, 0)

    table = runner.invoke(app, ["audit", *cli_governed.target(), "--verify"])
    assert table.exit_code == 0, table.output
    output = flat(table.stdout)  # cells wrap at 80 columns: look for single words
    for word in ("proposals", "'median'", "3 yes, 1 no (needs 3)", "defeated", "history verified"):
        assert word in output


def test_an_impostor_contract_fails_verification_with_the_reason(
    anvil: AnvilNode, tmp_path: Path
) -> None:
    """Well-formed Federation events emitted by other code fail verification: exit 1."""
    impostor = build_impostor(anvil.web3(), tmp_path / "blobs")
    target = [
        "--rpc-url",
        anvil.url,
        "--contract",
        impostor.address,
        "--store",
        f"local:{impostor.store.root}",
        "--verify",
    ]
    reason = f"the code at {impostor.address} is not the daofed Federation this version ships: "
    outsider = impostor.outsiders[0].address

    as_table = runner.invoke(app, ["audit", *target])
    assert as_table.exit_code == 1
    assert "Traceback" not in as_table.output
    output = flat(as_table.output)
    assert reason + "its runtime code is " in output
    assert f"round 1: {outsider} voted but is not a member of round 1" in output
    assert "was accepted with 0 of the 3 member votes its quorum needs" in output
    assert "history does NOT verify" in output

    as_json = runner.invoke(app, ["audit", *target, "--json"])
    assert as_json.exit_code == 1
    document = json.loads(as_json.stdout)
    assert document["ok"] is False and document["code"]["ok"] is False
    assert document["code"]["message"].startswith(reason)
    findings = document["verification"]["rounds"][0]["findings"]
    assert {"non-member-update", "non-member-vote", "no-quorum"} <= {f["reason"] for f in findings}
