"""Proposals in the history, rounds under the rule in force, and the governance re-check."""

from __future__ import annotations

import dataclasses

import pytest

from daofed.audit import History, Verdict, check_governance, verify_history
from daofed.audit.governance import EXECUTION_PERIOD
from daofed.audit.records import ProposalVoteRecord
from daofed.chain import ProposalKind, ProposalState, dev_accounts

from .governed import Governed

pytestmark = pytest.mark.slow  # a four-round federation with proposals (~10 s, once)


def test_each_round_runs_under_the_rule_and_members_in_force(
    governed: Governed, governed_history: History
) -> None:
    rounds = governed_history.rounds
    assert [(r.rule, r.config_version, r.member_count) for r in rounds] == [
        ("fedavg", 1, 4),
        ("fedavg", 1, 4),
        ("median", 2, 5),
        ("median", 2, 5),
    ]
    fifth = governed.members[4].address
    assert fifth not in rounds[1].members and fifth in rounds[2].members
    assert fifth in {u.member for u in rounds[2].updates}


def test_proposals_list_who_voted_how_and_what_was_executed(
    governed: Governed, governed_history: History
) -> None:
    one, two, three, four, fifth = (m.address for m in governed.members)
    median, admit, stricter = governed_history.proposals
    assert (median.kind, median.value, median.proposer) == (ProposalKind.SET_RULE, "median", one)
    assert [(v.member, v.support) for v in median.votes] == [
        (one, True),
        (two, True),
        (three, True),
    ]
    assert (median.state, median.applies_from_round) == (ProposalState.EXECUTED, 3)
    assert (admit.kind, admit.value, admit.yes, admit.no) == (ProposalKind.ADD_MEMBER, fifth, 3, 1)
    assert (four, False) in [(v.member, v.support) for v in admit.votes]
    assert admit.executed and admit.applies_from_round == 3
    assert (stricter.kind, stricter.value, stricter.state) == (
        ProposalKind.SET_QUORUM,
        4,
        ProposalState.DEFEATED,
    )
    assert not stricter.executed and stricter.yes == 1 < stricter.votes_needed


def test_every_round_verifies_under_its_rule_and_governance_holds(
    governed: Governed, governed_history: History
) -> None:
    result = verify_history(governed_history, governed.store)
    assert result.ok and result.governance == ()
    assert [r.verdict for r in result.rounds] == [Verdict.VERIFIED] * 3 + [Verdict.OPEN]
    assert [r.rule for r in result.rounds[:3]] == ["fedavg", "fedavg", "median"]


def test_recomputing_a_median_round_with_the_old_rule_does_not_match(
    governed: Governed, governed_history: History
) -> None:
    rounds = list(governed_history.rounds)
    rounds[2] = dataclasses.replace(rounds[2], rule="fedavg")
    forged = dataclasses.replace(governed_history, rounds=tuple(rounds))
    three = verify_history(forged, governed.store).rounds[2]
    assert three.verdict is Verdict.MISMATCH
    assert [f.reason for f in three.findings] == ["aggregate-mismatch"]


def test_a_change_without_a_carried_proposal_is_reported(governed_history: History) -> None:
    median, admit, stricter = governed_history.proposals
    unexecuted = dataclasses.replace(median, executed_tx=None, executed_block=None)
    forged = dataclasses.replace(governed_history, proposals=(unexecuted, admit, stricter))
    (finding,) = check_governance(forged)
    assert finding.reason == "change-without-proposal"
    assert finding.message == "config v2 (from round 3) was not made by a proposal"


def test_an_executed_proposal_without_quorum_is_reported(governed_history: History) -> None:
    median, admit, stricter = governed_history.proposals
    short = dataclasses.replace(median, votes=median.votes[:2], yes=2)
    (finding,) = check_governance(
        dataclasses.replace(governed_history, proposals=(short, admit, stricter))
    )
    assert (finding.proposal, finding.reason) == (median.id, "not-carried")
    assert finding.message == (
        "proposal 1 (set aggregation rule to 'median') was executed with 2 yes votes from "
        "members of round 2; it needed 3, a strict majority of its 4 members"
    )


def test_votes_from_outsiders_and_repeated_votes_are_reported(
    governed: Governed, governed_history: History
) -> None:
    median, admit, stricter = governed_history.proposals
    outsider = ProposalVoteRecord(governed.members[4].address, True, 0, 0, "0x", 0)
    twice = median.votes[0]
    forged_votes = (*median.votes, outsider, twice)
    forged = dataclasses.replace(median, votes=forged_votes)
    findings = check_governance(
        dataclasses.replace(governed_history, proposals=(forged, admit, stricter))
    )
    assert sorted(f.reason for f in findings) == ["double-vote", "non-member-vote"]


def test_a_change_that_is_not_what_was_proposed_is_reported(governed_history: History) -> None:
    configs = list(governed_history.configs)
    configs[1] = dataclasses.replace(configs[1], rule="krum")
    (finding,) = check_governance(dataclasses.replace(governed_history, configs=tuple(configs)))
    assert finding.reason == "change-not-proposed"
    assert "does not carry out proposal 1" in finding.message


@pytest.mark.parametrize(
    ("kind", "value"),
    [(ProposalKind.REMOVE_MEMBER, None), (ProposalKind.ADD_MEMBER, dev_accounts(1)[0].address)],
)
def test_a_member_change_that_is_not_what_was_proposed_is_reported(
    governed_history: History, kind: ProposalKind, value: str | None
) -> None:
    median, admit, stricter = governed_history.proposals
    forged = dataclasses.replace(admit, kind=kind, value=admit.value if value is None else value)
    (finding,) = check_governance(
        dataclasses.replace(governed_history, proposals=(median, forged, stricter))
    )
    assert (finding.proposal, finding.reason) == (admit.id, "change-not-proposed")


def test_who_executed_each_proposal_is_kept(governed: Governed, governed_history: History) -> None:
    median, admit, stricter = governed_history.proposals
    assert median.executed_by == governed.members[2].address
    assert admit.executed_by == dev_accounts(1)[0].address  # the deployer: anyone may execute
    assert stricter.executed_by is None


def test_a_config_change_executed_on_a_newer_config_was_stale(governed_history: History) -> None:
    median, admit, stricter = governed_history.proposals
    older = dataclasses.replace(median, config_version=median.config_version - 1)
    (finding,) = check_governance(
        dataclasses.replace(governed_history, proposals=(older, admit, stricter))
    )
    assert (finding.proposal, finding.reason) == (median.id, "stale")
    assert finding.message == (
        "proposal 1 (set aggregation rule to 'median') was voted against config v0 but made "
        "config v2 (from round 3): it was stale"
    )


def test_a_threshold_that_is_not_a_majority_of_members_is_reported(
    governed_history: History,
) -> None:
    median, admit, stricter = governed_history.proposals
    lenient = dataclasses.replace(median, votes_needed=2)
    (finding,) = check_governance(
        dataclasses.replace(governed_history, proposals=(lenient, admit, stricter))
    )
    assert (finding.proposal, finding.reason) == (median.id, "wrong-threshold")
    assert finding.message == (
        "proposal 1 asked for 2 yes votes; a strict majority of the 4 members of round 2 is 3"
    )


def test_an_execution_that_changed_nothing_is_reported(governed_history: History) -> None:
    median, admit, stricter = governed_history.proposals
    claimed = dataclasses.replace(
        stricter, executed_block=1, executed_tx="0x" + "ab" * 32, executed_log_index=0
    )
    findings = check_governance(
        dataclasses.replace(governed_history, proposals=(median, admit, claimed))
    )
    assert [(f.proposal, f.reason) for f in findings] == [
        (stricter.id, "not-carried"),
        (stricter.id, "executed-without-change"),
    ]


def test_late_votes_and_executions_out_of_time_are_reported(governed_history: History) -> None:
    """Votes count only before the vote end; execution runs from it for EXECUTION_PERIOD."""
    median, admit, stricter = governed_history.proposals
    late = dataclasses.replace(median.votes[0], timestamp=median.vote_end)
    expired = dataclasses.replace(
        median,
        votes=(late, *median.votes[1:]),
        executed_timestamp=median.vote_end + EXECUTION_PERIOD,
    )
    findings = check_governance(
        dataclasses.replace(governed_history, proposals=(expired, admit, stricter))
    )
    assert [f.reason for f in findings] == ["late-vote", "not-carried", "executed-out-of-time"]
    assert findings[2].message == (
        f"proposal 1 (set aggregation rule to 'median') was executed at "
        f"{median.vote_end + EXECUTION_PERIOD}; it could be from its vote end {median.vote_end} "
        f"until {median.vote_end + EXECUTION_PERIOD}, when it expired"
    )
