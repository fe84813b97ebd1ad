"""Attacks on the contract, sent as raw transactions.

Each test performs one attack the way any client of the chain could (see :mod:`.raw`)
and shows what the contract does with it, on anvil, each test from a snapshot. Bounded
parameters are attacked in test_federation (constructor, submissions) and test_governance
(proposals).
"""

from __future__ import annotations

from eth_account.signers.local import LocalAccount
from web3 import Web3

from daofed.chain import (
    Federation,
    Phase,
    ProposalKind,
    ProposalState,
    dev_accounts,
)
from daofed.chain.checks import EXECUTION_PERIOD
from daofed.chain.commitment import update_commitment

from .conftest import accept_round, blob, enact, wait_until
from .raw import raw_call

SALT = b"\x07" * 32


def deploy(w3: Web3, members: list[LocalAccount], quorum: int, **options: object) -> Federation:
    return Federation.deploy(
        w3,
        dev_accounts(1)[0],
        members=[m.address for m in members],
        quorum=quorum,
        submit_window=600,
        vote_window=600,
        rule="fedavg",
        genesis=blob("genesis"),
        voting_period=60,
        **options,  # type: ignore[arg-type]
    )


def submit_all(federation: Federation, members: list[LocalAccount], round_number: int) -> None:
    for i, member in enumerate(members):
        federation.submit_update(member, round_number, blob(f"u{round_number}-{i}"), 10)


# -- one member's bogus CID ----------------------------------------------------------


def test_a_bogus_cid_cannot_become_the_next_base(
    anvil_snapshot: Web3, members: list[LocalAccount]
) -> None:
    """The vote completing the quorum must not name the next base's CID unchecked: its
    (digest, CID) pair counts apart from the others'."""
    federation = deploy(anvil_snapshot, members, quorum=3)
    submit_all(federation, members, 1)
    model = blob("aggregate")
    bogus = "bafkreibogusbogusbogusbogusbogusbogusbogusbogusbogusbogus"
    federation.vote_aggregate(members[0], 1, model)
    federation.vote_aggregate(members[1], 1, model)
    # The third vote would complete the quorum: the right digest, a CID that does not exist.
    assert raw_call(federation, members[2], "voteAggregate", 1, model.digest, bogus) is None
    assert federation.phase(1) is Phase.VOTE  # a vote for another (digest, CID) pair
    assert federation.tally(1, model) == 2
    assert federation.contract.functions.tally(1, model.digest, bogus).call() == 1

    federation.vote_aggregate(members[3], 1, model)

    (accepted,) = federation.accepted()
    assert (accepted.digest, accepted.cid, accepted.votes) == (model.digest, model.locator, 3)
    assert federation.current_base() == model
    assert federation.round_info(2).base == model


def test_a_reveal_cannot_point_to_another_cid_than_the_one_committed(
    anvil_snapshot: Web3, members: list[LocalAccount]
) -> None:
    federation = deploy(anvil_snapshot, members, quorum=3, commit_reveal=True, reveal_window=600)
    update = blob("update")
    for member in members:
        commitment = update_commitment(1, member.address, update.digest, update.locator, 5, SALT)
        federation.commit_update(member, 1, commitment)
    assert federation.phase(1) is Phase.REVEAL

    moved = raw_call(
        federation, members[0], "revealUpdate", 1, update.digest, "bafkreielsewhere", 5, SALT
    )

    assert moved is not None and moved.error == "CommitmentMismatch"
    assert federation.round_info(1).submissions == 0
    assert (
        raw_call(federation, members[0], "revealUpdate", 1, update.digest, update.locator, 5, SALT)
        is None
    )
    (revealed,) = federation.updates(1)
    assert revealed.cid == update.locator


# -- proposals that never expire, or undo newer decisions ----------------------------


def test_a_carried_proposal_expires_after_its_execution_period(
    anvil_snapshot: Web3, members: list[LocalAccount], outsider: LocalAccount
) -> None:
    federation = deploy(anvil_snapshot, members, quorum=3)
    created = federation.propose(members[0], ProposalKind.SET_QUORUM, 2)
    for member in members[:3]:
        federation.vote_proposal(member, created.proposal_id, True)
    wait_until(federation, created.vote_end)
    info = federation.proposal(created.proposal_id)
    assert (info.state, info.execute_by) == (
        ProposalState.SUCCEEDED,
        created.vote_end + EXECUTION_PERIOD,
    )

    wait_until(federation, info.execute_by)  # a year later would be the same

    assert federation.proposal_state(created.proposal_id) is ProposalState.EXPIRED
    late = raw_call(federation, outsider, "execute", created.proposal_id)
    assert late is not None and late.error == "UnexpectedProposalState"
    assert late.args_by_name["current"] is ProposalState.EXPIRED
    assert "not executed within 14 days" in str(late)
    assert federation.config().quorum == 3


def test_an_older_config_proposal_goes_stale_and_cannot_undo_a_newer_one(
    anvil_snapshot: Web3, members: list[LocalAccount], outsider: LocalAccount
) -> None:
    federation = deploy(anvil_snapshot, members, quorum=3)
    older = federation.propose(members[0], ProposalKind.SET_QUORUM, 2)
    newer = federation.propose(members[1], ProposalKind.SET_QUORUM, 4)
    member_change = federation.propose(members[2], ProposalKind.ADD_MEMBER, outsider.address)
    for proposal in (older, newer, member_change):
        for member in members[:3]:
            federation.vote_proposal(member, proposal.proposal_id, True)
    # the latest voting end: proposals made in later blocks may end a second later
    wait_until(federation, max(p.vote_end for p in (older, newer, member_change)))
    assert older.config_version == newer.config_version == 1

    federation.execute_proposal(outsider, newer.proposal_id)  # config v2: quorum 4

    assert federation.proposal_state(older.proposal_id) is ProposalState.STALE
    undo = raw_call(federation, outsider, "execute", older.proposal_id)
    assert undo is not None and undo.args_by_name["current"] is ProposalState.STALE
    assert (federation.config().version, federation.config().quorum) == (2, 4)
    # Membership proposals are not changes to a config: they stay executable.
    assert federation.proposal_state(member_change.proposal_id) is ProposalState.SUCCEEDED
    assert raw_call(federation, outsider, "execute", member_change.proposal_id) is None


# -- one lost key --------------------------------------------------------------------


def test_a_majority_of_the_remaining_members_recovers_from_a_lost_key(anvil_snapshot: Web3) -> None:
    """5 of 5 must vote for a model; member 5's key is lost. Rounds expire until the
    remaining four, a majority, lower the quorum and remove the lost key."""
    five = dev_accounts(6)[1:]
    remaining, lost = five[:4], five[4]
    federation = deploy(anvil_snapshot, five, quorum=5)
    submit_all(federation, remaining, 1)
    wait_until(federation, federation.round_info(1).submit_deadline)
    for member in remaining:
        federation.vote_aggregate(member, 1, blob("agg1"))
    wait_until(federation, federation.round_info(1).vote_deadline)
    assert federation.phase(1) is Phase.EXPIRED  # 4 of 5 votes never reach the quorum

    quorum = federation.propose(remaining[0], ProposalKind.SET_QUORUM, 4)
    removal = federation.propose(remaining[1], ProposalKind.REMOVE_MEMBER, lost.address)
    assert quorum.votes_needed == removal.votes_needed == 3  # a majority of 5, not the quorum
    for proposal in (quorum, removal):
        for member in remaining[:3]:
            assert raw_call(federation, member, "voteProposal", proposal.proposal_id, True) is None
    wait_until(federation, removal.vote_end)
    federation.execute_proposal(remaining[3], quorum.proposal_id)
    federation.execute_proposal(remaining[3], removal.proposal_id)
    federation.close_round(remaining[0], 1)  # anyone may; round 2 opens with the changes

    info = federation.round_info(2)
    assert (info.quorum, info.member_count) == (4, 4)
    submit_all(federation, remaining, 2)
    for member in remaining:
        federation.vote_aggregate(member, 2, blob("agg2"))
    assert federation.phase(2) is Phase.ACCEPTED
    assert raw_call(federation, lost, "submitUpdate", 3, blob("x").digest, "x", 1) is not None


# -- node addresses ------------------------------------------------------------------


def test_node_addresses_take_only_a_current_members_own_bounded_entry(
    anvil_snapshot: Web3, members: list[LocalAccount], outsider: LocalAccount
) -> None:
    """Past the client's checks: an outsider, an oversized entry and a member removed after
    its last round are refused by the contract itself; an entry is the sender's own, and
    the contract stores whatever bytes a member sends (spaces and all), so readers must
    treat it as untrusted text."""
    federation = deploy(anvil_snapshot, members, quorum=3)
    node = "/ip4/10.0.0.1/tcp/4001/p2p/12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo"

    refused = raw_call(federation, outsider, "setNodeAddresses", node)
    assert refused is not None and refused.error == "NotMember"
    oversized = raw_call(federation, members[0], "setNodeAddresses", "x" * 1025)
    assert oversized is not None and oversized.error == "NodeAddressesTooLong"
    assert oversized.args_by_name == {"length": 1025}
    assert federation.node_addresses(members[0].address) == ()

    odd = f"{node}  \t{node}"  # the client joins with single spaces; the contract stores any text
    assert raw_call(federation, members[0], "setNodeAddresses", odd) is None
    assert federation.node_addresses(members[0].address) == (node, node)
    assert federation.node_addresses(members[1].address) == ()  # nobody writes another's entry

    enact(federation, members, ProposalKind.REMOVE_MEMBER, members[2].address)
    assert raw_call(federation, members[2], "setNodeAddresses", node) is None  # still round 1's
    accept_round(federation, members, 1)
    late = raw_call(federation, members[2], "setNodeAddresses", "")
    assert late is not None and late.error == "NotMember"
    assert late.args_by_name == {"account": members[2].address, "round": 2}
    assert federation.node_addresses(members[2].address) == (node,)
