"""``daofed audit`` over JSON-RPC: tables, --json, --verify, --plot and exit codes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from daofed.cli.audit import audit
from daofed.cli.status import members, status

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
    assert document["ok"] is True and document["verification"] is None
    rounds = document["history"]["rounds"]
    assert [r["outcome"] for r in rounds] == ["accepted", "accepted", "closed", "open"]
    assert rounds[0]["tallies"][0]["votes"] == 3
    assert rounds[1]["base_digest"] == rounds[0]["accepted_digest"]
    assert document["history"]["contract"] == cli_federation.address


def test_audit_verify_json_reports_every_round(cli_federation: CliFederation) -> None:
    store = f"local:{cli_federation.scenario.store_dir}"
    result = runner.invoke(
        app, ["audit", *cli_federation.target(), "--store", store, "--verify", "--json"]
    )
    assert result.exit_code == 0, result.output
    verification = json.loads(result.stdout)["verification"]
    assert verification["ok"] is True
    verdicts = [r["verdict"] for r in verification["rounds"]]
    assert verdicts == ["verified", "verified", "closed", "open"]
    (exclusion,) = verification["rounds"][1]["exclusions"]
    assert exclusion["reason"] == "not-safetensors"
    accuracy = json.loads(result.stdout)["accuracy"]
    assert [a["round"] for a in accuracy] == [0, 1, 2, 3]


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
    digest = victim["digest"]
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
    from daofed.audit import default_test_set
    from daofed.learning import Dataset, save_npz

    full = default_test_set()
    save_npz(tmp_path / "test.npz", Dataset(x=full.x[:50], y=full.y[:50]))
    store = f"local:{cli_federation.scenario.store_dir}"
    args = ["audit", *cli_federation.target(), "--store", store, "--verify", "--json"]
    default = json.loads(runner.invoke(app, args).stdout)["accuracy"]
    custom = runner.invoke(app, [*args, "--test-data", str(tmp_path / "test.npz")])
    assert custom.exit_code == 0, custom.output
    assert json.loads(custom.stdout)["accuracy"] != default


@pytest.mark.slow
def test_governed_federation_verifies_and_lists_its_proposals(cli_governed: CliGoverned) -> None:
    """Issue 4's acceptance: 4 members, rule -> median, a fifth member, rounds continue."""
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
    assert [(v["member"], v["support"]) for v in admit["votes"]][-1] == (members[3], False)
    assert (stricter["state"], stricter["yes"], stricter["no"]) == ("defeated", 1, 0)

    table = runner.invoke(app, ["audit", *cli_governed.target(), "--verify"])
    assert table.exit_code == 0, table.output
    output = flat(table.stdout)  # cells wrap at 80 columns: look for single words
    for word in ("proposals", "'median'", "3 yes, 1 no (needs 3)", "defeated", "history verified"):
        assert word in output
