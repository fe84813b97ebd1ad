"""The Federation contract through its Python wrapper, on the embedded chain and on anvil."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3

from daofed.chain import AggregateVoted, Federation, Phase, UpdateSubmitted, advance_time
from daofed.errors import ChainError, ConfigError, ContractRevert
from daofed.storage import BlobRef

from .conftest import (
    QUORUM,
    REVEAL_WINDOW,
    SUBMIT_WINDOW,
    VOTE_WINDOW,
    accept_round,
    blob,
    check,
)
from .raw import raw_call, raw_deploy

ZERO = b"\x00" * 32
ZERO_ADDRESS = "0x" + "00" * 20


def submit_all(federation: Federation, members: list[LocalAccount], round_number: int) -> None:
    for i, member in enumerate(members):
        federation.submit_update(member, round_number, blob(f"u{round_number}-{i}"), 10 + i)


# -- deployment ------------------------------------------------------------------------


def test_deploy_opens_round_one_on_genesis(
    federation: Federation, members: list[LocalAccount], genesis: BlobRef
) -> None:
    info = federation.round_info(1)
    assert federation.current_round() == 1
    assert info.base == genesis
    assert info.phase is Phase.SUBMIT
    assert (info.quorum, info.member_count, info.submissions) == (QUORUM, 4, 0)
    assert info.submit_deadline - info.start_time == SUBMIT_WINDOW
    assert info.reveal_deadline == info.submit_deadline  # no commit-reveal
    assert info.vote_deadline - info.submit_deadline == VOTE_WINDOW
    assert (info.commit_reveal, info.commits) == (False, 0)
    assert info.config_version == 1 and info.accepted is None
    assert federation.members() == [m.address for m in members]
    assert federation.member_count() == 4
    assert federation.rule_of(1) == "fedavg"
    assert federation.current_base() == genesis
    config = federation.config()
    assert (config.version, config.quorum, config.rule) == (1, QUORUM, "fedavg")
    assert (config.submit_window, config.vote_window) == (SUBMIT_WINDOW, VOTE_WINDOW)
    assert (config.reveal_window, config.commit_reveal) == (REVEAL_WINDOW, False)


def test_deploy_defaults_the_reveal_window_and_the_voting_period(
    w3: Web3, deployer: LocalAccount, members: list[LocalAccount], genesis: BlobRef
) -> None:
    federation = Federation.deploy(
        w3,
        deployer,
        members=[m.address for m in members],
        quorum=2,
        submit_window=100,
        vote_window=50,
        rule="median",
        genesis=genesis,
    )
    config = federation.config()
    assert (config.reveal_window, config.voting_period, config.commit_reveal) == (100, 150, False)


def test_deploy_events_record_members_config_and_first_round(
    federation: Federation, members: list[LocalAccount], genesis: BlobRef
) -> None:
    added = federation.membership_changes()
    assert [(e.account, e.from_round) for e in added] == [(m.address, 1) for m in members]
    (config,) = federation.config_changes()
    assert (config.version, config.quorum, config.rule, config.from_round) == (1, 3, "fedavg", 1)
    assert (config.reveal_window, config.commit_reveal) == (REVEAL_WINDOW, False)
    (opened,) = federation.rounds_opened()
    assert (opened.round, opened.base, opened.quorum, opened.member_count) == (1, genesis, 3, 4)
    assert (opened.reveal_deadline, opened.commit_reveal) == (opened.submit_deadline, False)
    assert opened.block_number == federation.deploy_block


MAX_PERIOD = 30 * 24 * 3600


@pytest.mark.parametrize(
    ("overrides", "error", "args"),
    [
        ({"quorum": 0}, "InvalidQuorum", {"quorum": 0, "memberCount": 4}),
        ({"quorum": 5}, "InvalidQuorum", {"quorum": 5, "memberCount": 4}),
        ({"members": []}, "InvalidQuorum", {"quorum": 3, "memberCount": 0}),
        (
            {"submitWindow": 0, "revealWindow": 5},
            "InvalidWindows",
            {"submitWindow": 0, "voteWindow": VOTE_WINDOW, "revealWindow": 5},
        ),
        (
            {"voteWindow": 0},
            "InvalidWindows",
            {"submitWindow": SUBMIT_WINDOW, "voteWindow": 0, "revealWindow": REVEAL_WINDOW},
        ),
        (
            {"revealWindow": 0},
            "InvalidWindows",
            {"submitWindow": SUBMIT_WINDOW, "voteWindow": VOTE_WINDOW, "revealWindow": 0},
        ),
        (
            {"voteWindow": MAX_PERIOD + 1},
            "InvalidWindows",
            {
                "submitWindow": SUBMIT_WINDOW,
                "voteWindow": MAX_PERIOD + 1,
                "revealWindow": REVEAL_WINDOW,
            },
        ),
        ({"votingPeriod": 0}, "InvalidVotingPeriod", {"votingPeriod": 0}),
        ({"votingPeriod": 2**32 - 1}, "InvalidVotingPeriod", {"votingPeriod": 2**32 - 1}),
        ({"rule": ""}, "InvalidRuleLength", {"length": 0}),
        ({"rule": "x" * 20_000}, "InvalidRuleLength", {"length": 20_000}),
        ({"maxSamples": 0}, "InvalidMaxSamples", {"maxSamples": 0}),
        ({"maxSamples": 2**53}, "InvalidMaxSamples", {"maxSamples": 2**53}),
        ({"genesis": ZERO}, "ZeroDigest", {}),
        ({"cid": ""}, "EmptyCid", {}),
        ({"members": [ZERO_ADDRESS]}, "InvalidMember", {"account": ZERO_ADDRESS}),
    ],
)
def test_constructor_rejects_invalid_arguments(
    w3: Web3,
    deployer: LocalAccount,
    members: list[LocalAccount],
    overrides: dict[str, object],
    error: str,
    args: dict,
) -> None:
    """Sent raw (past the client's own checks), the constructor itself refuses each."""
    settings: dict[str, object] = {
        "members": [m.address for m in members],
        "quorum": QUORUM,
        "submitWindow": SUBMIT_WINDOW,
        "voteWindow": VOTE_WINDOW,
        "revealWindow": REVEAL_WINDOW,
        "votingPeriod": 60,
        "commitReveal": False,
        "rule": "fedavg",
        "maxSamples": 1000,
        "genesis": blob("genesis").digest,
        "cid": blob("genesis").locator,
    }
    settings.update(overrides)
    config = tuple(settings[k] for k in list(settings)[1:9])
    revert, address = raw_deploy(
        w3, deployer, settings["members"], config, settings["genesis"], settings["cid"]
    )
    assert address is None and revert is not None
    assert (revert.error, revert.args_by_name) == (error, args)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"voting_period": MAX_PERIOD + 1}, "voting period must be 1 to"),
        ({"submit_window": 0}, "submit window must be 1 to"),
        ({"rule": "medain"}, "unknown aggregation rule"),
        ({"rule": "trimmed-mean"}, "missing"),
        ({"max_samples": 2**53}, "sample cap must be"),
    ],
)
def test_the_client_refuses_what_the_contract_would(
    deploy: Callable[..., Federation], overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        deploy(**overrides)


def test_constructor_rejects_duplicate_members(
    deploy: Callable[..., Federation], members: list[LocalAccount]
) -> None:
    duplicated = [members[0].address, members[1].address, members[0].address]
    with pytest.raises(ContractRevert) as info:
        deploy(members=duplicated, quorum=1)
    check(info, "MemberExists", account=members[0].address)


def test_at_finds_the_deploy_block_and_rejects_addresses_without_code(
    w3: Web3, federation: Federation, outsider: LocalAccount
) -> None:
    same = Federation.at(w3, federation.address.lower())
    assert same.address == federation.address
    assert same.deploy_block == federation.deploy_block
    assert same.current_round() == 1
    with pytest.raises(ConfigError, match="no contract at"):
        Federation.at(w3, outsider.address)


# -- submissions -----------------------------------------------------------------------


def test_submission_is_recorded_with_everything_in_its_event(
    federation: Federation, members: list[LocalAccount]
) -> None:
    ref = blob("update")
    sent = federation.submit_update(members[0], 1, ref, 123)
    assert federation.has_submitted(1, members[0].address)
    assert not federation.has_submitted(1, members[1].address)
    assert federation.round_info(1).submissions == 1
    (event,) = federation.updates(1)
    assert (event.round, event.member, event.ref, event.num_samples) == (
        1,
        members[0].address,
        ref,
        123,
    )
    assert (event.block_number, event.tx_hash) == (sent.block_number, sent.tx_hash)
    assert federation.updates(2) == []


def test_submit_rejects_non_member(federation: Federation, outsider: LocalAccount) -> None:
    with pytest.raises(ContractRevert) as info:
        federation.submit_update(outsider, 1, blob("u"), 1)
    check(info, "NotMember", account=outsider.address, round=1)
    assert "not a member of round 1" in str(info.value)


def test_submit_rejects_a_round_that_is_not_open(
    federation: Federation, members: list[LocalAccount]
) -> None:
    with pytest.raises(ContractRevert) as info:
        federation.submit_update(members[0], 2, blob("u"), 1)
    check(info, "WrongRound", given=2, current=1)


def test_submit_rejects_second_submission(
    federation: Federation, members: list[LocalAccount]
) -> None:
    federation.submit_update(members[0], 1, blob("u"), 1)
    with pytest.raises(ContractRevert) as info:
        federation.submit_update(members[0], 1, blob("other"), 1)
    check(info, "AlreadySubmitted", round=1, member=members[0].address)


@pytest.mark.parametrize(
    ("ref", "samples", "error", "args"),
    [
        (BlobRef(ZERO, "cid"), 1, "ZeroDigest", {}),
        (BlobRef(blob("u").digest, ""), 1, "EmptyCid", {}),
        (blob("u"), 0, "InvalidSampleCount", {"numSamples": 0, "maxSamples": 1000}),
        (blob("u"), 1001, "InvalidSampleCount", {"numSamples": 1001, "maxSamples": 1000}),
        (blob("u"), 2**64 - 1, "InvalidSampleCount", {"numSamples": 2**64 - 1, "maxSamples": 1000}),
    ],
)
def test_submit_rejects_invalid_arguments(
    deploy: Callable[..., Federation],
    members: list[LocalAccount],
    ref: BlobRef,
    samples: int,
    error: str,
    args: dict,
) -> None:
    """A raw submission cannot claim more samples than the governed cap (all FedAvg weight)."""
    federation = deploy(max_samples=1000)
    revert = raw_call(federation, members[0], "submitUpdate", 1, ref.digest, ref.locator, samples)
    assert revert is not None and (revert.error, revert.args_by_name) == (error, args)
    assert federation.round_info(1).submissions == 0
    assert federation.round_info(1).max_samples == 1000


def test_all_submitted_ends_the_submit_phase_early(
    federation: Federation, members: list[LocalAccount]
) -> None:
    submit_all(federation, members[:3], 1)
    assert federation.phase(1) is Phase.SUBMIT
    federation.submit_update(members[3], 1, blob("last"), 1)
    assert federation.phase(1) is Phase.VOTE


def test_submit_rejected_after_the_submission_deadline(
    w3: Web3, federation: Federation, members: list[LocalAccount]
) -> None:
    advance_time(w3, SUBMIT_WINDOW)
    assert federation.phase(1) is Phase.VOTE
    with pytest.raises(ContractRevert) as info:
        federation.submit_update(members[0], 1, blob("late"), 1)
    check(info, "WrongPhase", round=1, current=Phase.VOTE, expected=Phase.SUBMIT)
    assert "submissions are over" in str(info.value)


# -- votes -----------------------------------------------------------------------------


def test_vote_rejected_during_submission(
    federation: Federation, members: list[LocalAccount]
) -> None:
    with pytest.raises(ContractRevert) as info:
        federation.vote_aggregate(members[0], 1, blob("agg"))
    check(info, "WrongPhase", round=1, current=Phase.SUBMIT, expected=Phase.VOTE)


def test_vote_rejects_non_member_second_vote_and_invalid_refs(
    federation: Federation, members: list[LocalAccount], outsider: LocalAccount
) -> None:
    submit_all(federation, members, 1)
    with pytest.raises(ContractRevert) as info:
        federation.vote_aggregate(outsider, 1, blob("agg"))
    check(info, "NotMember", account=outsider.address, round=1)

    federation.vote_aggregate(members[0], 1, blob("agg"))
    assert federation.has_voted(1, members[0].address)
    assert not federation.has_voted(1, members[1].address)
    with pytest.raises(ContractRevert) as info:
        federation.vote_aggregate(members[0], 1, blob("other"))
    check(info, "AlreadyVoted", round=1, member=members[0].address)

    with pytest.raises(ContractRevert) as info:
        federation.vote_aggregate(members[1], 1, BlobRef(ZERO, "cid"))
    check(info, "ZeroDigest")
    with pytest.raises(ContractRevert) as info:
        federation.vote_aggregate(members[1], 1, BlobRef(blob("agg").digest, ""))
    check(info, "EmptyCid")


def test_quorum_accepts_the_aggregate_and_opens_the_next_round_on_it(
    federation: Federation, members: list[LocalAccount], genesis: BlobRef
) -> None:
    submit_all(federation, members, 1)
    aggregate = blob("aggregate")
    federation.vote_aggregate(members[0], 1, aggregate)
    federation.vote_aggregate(members[1], 1, blob("a minority view"))
    federation.vote_aggregate(members[2], 1, aggregate)
    assert federation.current_round() == 1
    assert federation.tally(1, aggregate) == 2

    federation.vote_aggregate(members[3], 1, aggregate)  # the third vote: quorum

    assert federation.current_round() == 2
    assert federation.phase(1) is Phase.ACCEPTED
    first = federation.round_info(1)
    assert (first.base, first.accepted) == (genesis, aggregate)
    second = federation.round_info(2)
    assert (second.base, second.phase, second.submissions) == (aggregate, Phase.SUBMIT, 0)
    assert federation.current_base() == aggregate

    votes = federation.votes(1)
    assert [(v.member, v.ref, v.tally) for v in votes] == [
        (members[0].address, aggregate, 1),
        (members[1].address, blob("a minority view"), 1),
        (members[2].address, aggregate, 2),
        (members[3].address, aggregate, 3),
    ]
    (accepted,) = federation.accepted()
    assert (accepted.round, accepted.ref, accepted.votes) == (1, aggregate, 3)
    opened = federation.rounds_opened()
    assert [(e.round, e.base) for e in opened] == [(1, genesis), (2, aggregate)]
    assert opened[1].block_number == accepted.block_number == votes[-1].block_number


def test_the_accepted_round_takes_no_more_submissions_or_votes(
    federation: Federation, members: list[LocalAccount]
) -> None:
    submit_all(federation, members, 1)
    for member in members[:3]:
        federation.vote_aggregate(member, 1, blob("agg"))
    with pytest.raises(ContractRevert) as info:
        federation.vote_aggregate(members[3], 1, blob("agg"))
    check(info, "WrongRound", given=1, current=2)
    assert "current round is 2" in str(info.value)
    with pytest.raises(ContractRevert) as info:
        federation.submit_update(members[0], 1, blob("u"), 1)
    check(info, "WrongRound", given=1, current=2)


# -- expiry and closing ------------------------------------------------------------------


def test_vote_rejected_after_the_vote_deadline(
    w3: Web3, federation: Federation, members: list[LocalAccount]
) -> None:
    advance_time(w3, SUBMIT_WINDOW + VOTE_WINDOW)
    assert federation.phase(1) is Phase.EXPIRED
    with pytest.raises(ContractRevert) as info:
        federation.vote_aggregate(members[0], 1, blob("agg"))
    check(info, "WrongPhase", round=1, current=Phase.EXPIRED, expected=Phase.VOTE)
    with pytest.raises(ContractRevert) as info:
        federation.submit_update(members[0], 1, blob("u"), 1)
    check(info, "WrongPhase", round=1, current=Phase.EXPIRED, expected=Phase.SUBMIT)


def test_close_is_rejected_unless_the_round_expired(
    w3: Web3, federation: Federation, outsider: LocalAccount
) -> None:
    with pytest.raises(ContractRevert) as info:
        federation.close_round(outsider, 1)
    check(info, "WrongPhase", round=1, current=Phase.SUBMIT, expected=Phase.EXPIRED)
    advance_time(w3, SUBMIT_WINDOW)
    with pytest.raises(ContractRevert) as info:
        federation.close_round(outsider, 1)
    check(info, "WrongPhase", round=1, current=Phase.VOTE, expected=Phase.EXPIRED)
    with pytest.raises(ContractRevert) as info:
        federation.close_round(outsider, 2)
    check(info, "WrongPhase", round=2, current=Phase.NONE, expected=Phase.EXPIRED)


def test_split_vote_expires_and_anyone_closes_it_late_on_the_same_base(
    w3: Web3,
    federation: Federation,
    members: list[LocalAccount],
    outsider: LocalAccount,
    genesis: BlobRef,
) -> None:
    submit_all(federation, members, 1)
    for i, member in enumerate(members):
        federation.vote_aggregate(member, 1, blob("a" if i % 2 else "b"))  # 2 against 2
    assert federation.phase(1) is Phase.VOTE
    advance_time(w3, SUBMIT_WINDOW + VOTE_WINDOW + 3600)  # long after the deadline
    assert federation.phase(1) is Phase.EXPIRED
    assert federation.current_round() == 1

    federation.close_round(outsider, 1)  # not a member: closing is open to anyone

    assert federation.phase(1) is Phase.CLOSED
    assert federation.round_info(1).accepted is None
    assert federation.current_round() == 2
    assert federation.round_info(2).base == genesis
    assert federation.round_info(2).phase is Phase.SUBMIT
    assert [e.round for e in federation.rounds_closed()] == [1]
    assert federation.accepted() == []
    with pytest.raises(ContractRevert) as info:
        federation.close_round(outsider, 1)
    check(info, "WrongPhase", round=1, current=Phase.CLOSED, expected=Phase.EXPIRED)


def test_round_numbers_only_grow_through_acceptance_and_closing(
    w3: Web3, federation: Federation, members: list[LocalAccount], outsider: LocalAccount
) -> None:
    seen = [federation.current_round()]
    for round_number in range(1, 4):
        if round_number % 2:
            submit_all(federation, members, round_number)
            for member in members[:QUORUM]:
                federation.vote_aggregate(member, round_number, blob(f"agg{round_number}"))
        else:
            advance_time(w3, SUBMIT_WINDOW + VOTE_WINDOW)
            federation.close_round(outsider, round_number)
        seen.append(federation.current_round())
    assert seen == [1, 2, 3, 4]
    assert [e.round for e in federation.rounds_opened()] == [1, 2, 3, 4]
    assert [e.round for e in federation.accepted()] == [1, 3]
    assert federation.round_info(3).base == blob("agg1")  # round 2 closed on agg1
    assert federation.round_info(4).base == blob("agg3")


# -- views -----------------------------------------------------------------------------


def test_views_of_a_round_not_opened_yet(
    federation: Federation, members: list[LocalAccount]
) -> None:
    assert federation.phase(2) is Phase.NONE
    assert federation.phase(0) is Phase.NONE
    with pytest.raises(ChainError, match="round 2 has not been opened"):
        federation.round_info(2)
    assert federation.is_member(members[0].address, 1)
    assert federation.is_member(members[0].address)
    assert not federation.is_member(members[0].address, 0)
    assert federation.members(0) == []


# -- gas -------------------------------------------------------------------------------


def test_submit_and_vote_cost_at_most_60k_gas(
    federation: Federation, members: list[LocalAccount]
) -> None:
    """Members pay per round: guard the budget (gas is deterministic, not a timing).

    A submission only rewrites the member's own slot and the round's: ~39k with a
    46-character CID. The first vote for an aggregate also pays for its fresh tally slot.
    """
    submits = [
        federation.submit_update(m, 1, blob(f"u{i}"), 100).gas_used for i, m in enumerate(members)
    ]
    votes = [federation.vote_aggregate(m, 1, blob("agg")).gas_used for m in members[:2]]
    assert max(submits) <= 42_000, submits
    assert votes[0] <= 60_000, votes
    assert votes[1] <= 43_000, votes


def test_has_submitted_and_has_voted_are_exact_for_the_current_round(
    federation: Federation, members: list[LocalAccount]
) -> None:
    """They read the member's latest activity; earlier rounds are in the events."""
    for round_number in (1, 2):
        submit_all(federation, members, round_number)
        for member in members[:QUORUM]:
            federation.vote_aggregate(member, round_number, blob(f"agg{round_number}"))
        assert federation.has_submitted(round_number, members[0].address)
        assert federation.has_voted(round_number, members[0].address)
        assert not federation.has_voted(round_number, members[3].address)
    assert not federation.has_submitted(3, members[0].address)
    assert not federation.has_submitted(0, members[0].address)
    assert [e.member for e in federation.updates(1)] == [m.address for m in members]


def test_a_round_reads_its_events_from_its_opening_block(
    federation: Federation, members: list[LocalAccount]
) -> None:
    """Each round's events are read from where it opened, not from deployment, and
    nothing of the round is missed: the opening block is found from its start time."""
    w3 = federation.w3
    for round_number in (1, 2, 3):
        accept_round(federation, members, round_number)
        advance_time(w3, 5)  # later rounds open at later times
    opened = {event.round: event.block_number for event in federation.rounds_opened()}
    for round_number in (1, 2, 3, 4):
        start = federation.round_info(round_number).start_time
        first = federation.opening_block(round_number)
        assert first <= opened[round_number]
        assert w3.eth.get_block(first)["timestamp"] >= start
        if first > federation.deploy_block:
            assert w3.eth.get_block(first - 1)["timestamp"] < start
    for round_number in (1, 2, 3):
        from_deployment = federation.events(UpdateSubmitted, round=round_number)
        assert federation.updates(round_number) == from_deployment
        assert len(from_deployment) == len(members)
        assert federation.votes(round_number) == federation.events(
            AggregateVoted, round=round_number
        )
    latest = w3.eth.block_number
    assert federation.opening_block(5) == latest  # not opened: no events to look for
    assert federation.updates(5) == []
