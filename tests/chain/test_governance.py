"""Governance: proposals decided by member vote, on the embedded chain and on anvil."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3

from daofed.chain import (
    Federation,
    ProposalKind,
    ProposalState,
    ProposalValue,
    Windows,
    advance_time,
)
from daofed.chain.proposals import KINDS, encode_value
from daofed.errors import ChainError, ConfigError, ContractRevert

from .conftest import (
    QUORUM,
    REVEAL_WINDOW,
    SUBMIT_WINDOW,
    VOTE_WINDOW,
    VOTING_PERIOD,
    accept_round,
    blob,
    check,
    enact,
    wait_until,
)
from .raw import raw_call

ZERO_ADDRESS = "0x" + "00" * 20


def now(w3: Web3) -> int:
    return int(w3.eth.get_block("latest")["timestamp"])


# -- a proposal's life -----------------------------------------------------------------


def test_a_proposal_records_everything_in_its_event_and_its_view(
    w3: Web3, federation: Federation, members: list[LocalAccount]
) -> None:
    created = federation.propose(members[1], ProposalKind.SET_QUORUM, 2)
    assert created.proposal_id == 1
    assert created.proposer == members[1].address
    assert (created.kind, created.value, created.round) == (ProposalKind.SET_QUORUM, 2, 1)
    assert created.votes_needed == QUORUM
    assert created.vote_end == now(w3) + VOTING_PERIOD
    assert created.data == (2).to_bytes(32, "big")
    assert federation.proposals() == [created]
    assert federation.proposal_count() == 1

    info = federation.proposal(1)
    assert (info.proposal_id, info.kind, info.value, info.state) == (
        1,
        ProposalKind.SET_QUORUM,
        2,
        ProposalState.ACTIVE,
    )
    assert (info.round, info.vote_end, info.votes_needed, info.yes, info.no) == (
        1,
        created.vote_end,
        QUORUM,
        0,
        0,
    )


def test_every_kind_is_proposed_as_the_contract_numbers_it(
    federation: Federation, members: list[LocalAccount], outsider: LocalAccount
) -> None:
    """The contract numbers each kind as :class:`ProposalKind` does.

    Each kind's spec names the function that proposes it; the contract's event carries the
    kind as its own enum's number, read back here as a :class:`ProposalKind`.
    """
    examples: dict[ProposalKind, ProposalValue] = {
        ProposalKind.ADD_MEMBER: outsider.address,
        ProposalKind.REMOVE_MEMBER: members[3].address,
        ProposalKind.SET_QUORUM: 2,
        ProposalKind.SET_WINDOWS: Windows(submit=60, vote=120, reveal=30),
        ProposalKind.SET_RULE: "median",
        ProposalKind.SET_COMMIT_REVEAL: True,
        ProposalKind.SET_VOTING_PERIOD: 120,
        ProposalKind.SET_MAX_SAMPLES: 500,
    }
    assert set(examples) == set(ProposalKind) == set(KINDS)
    for kind, value in examples.items():
        created = federation.propose(members[0], kind, value)
        stored = federation.contract.functions.proposal(created.proposal_id).call()
        assert stored.kind == kind.value, kind
        assert (created.kind, created.value, created.data) == (
            kind,
            value,
            encode_value(kind, value),
        )
        assert federation.proposal(created.proposal_id).kind is kind


def test_votes_are_counted_and_recorded_per_member(
    federation: Federation, members: list[LocalAccount]
) -> None:
    pid = federation.propose(members[0], ProposalKind.SET_RULE, "median").proposal_id
    federation.vote_proposal(members[0], pid, True)
    federation.vote_proposal(members[1], pid, False)
    federation.vote_proposal(members[2], pid, True)
    votes = federation.proposal_votes(pid)
    assert [(v.proposal_id, v.voter, v.support, v.yes, v.no) for v in votes] == [
        (pid, members[0].address, True, 1, 0),
        (pid, members[1].address, False, 1, 1),
        (pid, members[2].address, True, 2, 1),
    ]
    assert federation.has_voted_on(pid, members[1].address)
    assert not federation.has_voted_on(pid, members[3].address)
    assert (federation.proposal(pid).yes, federation.proposal(pid).no) == (2, 1)
    assert federation.proposal_votes(pid + 1) == []


def test_a_carried_proposal_succeeds_after_the_voting_period_and_executes_once(
    federation: Federation, members: list[LocalAccount], outsider: LocalAccount
) -> None:
    created = federation.propose(members[0], ProposalKind.SET_RULE, "median")
    pid = created.proposal_id
    for member in members[:QUORUM]:
        federation.vote_proposal(member, pid, True)
    assert federation.proposal_state(pid) is ProposalState.ACTIVE  # quorum does not end it early
    with pytest.raises(ContractRevert) as info:
        federation.execute_proposal(outsider, pid)
    check(
        info,
        "UnexpectedProposalState",
        proposalId=pid,
        current=ProposalState.ACTIVE,
        expected=ProposalState.SUCCEEDED,
    )
    assert "wait until its voting period is over" in str(info.value)

    wait_until(federation, created.vote_end)
    assert federation.proposal_state(pid) is ProposalState.SUCCEEDED
    sent = federation.execute_proposal(outsider, pid)  # anyone may execute

    assert federation.proposal_state(pid) is ProposalState.EXECUTED
    (executed,) = federation.executed_proposals()
    assert (executed.proposal_id, executed.block_number) == (pid, sent.block_number)
    (_, change) = federation.config_changes()
    assert (change.rule, change.from_round, change.block_number) == ("median", 2, sent.block_number)
    with pytest.raises(ContractRevert) as info:
        federation.execute_proposal(outsider, pid)
    check(
        info,
        "UnexpectedProposalState",
        proposalId=pid,
        current=ProposalState.EXECUTED,
        expected=ProposalState.SUCCEEDED,
    )


def test_votes_close_at_the_voting_end(federation: Federation, members: list[LocalAccount]) -> None:
    created = federation.propose(members[0], ProposalKind.SET_RULE, "median")
    wait_until(federation, created.vote_end)
    with pytest.raises(ContractRevert) as info:
        federation.vote_proposal(members[0], created.proposal_id, True)
    check(
        info,
        "UnexpectedProposalState",
        proposalId=created.proposal_id,
        current=ProposalState.DEFEATED,
        expected=ProposalState.ACTIVE,
    )


def test_a_proposal_without_quorum_is_defeated_and_never_executes(
    w3: Web3, federation: Federation, members: list[LocalAccount]
) -> None:
    created = federation.propose(members[0], ProposalKind.SET_RULE, "median")
    for member in members[: QUORUM - 1]:  # unanimous, but one vote short
        federation.vote_proposal(member, created.proposal_id, True)
    wait_until(federation, created.vote_end)
    assert federation.proposal_state(created.proposal_id) is ProposalState.DEFEATED
    advance_time(w3, 10 * VOTING_PERIOD)  # later is no different
    with pytest.raises(ContractRevert) as info:
        federation.execute_proposal(members[0], created.proposal_id)
    check(
        info,
        "UnexpectedProposalState",
        proposalId=created.proposal_id,
        current=ProposalState.DEFEATED,
        expected=ProposalState.SUCCEEDED,
    )
    assert "never executes" in str(info.value)
    assert federation.config().rule == "fedavg"


def test_a_proposal_needs_yes_votes_from_a_majority_of_the_members_not_of_those_voting(
    deploy: Callable[..., Federation], members: list[LocalAccount]
) -> None:
    federation = deploy(quorum=2)
    first = federation.propose(members[0], ProposalKind.SET_RULE, "median")
    second = federation.propose(members[0], ProposalKind.SET_RULE, "fedavg")
    for member in members[:2]:  # 2 yes, nobody against: the round quorum, not a majority
        federation.vote_proposal(member, first.proposal_id, True)
    for i, member in enumerate(members):  # 3 yes, 1 no
        federation.vote_proposal(member, second.proposal_id, i != 3)
    wait_until(federation, second.vote_end)
    info = federation.proposal(first.proposal_id)
    assert (info.yes, info.no, info.votes_needed) == (2, 0, 3)
    assert info.state is ProposalState.DEFEATED
    assert federation.proposal_state(second.proposal_id) is ProposalState.SUCCEEDED


def test_unknown_proposals(federation: Federation, members: list[LocalAccount]) -> None:
    assert federation.proposal_state(7) is ProposalState.NONE
    with pytest.raises(ChainError, match="there is no proposal 7"):
        federation.proposal(7)
    for act in (
        lambda: federation.vote_proposal(members[0], 7, True),
        lambda: federation.execute_proposal(members[0], 7),
    ):
        with pytest.raises(ContractRevert) as info:
            act()
        assert info.value.error == "UnexpectedProposalState"
        assert info.value.args_by_name["current"] is ProposalState.NONE
        assert "there is no proposal 7" in str(info.value)


# -- who may propose and vote ----------------------------------------------------------


def test_only_members_of_the_current_round_propose(
    federation: Federation, outsider: LocalAccount
) -> None:
    with pytest.raises(ContractRevert) as info:
        federation.propose(outsider, ProposalKind.SET_QUORUM, 2)
    check(info, "NotMember", account=outsider.address, round=1)
    assert federation.proposal_count() == 0


def test_only_members_vote_and_only_once(
    federation: Federation, members: list[LocalAccount], outsider: LocalAccount
) -> None:
    pid = federation.propose(members[0], ProposalKind.SET_QUORUM, 2).proposal_id
    with pytest.raises(ContractRevert) as info:
        federation.vote_proposal(outsider, pid, True)
    check(info, "NotMember", account=outsider.address, round=1)
    federation.vote_proposal(members[0], pid, True)
    for support in (True, False):
        with pytest.raises(ContractRevert) as info:
            federation.vote_proposal(members[0], pid, support)
        check(info, "ProposalAlreadyVoted", proposalId=pid, voter=members[0].address)
    assert federation.proposal(pid).yes == 1


def test_the_voters_are_the_members_of_the_round_the_proposal_was_made_in(
    federation: Federation, members: list[LocalAccount], outsider: LocalAccount
) -> None:
    enact(federation, members, ProposalKind.ADD_MEMBER, outsider.address)
    enact(federation, members, ProposalKind.REMOVE_MEMBER, members[3].address)
    made_in_round_1 = federation.propose(members[0], ProposalKind.SET_RULE, "median").proposal_id
    accept_round(federation, members, 1)
    assert federation.current_round() == 2

    # members[3] left in round 2, but the proposal is round 1's: it still votes on it
    federation.vote_proposal(members[3], made_in_round_1, True)
    # outsider joined in round 2: not a voter of round 1's proposal, but of round 2's
    with pytest.raises(ContractRevert) as info:
        federation.vote_proposal(outsider, made_in_round_1, True)
    check(info, "NotMember", account=outsider.address, round=1)
    made_in_round_2 = federation.propose(outsider, ProposalKind.SET_RULE, "median").proposal_id
    assert federation.proposal(made_in_round_2).round == 2
    federation.vote_proposal(outsider, made_in_round_2, True)
    with pytest.raises(ContractRevert) as info:
        federation.vote_proposal(members[3], made_in_round_2, True)
    check(info, "NotMember", account=members[3].address, round=2)
    with pytest.raises(ContractRevert) as info:
        federation.propose(members[3], ProposalKind.SET_RULE, "median")
    check(info, "NotMember", account=members[3].address, round=2)


# -- every kind of change, from the next round on --------------------------------------


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        (ProposalKind.SET_QUORUM, 2),
        (ProposalKind.SET_WINDOWS, Windows(submit=60, vote=120, reveal=30)),
        (ProposalKind.SET_RULE, "multi-krum:f=1,m=3"),
        (ProposalKind.SET_COMMIT_REVEAL, True),
        (ProposalKind.SET_VOTING_PERIOD, 120),
        (ProposalKind.SET_MAX_SAMPLES, 500),
    ],
    ids=lambda v: v.label if isinstance(v, ProposalKind) else "",
)
def test_a_config_change_applies_from_the_next_round(
    w3: Web3,
    federation: Federation,
    members: list[LocalAccount],
    kind: ProposalKind,
    value: ProposalValue,
) -> None:
    created = enact(federation, members, kind, value)
    assert created.value == value
    config = federation.config()
    assert config.version == 2
    in_config = KINDS[kind].in_config
    assert in_config is not None
    assert in_config(config) == value != in_config(federation.config(1))
    before = federation.round_info(1)
    assert (before.config_version, before.quorum, before.commit_reveal) == (1, QUORUM, False)
    assert before.submit_deadline - before.start_time == SUBMIT_WINDOW
    assert federation.rule_of(1) == "fedavg"
    (_, change) = federation.config_changes()
    assert (change.version, change.from_round) == (2, 2)
    assert in_config(change) == value

    accept_round(federation, members, 1)
    after = federation.round_info(2)
    assert after.config_version == 2
    if kind is ProposalKind.SET_QUORUM:
        assert (config.quorum, after.quorum, change.quorum) == (2, 2, 2)
    elif kind is ProposalKind.SET_WINDOWS:
        assert (config.submit_window, config.vote_window, config.reveal_window) == (60, 120, 30)
        assert after.submit_deadline - after.start_time == 60
        assert after.vote_deadline - after.submit_deadline == 120
    elif kind is ProposalKind.SET_RULE:
        assert federation.rule_of(2) == change.rule == "multi-krum:f=1,m=3"
    elif kind is ProposalKind.SET_COMMIT_REVEAL:
        assert after.commit_reveal and change.commit_reveal
        assert after.reveal_deadline - after.submit_deadline == REVEAL_WINDOW
        assert after.vote_deadline - after.reveal_deadline == VOTE_WINDOW
    elif kind is ProposalKind.SET_MAX_SAMPLES:
        assert (after.max_samples, change.max_samples) == (500, 500)
    else:
        assert change.voting_period == 120
        # proposals made in round 2 use round 2's voting period; nothing else changed
        later = federation.propose(members[0], ProposalKind.SET_RULE, "median")
        assert later.vote_end == now(w3) + 120
        assert after.quorum == QUORUM


def test_an_added_member_joins_from_the_next_round(
    federation: Federation, members: list[LocalAccount], outsider: LocalAccount
) -> None:
    enact(federation, members, ProposalKind.ADD_MEMBER, outsider.address)
    assert federation.member_count() == 5
    assert not federation.is_member(outsider.address, 1)
    assert federation.is_member(outsider.address, 2)
    assert federation.round_info(1).member_count == 4  # the running round keeps its snapshot
    with pytest.raises(ContractRevert) as info:
        federation.submit_update(outsider, 1, blob("u"), 1)
    check(info, "NotMember", account=outsider.address, round=1)

    accept_round(federation, members, 1)
    assert federation.round_info(2).member_count == 5
    federation.submit_update(outsider, 2, blob("u"), 1)
    assert federation.members(2)[-1] == outsider.address
    (added,) = [e for e in federation.membership_changes() if e.account == outsider.address]
    assert added.from_round == 2


def test_a_removed_member_finishes_the_current_round_and_is_out_from_the_next(
    federation: Federation, members: list[LocalAccount]
) -> None:
    leaving = members[3]
    enact(federation, members, ProposalKind.REMOVE_MEMBER, leaving.address)
    assert federation.is_member(leaving.address, 1)
    assert not federation.is_member(leaving.address, 2)
    assert federation.member_count() == 3

    # still a member of round 1: submits and votes there (its vote completes the quorum)
    accept_round(federation, [leaving, *members[:2]], 1)
    assert leaving.address in [v.member for v in federation.votes(1)]
    assert federation.round_info(2).member_count == 3
    assert leaving.address not in federation.members(2)
    with pytest.raises(ContractRevert) as info:
        federation.submit_update(leaving, 2, blob("u"), 1)
    check(info, "NotMember", account=leaving.address, round=2)
    for i, member in enumerate(members[:3]):  # every member of round 2 submits: votes open
        federation.submit_update(member, 2, blob(f"u{i}"), 1)
    with pytest.raises(ContractRevert) as info:
        federation.vote_aggregate(leaving, 2, blob("u"))
    check(info, "NotMember", account=leaving.address, round=2)


# -- arguments checked when proposing (and again when executing) -----------------------


@pytest.mark.parametrize(
    ("function", "value", "error", "args"),
    [
        ("proposeQuorum", (0,), "InvalidQuorum", {"quorum": 0, "memberCount": 4}),
        ("proposeQuorum", (5,), "InvalidQuorum", {"quorum": 5, "memberCount": 4}),
        (
            "proposeWindows",
            (0, 10, 10),
            "InvalidWindows",
            {"submitWindow": 0, "voteWindow": 10, "revealWindow": 10},
        ),
        (
            "proposeWindows",
            (10, 10, 0),
            "InvalidWindows",
            {"submitWindow": 10, "voteWindow": 10, "revealWindow": 0},
        ),
        (
            "proposeWindows",
            (10, 2**32 - 1, 10),
            "InvalidWindows",
            {"submitWindow": 10, "voteWindow": 2**32 - 1, "revealWindow": 10},
        ),
        ("proposeRule", ("",), "InvalidRuleLength", {"length": 0}),
        ("proposeRule", ("m" * 20_000,), "InvalidRuleLength", {"length": 20_000}),
        ("proposeVotingPeriod", (0,), "InvalidVotingPeriod", {"votingPeriod": 0}),
        ("proposeVotingPeriod", (2**32 - 1,), "InvalidVotingPeriod", {"votingPeriod": 2**32 - 1}),
        ("proposeMaxSamples", (0,), "InvalidMaxSamples", {"maxSamples": 0}),
        ("proposeMaxSamples", (2**64 - 1,), "InvalidMaxSamples", {"maxSamples": 2**64 - 1}),
        ("proposeAddMember", (ZERO_ADDRESS,), "InvalidMember", {"account": ZERO_ADDRESS}),
    ],
    ids=lambda v: v if isinstance(v, str) and v[:1].isupper() else "",
)
def test_invalid_proposals_are_rejected(
    federation: Federation,
    members: list[LocalAccount],
    function: str,
    value: tuple[object, ...],
    error: str,
    args: dict[str, object],
) -> None:
    """Sent raw, past the client's checks: the contract refuses each, bounds included."""
    revert = raw_call(federation, members[0], function, *value)
    assert revert is not None and (revert.error, revert.args_by_name) == (error, args)
    assert federation.proposal_count() == 0


def test_membership_proposals_must_make_sense(
    federation: Federation, members: list[LocalAccount], outsider: LocalAccount
) -> None:
    with pytest.raises(ContractRevert) as info:
        federation.propose(members[0], ProposalKind.ADD_MEMBER, members[1].address)
    check(info, "MemberExists", account=members[1].address)
    with pytest.raises(ContractRevert) as info:
        federation.propose(members[0], ProposalKind.REMOVE_MEMBER, outsider.address)
    check(info, "NotMember", account=outsider.address, round=2)

    enact(federation, members, ProposalKind.REMOVE_MEMBER, members[3].address)
    with pytest.raises(ContractRevert) as info:  # its removal is already pending
        federation.propose(members[0], ProposalKind.REMOVE_MEMBER, members[3].address)
    check(info, "NotMember", account=members[3].address, round=2)
    # 3 members left, quorum 3: a removal may be proposed (a lower quorum may come first)
    # but not executed while the quorum would be out of reach.
    removal = federation.propose(members[0], ProposalKind.REMOVE_MEMBER, members[2].address)
    for member in members[:3]:
        federation.vote_proposal(member, removal.proposal_id, True)
    wait_until(federation, removal.vote_end)
    with pytest.raises(ContractRevert) as info:
        federation.execute_proposal(members[0], removal.proposal_id)
    check(info, "InvalidQuorum", quorum=3, memberCount=2)
    with pytest.raises(ContractRevert) as info:
        federation.propose(members[0], ProposalKind.SET_QUORUM, 4)
    check(info, "InvalidQuorum", quorum=4, memberCount=3)


def test_a_change_that_became_invalid_fails_to_execute_and_stays_executable(
    federation: Federation, members: list[LocalAccount]
) -> None:
    """Two removals, each fine alone, together would leave fewer members than the quorum."""
    first = federation.propose(members[0], ProposalKind.REMOVE_MEMBER, members[2].address)
    second = federation.propose(members[0], ProposalKind.REMOVE_MEMBER, members[3].address)
    lower = federation.propose(members[0], ProposalKind.SET_QUORUM, 2)
    for created in (first, second, lower):
        for member in members[:QUORUM]:
            federation.vote_proposal(member, created.proposal_id, True)
    wait_until(federation, lower.vote_end)

    federation.execute_proposal(members[0], first.proposal_id)
    with pytest.raises(ContractRevert) as info:
        federation.execute_proposal(members[0], second.proposal_id)
    check(info, "InvalidQuorum", quorum=3, memberCount=2)
    assert federation.proposal_state(second.proposal_id) is ProposalState.SUCCEEDED

    federation.execute_proposal(members[0], lower.proposal_id)  # quorum 2: now it fits
    federation.execute_proposal(members[0], second.proposal_id)
    assert federation.member_count() == 2
    assert federation.members(2) == [members[0].address, members[1].address]


def test_propose_checks_argument_types_before_sending(
    federation: Federation, members: list[LocalAccount]
) -> None:
    with pytest.raises(ConfigError, match="needs Windows"):
        federation.propose(members[0], ProposalKind.SET_WINDOWS, 5)
    with pytest.raises(ConfigError, match="from 0 to 4294967295"):
        federation.propose(members[0], ProposalKind.SET_QUORUM, 2**32)
    with pytest.raises(ConfigError, match="not an address"):
        federation.propose(members[0], ProposalKind.ADD_MEMBER, "0x1234")
    with pytest.raises(ConfigError, match="True or False"):
        federation.propose(members[0], ProposalKind.SET_COMMIT_REVEAL, 1)
    with pytest.raises(ConfigError, match=r"True \(yes\) or False"):
        federation.vote_proposal(members[0], 1, 1)  # type: ignore[arg-type]
    assert federation.proposal_count() == 0


# -- gas -------------------------------------------------------------------------------


def test_governance_gas(federation: Federation, members: list[LocalAccount]) -> None:
    """Rare transactions, but guard them against accidental blow-ups."""
    created = federation.propose(members[0], ProposalKind.ADD_MEMBER, "0x" + "12" * 20)
    propose_gas = federation.w3.eth.get_transaction_receipt(created.tx_hash)["gasUsed"]
    votes = [
        federation.vote_proposal(m, created.proposal_id, True).gas_used for m in members[:QUORUM]
    ]
    wait_until(federation, created.vote_end)
    execute_gas = federation.execute_proposal(members[0], created.proposal_id).gas_used
    assert propose_gas <= 140_000, propose_gas
    assert votes[0] <= 60_000 and max(votes[1:]) <= 45_000, votes
    assert execute_gas <= 110_000, execute_gas
