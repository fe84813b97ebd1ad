"""check_rounds: the round rules re-checked from the events alone, each break named exactly.

The scenario's real history keeps every rule; each test forges one thing a contract that
is not the Federation could emit and checks the audit names the round and the rule.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from daofed.audit import History, Verdict, check_rounds, verify_history
from daofed.audit.records import CommitRecord, PostRecord, UpdateRecord, VoteRecord
from daofed.chain import dev_accounts

from .scenario import Scenario

OUTSIDER = dev_accounts(10)[9].address


def forge(history: History, number: int, **changes: Any) -> History:
    """``history`` with round ``number`` changed as given."""
    rounds = [dataclasses.replace(r, **changes) if r.round == number else r for r in history.rounds]
    return dataclasses.replace(history, rounds=tuple(rounds))


def reasons(history: History) -> list[str]:
    return [finding.reason for finding in check_rounds(history)]


def test_a_real_history_keeps_every_rule(history: History) -> None:
    assert check_rounds(history) == ()


def test_a_vote_by_a_non_member_is_named_and_does_not_count(history: History) -> None:
    one = history.round(1)
    stranger = dataclasses.replace(one.votes[0], member=OUTSIDER)
    findings = check_rounds(forge(history, 1, votes=(one.votes[0], stranger)))
    assert [(f.round, f.member, f.reason) for f in findings] == [
        (1, OUTSIDER, "non-member-vote"),
        (1, None, "no-quorum"),
    ]
    assert findings[0].message == f"round 1: {OUTSIDER} voted but is not a member of round 1"
    assert one.accepted_digest is not None
    assert findings[1].message == (
        f"round 1: model {one.accepted_digest.hex()[:12]}.. at {one.accepted_cid!r} was "
        "accepted with 1 of the 3 member votes its quorum needs"
    )


def test_votes_for_the_accepted_digest_at_another_cid_count_apart(history: History) -> None:
    one = history.round(1)
    elsewhere = dataclasses.replace(one.votes[2], cid="QmNotWhereTheOthersFetchedIt")
    forged = forge(history, 1, votes=(*one.votes[:2], elsewhere))
    (finding,) = check_rounds(forged)
    assert finding.reason == "no-quorum" and "with 2 of the 3" in finding.message


def test_a_member_acting_twice_is_named(history: History) -> None:
    one = history.round(1)
    twice = forge(
        history, 1, votes=(*one.votes, one.votes[0]), updates=(*one.updates, one.updates[1])
    )
    assert sorted(reasons(twice)) == ["repeated-update", "repeated-vote"]
    messages = {f.message for f in check_rounds(twice)}
    assert f"round 1: {one.votes[0].member} voted 2 times" in messages


def test_acts_after_their_deadline_are_late(history: History) -> None:
    one = history.round(1)
    late_vote = dataclasses.replace(one.votes[0], timestamp=one.vote_deadline)
    late_update = dataclasses.replace(one.updates[0], timestamp=one.submit_deadline + 5)
    forged = forge(
        history, 1, votes=(late_vote, *one.votes[1:]), updates=(late_update, *one.updates[1:])
    )
    findings = check_rounds(forged)
    assert [(f.member, f.reason) for f in findings] == [
        (late_update.member, "late-update"),
        (late_vote.member, "late-vote"),
    ]
    assert findings[1].message == (
        f"round 1: {late_vote.member} voted at {one.vote_deadline}, not before the vote "
        f"deadline {one.vote_deadline}"
    )


def test_acts_before_the_round_opened_are_early(history: History) -> None:
    two = history.round(2)
    early = dataclasses.replace(two.updates[0], block_number=two.opened_block - 1)
    assert reasons(forge(history, 2, updates=(early, *two.updates[1:]))) == ["early-update"]


def test_round_parameters_must_be_the_config_in_force(history: History) -> None:
    forged = forge(history, 2, quorum=1, vote_deadline=history.round(2).vote_deadline + 10**6)
    (finding,) = check_rounds(forged)
    assert finding.reason == "round-parameters"
    assert finding.message.startswith("round 2: opened with quorum 1 (not 3), vote deadline ")
    assert finding.message.endswith(": config v1 was in force")


def test_the_base_must_be_the_cid_the_quorum_agreed_on(history: History) -> None:
    (finding,) = check_rounds(forge(history, 2, base_cid="QmSomewhereElse"))
    assert (finding.round, finding.reason) == (2, "base-mismatch")
    assert "is to be fetched from 'QmSomewhereElse'" in finding.message


def test_sample_counts_stay_within_the_rounds_bounds(history: History) -> None:
    one = history.round(1)
    zero = dataclasses.replace(one.updates[0], num_samples=0)
    (finding,) = check_rounds(forge(history, 1, updates=(zero, *one.updates[1:])))
    assert finding.reason == "sample-count" and finding.member == zero.member


def test_commitments_only_in_commit_reveal_rounds_and_reveals_only_after_them(
    history: History,
) -> None:
    one = history.round(1)
    commit = CommitRecord(
        one.updates[0].member, b"\xab" * 32, one.opened_block, one.opened_timestamp, "0x", 0
    )
    assert reasons(forge(history, 1, commits=(commit,))) == ["unexpected-commit"]
    revealed = forge(history, 1, commits=(commit,), commit_reveal=True)
    assert reasons(revealed).count("unannounced-update") == 2  # the two that never committed


def test_rounds_open_in_order_from_the_deployment_block(history: History) -> None:
    renumbered = forge(history, 3, round=5)
    assert "round-sequence" in reasons(renumbered)
    moved = forge(history, 1, opened_block=history.deploy_block + 1)
    assert "round-sequence" in reasons(moved)


def test_broken_rules_make_their_round_a_mismatch(scenario: Scenario, history: History) -> None:
    one = history.round(1)
    stranger = VoteRecord(OUTSIDER, one.votes[0].digest, one.votes[0].cid, 0, 0, "0x", 0)
    result = verify_history(forge(history, 1, votes=(*one.votes, stranger)), scenario.store)
    assert not result.ok and result.rounds[0].verdict is Verdict.MISMATCH
    assert [f.reason for f in result.rounds[0].findings] == ["non-member-vote", "early-vote"]
    assert [r.verdict for r in result.rounds[1:]] == [
        Verdict.VERIFIED,
        Verdict.CLOSED,
        Verdict.OPEN,
    ]


def post(member: str, block: int, timestamp: int, log_index: int = 0) -> PostRecord:
    """A setup or recovery message of ``member`` at that place and time."""
    return PostRecord(
        member, b"\x11" * 32, "QmMessage", block, timestamp, "0x" + "ab" * 32, log_index
    )


def test_private_messages_keep_their_phases(history: History) -> None:
    one = history.round(1)
    first, last = min(one.updates, key=position), max(one.updates, key=position)
    setup = post(first.member, one.opened_block, one.opened_timestamp)
    recovery = post(first.member, last.block_number, last.timestamp, last.log_index + 1)
    assert check_rounds(forge(history, 1, setups=(setup,), recoveries=(recovery,))) == ()

    late = post(last.member, last.block_number, one.setup_deadline, last.log_index + 1)
    stranger = post(OUTSIDER, one.opened_block, one.opened_timestamp)
    early = post(last.member, first.block_number, first.timestamp, first.log_index + 1)
    after_votes = dataclasses.replace(recovery, timestamp=one.vote_deadline)
    forged = forge(
        history,
        1,
        setups=(setup, setup, late, stranger),
        recoveries=(early, after_votes),
    )
    found = sorted((f.member, f.reason) for f in check_rounds(forged))
    assert found == sorted(
        [
            (first.member, "repeated-setup"),
            (last.member, "late-setup"),  # at the setup deadline
            (last.member, "late-setup"),  # after its own update
            (OUTSIDER, "non-member-setup"),
            (last.member, "early-recovery"),  # before every update was in
            (first.member, "late-recovery"),  # at the vote deadline
        ]
    )


def position(update: UpdateRecord) -> tuple[int, int]:
    return (update.block_number, update.log_index)
