"""read_status and read_members: the running round and the members, as a person needs them."""

from __future__ import annotations

from pathlib import Path

from daofed.audit import History, Standing, read_members, read_status
from daofed.chain import Phase
from daofed.storage import LocalStore

from .scenario import WINDOW, Scenario


def test_status_in_the_vote_phase_lists_exclusions_and_the_honest_aggregate(
    scenario: Scenario, history: History
) -> None:
    status = scenario.status_in_round_2_vote
    assert (status.round, status.phase) == (2, Phase.VOTE)
    assert all(m.submitted and not m.voted for m in status.members)
    assert status.tallies == ()
    (exclusion,) = status.exclusions or ()
    assert exclusion.member == scenario.members[2].address
    assert exclusion.reason == "not-safetensors"
    assert status.expected_aggregate == history.round(2).accepted_digest
    assert 0 < status.vote_seconds_left <= 2 * WINDOW


def test_status_in_the_submit_phase(scenario: Scenario) -> None:
    status = read_status(scenario.federation, scenario.store)
    assert (status.round, status.phase, status.quorum) == (4, Phase.SUBMIT, 3)
    assert [m.submitted for m in status.members] == [True, False, False]
    assert [u.member for u in status.updates] == [scenario.members[0].address]
    assert status.exclusions == () and status.expected_aggregate is None
    assert 0 < status.submit_seconds_left <= WINDOW
    assert status.rule == "fedavg" and status.store_problem is None


def test_status_without_a_store_does_not_know_exclusions(
    scenario: Scenario, tmp_path: Path
) -> None:
    assert read_status(scenario.federation).exclusions is None
    wrong = read_status(scenario.federation, LocalStore(tmp_path))
    assert wrong.exclusions is None
    assert wrong.store_problem is not None and "genesis model" in wrong.store_problem


def test_members_and_what_they_did_this_round(scenario: Scenario) -> None:
    membership = read_members(scenario.federation)
    assert membership.round == 4
    assert [m.address for m in membership.members] == [a.address for a in scenario.members]
    assert all(m.standing is Standing.MEMBER and m.from_round == 1 for m in membership.members)
    assert all(m.until_round is None for m in membership.members)
    assert [m.submitted for m in membership.members] == [True, False, False]
