"""The explorer's app without a browser: its views of a real history, its API, its guards.

The federation is the audit scenario (accepted, excluded-update, closed and open rounds)
on the embedded chain; the app runs in-process behind Starlette's test client, its
follower thread reading that chain as it would read anvil.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from daofed.audit import AuditSource, History, Outcome, read_history, run_audit
from daofed.chain import AnvilNode, dev_accounts, embedded_chain
from daofed.explorer import create_app, views
from daofed.explorer.follow import Follower
from daofed.explorer.views import Cell
from daofed.storage import LocalStore
from tests.audit.scenario import Scenario, build_scenario
from tests.federations import deploy

HOST = "http://127.0.0.1"  # the test client's base URL: a host the explorer serves


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    return build_scenario(embedded_chain(), tmp_path_factory.mktemp("explorer") / "blobs")


@pytest.fixture(scope="module")
def history(scenario: Scenario) -> History:
    return read_history(scenario.federation)


@pytest.fixture(scope="module")
def client(scenario: Scenario) -> Iterator[TestClient]:
    app = create_app(AuditSource(scenario.federation, scenario.store), poll_interval=0.05)
    with TestClient(app, base_url=HOST) as client:
        _wait(lambda: client.get("/api/head").json()["version"] >= 1)
        yield client


def _wait(condition: object, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_cells_say_what_each_member_did(scenario: Scenario, history: History) -> None:
    m1, m2, m3 = (m.address for m in scenario.members)
    round_1, round_2, round_3, round_4 = history.rounds
    assert {views.cell(round_1, m) for m in (m1, m2, m3)} == {Cell.BOTH}
    assert views.cell(round_2, m3) is Cell.BOTH  # its bad bytes are still a submission
    assert {views.cell(round_3, m) for m in (m1, m2, m3)} == {Cell.SUBMITTED}
    assert round_4.outcome is Outcome.OPEN
    assert [views.cell(round_4, m) for m in (m1, m2, m3)] == [
        Cell.SUBMITTED,
        Cell.PENDING,
        Cell.PENDING,
    ]
    assert views.cell(round_1, dev_accounts(9)[8].address) is Cell.OUTSIDE


def test_member_rows_count_the_whole_history(scenario: Scenario, history: History) -> None:
    rows = views.member_rows(history)
    assert [r.address for r in rows] == [m.address for m in scenario.members]
    assert [(r.joined, r.left, r.rounds) for r in rows] == [(1, None, 4)] * 3
    assert [r.submitted for r in rows] == [4, 3, 3]
    assert [r.voted for r in rows] == [2, 2, 2]


def test_heatmap_shows_the_latest_rounds(history: History) -> None:
    heat = views.heatmap(history, latest=2)
    assert heat.rounds == (3, 4)
    assert heat.cells[0] == (Cell.SUBMITTED, Cell.SUBMITTED)
    assert heat.cells[1] == (Cell.SUBMITTED, Cell.PENDING)


def test_timeline_pages_run_newest_first(history: History) -> None:
    many = replace(
        history, rounds=tuple(replace(history.rounds[0], round=n) for n in range(1, 121))
    )
    first, last = views.timeline_page(many, 1), views.timeline_page(many, 3)
    assert [r.round for r in first.rounds] == list(range(120, 70, -1))
    assert [r.round for r in last.rounds] == list(range(20, 0, -1))
    assert (first.newer, first.older, last.newer, last.older) == (None, 2, 2, None)
    assert views.timeline_page(many, 99).number == 3 and views.timeline_page(many, -5).number == 1
    assert [views.page_of(many, n) for n in (120, 71, 70, 1)] == [1, 1, 2, 3]


def test_pages_render_the_history(client: TestClient, history: History) -> None:
    rounds = client.get("/rounds").text
    for record in history.rounds:
        assert f'data-round="{record.round}"' in rounds
        for update in record.updates:
            assert f'data-digest="0x{update.digest.hex()}"' in rounds  # as the API spells it
    overview = client.get("/")
    assert overview.status_code == 200
    assert 'data-phase="submit"' in overview.text
    assert client.get("/rounds?page=not-a-number").status_code == 200
    assert "No proposal has been made." in client.get("/proposals").text


def test_api_audit_is_the_audit_document(client: TestClient, scenario: Scenario) -> None:
    served = client.get("/api/audit").json()
    expected = run_audit(scenario.federation, scenario.store, evaluate=True).to_json()
    assert served["history"] == expected["history"]
    assert served["evaluation"] == expected["evaluation"]
    assert (served["verified"], served["ok"]) == (False, None)


def test_charts_have_a_point_per_round(client: TestClient, history: History) -> None:
    charts = client.get("/api/charts").json()
    assert charts["headline"] == "accuracy" and set(charts["metrics"]) >= {"accuracy", "loss"}
    finished = [r.round for r in history.rounds if r.outcome is not Outcome.OPEN]
    for series in charts["metrics"].values():
        assert [r for r, _ in series] == [0, *finished]
    gas = dict(charts["gas"])
    assert sorted(gas) == [r.round for r in history.rounds]
    assert gas[1] > gas[3] > 0  # round 1 also paid for votes and acceptance


def test_verification_runs_in_the_background(client: TestClient, scenario: Scenario) -> None:
    started = client.post("/api/verify").json()
    assert started["state"] in ("running", "done")
    _wait(lambda: client.get("/api/verify").json()["state"] == "done")
    progress = client.get("/api/verify").json()
    assert progress["ok"] is True and progress["done"] == progress["total"] == 4
    assert [r["verdict"] for r in progress["rounds"]] == ["verified", "verified", "closed", "open"]
    rounds = client.get("/rounds").text
    bad = scenario.members[2].address
    assert f'data-exclusion data-member="{bad}" data-reason="not-safetensors"' in rounds
    document = client.get("/api/audit").json()
    assert document["verified"] is True and document["ok"] is True


def test_every_response_forbids_foreign_scripts(client: TestClient) -> None:
    headers = client.get("/").headers
    assert "script-src 'self'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"


def test_other_hosts_and_origins_are_refused(client: TestClient) -> None:
    assert client.get("/", headers={"host": "attacker.example"}).status_code == 400
    refused = client.post("/api/verify", headers={"origin": "http://attacker.example"})
    assert refused.status_code == 403


@pytest.mark.anvil
def test_a_dead_node_keeps_the_last_snapshot_and_says_why(tmp_path: Path) -> None:
    node = AnvilNode.start()  # its own, not the session's: the test stops it
    with node:
        store = LocalStore(tmp_path / "blobs")
        deployer, *members = dev_accounts(3)
        federation = deploy(node.web3(), store, deployer, members)
        follower = Follower(AuditSource(federation, store))
        follower.refresh()
        assert follower.snapshot.history is not None and follower.snapshot.problem is None
    follower.refresh()  # the node is gone
    snapshot = follower.snapshot
    assert snapshot.problem is not None and node.url in snapshot.problem
    assert snapshot.history is not None and snapshot.history.rounds[0].round == 1
