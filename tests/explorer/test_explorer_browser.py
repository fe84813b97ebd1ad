"""The explorer in a real browser against a real federation: what the pages say is the chain.

A module-scoped anvil runs the federation of :func:`tests.explorer.federations.build_explored`
(accepted, governed, accepted, closed rounds; round 4 open), ``daofed explorer`` runs as a
subprocess on it and headless Chromium reads its pages. Each value on a page is compared
with the chain, read here through the Federation's own views and events.

The tests run in file order: the live one finishes round 4 while a page is open, and the
verification and screenshot tests after it see the accepted round 4.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_typing import HexStr
from eth_utils.address import to_checksum_address
from playwright.sync_api import Page

from daofed.chain import AnvilNode, Federation, Phase
from daofed.chain.events import ChainEvent

from .conftest import Explorer, run_explorer, wait_synced
from .federations import Explored, build_explored

pytestmark = [pytest.mark.slow, pytest.mark.anvil]

OUTCOMES = {
    Phase.ACCEPTED: "accepted",
    Phase.CLOSED: "closed",
    Phase.EXPIRED: "expired",
    Phase.SUBMIT: "open",
    Phase.REVEAL: "open",
    Phase.VOTE: "open",
}
ROUNDS_JS = """sections => sections.map(s => ({
    round: s.dataset.round,
    outcome: s.dataset.outcome,
    base: s.dataset.baseDigest,
    accepted: s.dataset.acceptedDigest,
    closedBy: s.dataset.closedBy,
    verdict: s.dataset.verdict,
    updates: [...s.querySelectorAll('tr[data-update]')].map(r => ({
        member: r.dataset.member, digest: r.dataset.digest, cid: r.dataset.cid,
        samples: r.dataset.samples})),
    votes: [...s.querySelectorAll('tr[data-vote]')].map(r => ({
        member: r.dataset.member, digest: r.dataset.digest})),
}))"""
PROPOSALS_JS = """rows => rows.map(r => ({
    id: r.dataset.proposal,
    kind: r.dataset.kind,
    state: r.dataset.state,
    executedBy: r.dataset.executedBy,
    summary: r.querySelector('td.summary')?.innerText ?? null,
    votes: [...r.querySelectorAll('li[data-proposal-vote]')].map(v => ({
        member: v.dataset.member, support: v.dataset.support})),
}))"""


@pytest.fixture(scope="module")
def explored(own_anvil: AnvilNode, tmp_path_factory: pytest.TempPathFactory) -> Explored:
    return build_explored(own_anvil.web3(), tmp_path_factory.mktemp("explored") / "blobs")


@pytest.fixture(scope="module")
def explorer(
    own_anvil: AnvilNode, explored: Explored, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Explorer]:
    with run_explorer(
        own_anvil.url,
        explored.federation,
        explored.store.root,
        tmp_path_factory.mktemp("explorer-logs"),
    ) as running:
        yield running


def test_rounds_page_shows_every_round_update_and_vote_of_the_chain(
    page: Page, explorer: Explorer, explored: Explored
) -> None:
    federation = explored.federation
    page.goto(explorer.page_url("/rounds"))
    wait_synced(page, federation)
    shown = {int(s["round"]): s for s in page.eval_on_selector_all("section.round", ROUNDS_JS)}
    current = federation.current_round()
    assert sorted(shown) == list(range(1, current + 1)), "one section per round, 1 to current"
    assert [s["round"] for s in page.eval_on_selector_all("section.round", ROUNDS_JS)] == [
        str(r) for r in range(current, 0, -1)
    ], "newest first"
    for round_number in range(1, current + 1):
        _assert_round(shown[round_number], federation, round_number)
    assert shown[3]["outcome"] == "closed"
    assert shown[4]["outcome"] == "open"
    assert [shown[r]["outcome"] for r in (1, 2)] == ["accepted", "accepted"]
    # each section is addressable: base digest links to the round that produced it
    assert page.locator("section#round-2").count() == 1
    base_links = page.locator("section#round-2 a[href$='#round-1']")
    assert base_links.count() >= 1, "round 2's base digest links to #round-1"


def test_proposals_page_shows_kinds_states_executors_and_votes_of_the_chain(
    page: Page, explorer: Explorer, explored: Explored
) -> None:
    federation = explored.federation
    page.goto(explorer.page_url("/proposals"))
    wait_synced(page, federation)
    shown = {int(p["id"]): p for p in page.eval_on_selector_all("tr[data-proposal]", PROPOSALS_JS)}
    created = federation.proposals()
    assert sorted(shown) == [p.proposal_id for p in created]
    executors = {e.proposal_id: _sender(federation, e) for e in federation.executed_proposals()}
    for proposal in created:
        row = shown[proposal.proposal_id]
        assert row["kind"] == proposal.kind.label
        assert row["state"] == federation.proposal_state(proposal.proposal_id).label
        assert _address_or_empty(row["executedBy"]) == executors.get(proposal.proposal_id, "")
        assert row["summary"], f"proposal {proposal.proposal_id} has a td.summary with text"
        votes = {
            v.voter: "yes" if v.support else "no"
            for v in federation.proposal_votes(proposal.proposal_id)
        }
        assert {to_checksum_address(v["member"]): v["support"] for v in row["votes"]} == votes
        assert len(row["votes"]) == len(votes)
    median, lower = shown[explored.median], shown[explored.lower_quorum]
    assert (median["kind"], median["state"]) == ("set-rule", "executed")
    assert to_checksum_address(median["executedBy"]) == explored.members[1].address
    assert "median" in median["summary"]
    assert (lower["kind"], lower["state"], lower["executedBy"]) == ("set-quorum", "defeated", "")


def test_overview_shows_the_current_round_rules_members_and_participation(
    page: Page, explorer: Explorer, explored: Explored
) -> None:
    federation = explored.federation
    page.goto(explorer.page_url("/"))
    wait_synced(page, federation)
    current = federation.current_round()
    now = page.locator("#current-round")
    assert now.get_attribute("data-round") == str(current)
    assert now.get_attribute("data-phase") == federation.phase(current).label
    info = federation.round_info(current)
    rules = page.locator("#rules")
    assert rules.get_attribute("data-quorum") == str(info.quorum)
    assert rules.get_attribute("data-rule") == federation.rule_of(current) == "median"
    members = page.eval_on_selector_all(
        "#members tr[data-member]",
        "rows => rows.map(r => [r.dataset.member, r.dataset.joined, r.dataset.left])",
    )
    joined = {e.account: e.from_round for e in federation.membership_changes()}
    assert sorted(members) == sorted(
        [m, str(joined.get(m, 1)), ""] for m in federation.members(current)
    )
    configs = page.eval_on_selector_all(
        "#configs tr[data-config-version]",
        "rows => rows.map(r => [r.dataset.configVersion, r.dataset.rule, r.dataset.quorum,"
        " r.dataset.fromRound])",
    )
    expected = [
        [str(c.version), c.rule, str(c.quorum), str(c.from_round)]
        for c in federation.config_changes()
    ]
    assert sorted(configs) == sorted(expected)
    cells = {
        (to_checksum_address(c[0]), int(c[1])): c[2]
        for c in page.eval_on_selector_all(
            "#participation td[data-cell]",
            "cells => cells.map(c => [c.dataset.member, c.dataset.round, c.dataset.cell])",
        )
    }
    for member in explored.members:
        for round_number in (1, 2):
            assert cells[member.address, round_number] == "submitted+voted"
        assert cells[member.address, 3] == "submitted"
    assert page.locator("canvas#metric-chart").count() == 1
    assert page.locator("canvas#gas-chart").count() == 1


def test_a_round_accepted_while_the_page_is_open_appears_without_a_reload(
    page: Page, explorer: Explorer, explored: Explored
) -> None:
    federation = explored.federation
    page.goto(explorer.page_url("/rounds"))
    wait_synced(page, federation)
    assert page.locator('section[data-round="4"]').get_attribute("data-outcome") == "open"
    page.evaluate("window.__loadedOnce = true")  # a reload would drop it

    explored.finish_round()  # round 4, by the members' agents, in this process

    section = page.wait_for_selector(
        'section[data-round="4"][data-outcome="accepted"]', timeout=30_000
    )
    assert section is not None
    assert page.evaluate("window.__loadedOnce") is True, "the page was reloaded"
    accepted = federation.round_info(4).accepted
    assert accepted is not None
    assert section.get_attribute("data-accepted-digest") == "0x" + accepted.hex
    wait_synced(page, federation)
    assert page.evaluate("document.body.dataset.version") == page.evaluate(
        "document.querySelector('main#content').dataset.version"
    )
    shown = {int(s["round"]): s for s in page.eval_on_selector_all("section.round", ROUNDS_JS)}
    _assert_round(shown[4], federation, 4)
    assert shown[5]["outcome"] == "open"


def test_verification_in_the_browser_verifies_every_accepted_round(
    page: Page, explorer: Explorer, explored: Explored, screenshots: Path
) -> None:
    federation = explored.federation
    if federation.current_round() == 4:  # run without the live test before it
        explored.finish_round()
    page.goto(explorer.page_url("/"))
    wait_synced(page, federation)
    page.click("#verify-start")
    page.wait_for_selector('#verify-state[data-state="done"]', timeout=60_000)
    state = page.locator("#verify-state")
    assert state.get_attribute("data-ok") == "true", state.inner_text()
    page.screenshot(path=screenshots / "explorer-overview.png", full_page=True)

    page.goto(explorer.page_url("/rounds"))
    wait_synced(page, federation)
    verdicts = {
        int(s["round"]): s["verdict"] for s in page.eval_on_selector_all("section.round", ROUNDS_JS)
    }
    accepted = [e.round for e in federation.accepted()]
    assert accepted == [1, 2, 4]
    assert {r: verdicts[r] for r in accepted} == dict.fromkeys(accepted, "verified")
    assert verdicts[3] == "closed"
    page.screenshot(path=screenshots / "explorer-rounds.png", full_page=True)

    page.goto(explorer.page_url("/proposals"))
    wait_synced(page, federation)
    page.screenshot(path=screenshots / "explorer-proposals.png", full_page=True)
    for name in ("overview", "rounds", "proposals"):
        assert (screenshots / f"explorer-{name}.png").stat().st_size > 1000


def _assert_round(shown: dict[str, Any], federation: Federation, round_number: int) -> None:
    """Compare one round's section with the chain's round info and events."""
    info = federation.round_info(round_number)
    where = f"round {round_number}"
    assert shown["outcome"] == OUTCOMES[info.phase], where
    assert shown["base"] == "0x" + info.base.hex, where
    assert shown["accepted"] == ("0x" + info.accepted.hex if info.accepted else ""), where
    closed = [e for e in federation.rounds_closed() if e.round == round_number]
    closer = _sender(federation, closed[0]) if closed else ""
    assert _address_or_empty(shown["closedBy"]) == closer, where
    updates = sorted(
        (u.member, "0x" + u.digest.hex(), u.cid, str(u.num_samples))
        for u in federation.updates(round_number)
    )
    assert (
        sorted(
            (to_checksum_address(u["member"]), u["digest"], u["cid"], u["samples"])
            for u in shown["updates"]
        )
        == updates
    ), where
    votes = sorted((v.member, "0x" + v.digest.hex()) for v in federation.votes(round_number))
    assert (
        sorted((to_checksum_address(v["member"]), v["digest"]) for v in shown["votes"]) == votes
    ), where


def _sender(federation: Federation, event: ChainEvent) -> str:
    """Who sent the transaction that emitted ``event``."""
    return to_checksum_address(federation.w3.eth.get_transaction(HexStr(event.tx_hash))["from"])


def _address_or_empty(value: str | None) -> str:
    return to_checksum_address(value) if value else ""
