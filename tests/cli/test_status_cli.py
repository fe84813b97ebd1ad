"""``daofed status`` and ``daofed members``: tables and --json, over JSON-RPC."""

from __future__ import annotations

import json

import pytest

from daofed.cli.status import duration

from .conftest import CliFederation, CliGoverned
from .test_audit_cli import app, flat, runner


def test_status_json(cli_federation: CliFederation) -> None:
    result = runner.invoke(
        app, ["status", "--deployment", str(cli_federation.deployment), "--json"]
    )
    assert result.exit_code == 0, result.output
    status = json.loads(result.stdout)
    assert (status["round"], status["phase"], status["quorum"]) == (4, "submit", 3)
    assert [m["submitted"] for m in status["members"]] == [True, False, False]
    assert status["exclusions"] == []  # checked with the deployment file's store
    assert 0 < status["submit_seconds_left"] <= 600
    base = cli_federation.scenario.federation.round_info(4).base
    assert status["base_digest"] == "0x" + base.hex  # as every --json spells a digest
    assert [u["digest"] for u in status["updates"]] == [
        "0x" + u.digest.hex() for u in cli_federation.scenario.federation.updates(4)
    ]


def test_status_table_without_a_store(cli_federation: CliFederation) -> None:
    result = runner.invoke(app, ["status", *cli_federation.target()])
    assert result.exit_code == 0, result.output
    for text in ("round 4", "submit", "left", "members this round", "fedavg"):
        assert text in result.stdout
    first = cli_federation.scenario.members[0].address
    assert first in result.stdout


def test_members_json_and_table(cli_federation: CliFederation) -> None:
    scenario = cli_federation.scenario
    node = "/ip4/10.77.0.13/tcp/4001/p2p/12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo"
    scenario.federation.set_node_addresses(scenario.members[-1], [node])
    as_json = runner.invoke(app, ["members", *cli_federation.target(), "--json"])
    assert as_json.exit_code == 0, as_json.output
    membership = json.loads(as_json.stdout)
    assert membership["round"] == 4
    addresses = [m.address for m in scenario.members]
    assert [m["address"] for m in membership["members"]] == addresses
    assert {m["standing"] for m in membership["members"]} == {"member"}
    assert [m["node_addresses"] for m in membership["members"]] == [[], [], [node]]

    table = runner.invoke(app, ["members", *cli_federation.target()])
    assert table.exit_code == 0
    assert all(address in table.stdout for address in addresses)
    assert "10.77.0.13:4001" in table.stdout


def test_status_of_a_missing_deployment_file_says_what_to_do() -> None:
    result = runner.invoke(app, ["status", "--deployment", "/nonexistent/daofed.toml"])
    assert result.exit_code == 1
    assert "run `daofed deploy` first" in flat(result.output)


def test_status_of_an_unreachable_node_names_it() -> None:
    result = runner.invoke(
        app, ["status", "--rpc-url", "http://127.0.0.1:9", "--contract", "0x" + "11" * 20]
    )
    assert result.exit_code == 1
    assert "http://127.0.0.1:9" in flat(result.output)


@pytest.mark.parametrize(
    ("seconds", "text"), [(0, "0s"), (9, "9s"), (250, "4m 10s"), (3900, "1h 05m"), (-5, "0s")]
)
def test_duration(seconds: int, text: str) -> None:
    assert duration(seconds) == text


@pytest.mark.slow
def test_members_after_an_admission(cli_governed: CliGoverned) -> None:
    target = cli_governed.target()[:4]  # members need no store
    result = runner.invoke(app, ["members", *target, "--json"])
    assert result.exit_code == 0, result.output
    members = json.loads(result.stdout)["members"]
    fifth = cli_governed.governed.members[4].address
    assert [(m["address"], m["from_round"]) for m in members][-1] == (fifth, 3)
    assert len(members) == 5 and {m["standing"] for m in members} == {"member"}
