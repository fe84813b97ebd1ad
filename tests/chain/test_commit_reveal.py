"""Commit-reveal of updates, on the embedded chain and on anvil."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3

from daofed.chain import Federation, Phase, advance_time, derive_salt, update_commitment
from daofed.errors import ContractRevert
from daofed.storage import BlobRef

from .conftest import QUORUM, REVEAL_WINDOW, SUBMIT_WINDOW, VOTE_WINDOW, blob, check

SALT = b"\x5a" * 32
SAMPLES = 1


@pytest.fixture
def hidden(deploy: Callable[..., Federation]) -> Federation:
    """A federation of the four members whose rounds run with commit-reveal."""
    return deploy(commit_reveal=True)


def update(i: int) -> BlobRef:
    return blob(f"hidden update {i}")


def commit(
    federation: Federation,
    member: LocalAccount,
    i: int,
    salt: bytes = SALT,
    samples: int = SAMPLES,
) -> bytes:
    commitment = federation.commitment(1, member.address, update(i), samples, salt)
    federation.commit_update(member, 1, commitment)
    return commitment


def commit_all(federation: Federation, members: list[LocalAccount]) -> None:
    for i, member in enumerate(members):
        commit(federation, member, i)


def test_a_round_with_commit_reveal_has_a_reveal_window(hidden: Federation) -> None:
    info = hidden.round_info(1)
    assert info.commit_reveal
    assert info.submit_deadline - info.start_time == SUBMIT_WINDOW
    assert info.reveal_deadline - info.submit_deadline == REVEAL_WINDOW
    assert info.vote_deadline - info.reveal_deadline == VOTE_WINDOW
    (opened,) = hidden.rounds_opened()
    assert (opened.commit_reveal, opened.reveal_deadline) == (True, info.reveal_deadline)
    assert hidden.config().commit_reveal


def test_commit_then_reveal_submits_the_update(
    hidden: Federation, members: list[LocalAccount]
) -> None:
    commitment = commit(hidden, members[0], 0, samples=10)
    assert hidden.commitment_of(1, members[0].address) == commitment
    assert hidden.commitment_of(1, members[1].address) is None
    assert not hidden.has_submitted(1, members[0].address)  # hidden until revealed
    (event,) = hidden.commits(1)
    assert (event.round, event.member, event.commitment) == (1, members[0].address, commitment)
    assert hidden.updates(1) == []

    for i, member in enumerate(members[1:], start=1):
        commit(hidden, member, i, samples=10 + i)
    assert hidden.phase(1) is Phase.REVEAL  # everyone committed: reveals open early
    info = hidden.round_info(1)
    assert (info.commits, info.submissions) == (4, 0)

    for i, member in enumerate(members):
        hidden.reveal_update(member, 1, update(i), 10 + i, SALT)
    assert hidden.phase(1) is Phase.VOTE  # everyone revealed: votes open early
    revealed = hidden.updates(1)
    assert [(u.member, u.ref, u.num_samples) for u in revealed] == [
        (m.address, update(i), 10 + i) for i, m in enumerate(members)
    ]
    assert hidden.has_submitted(1, members[0].address)
    assert hidden.round_info(1).submissions == 4
    for member in members[:QUORUM]:
        hidden.vote_aggregate(member, 1, blob("aggregate"))
    assert hidden.phase(1) is Phase.ACCEPTED


def test_an_unrevealed_update_is_left_out(
    w3: Web3, hidden: Federation, members: list[LocalAccount]
) -> None:
    commit_all(hidden, members)
    for i, member in enumerate(members[:3]):  # members[3] never reveals
        hidden.reveal_update(member, 1, update(i), 1, SALT)
    assert hidden.phase(1) is Phase.REVEAL
    advance_time(w3, SUBMIT_WINDOW + REVEAL_WINDOW)
    assert hidden.phase(1) is Phase.VOTE
    assert [u.member for u in hidden.updates(1)] == [m.address for m in members[:3]]
    with pytest.raises(ContractRevert) as info:
        hidden.reveal_update(members[3], 1, update(3), 1, SALT)
    check(info, "WrongPhase", round=1, current=Phase.VOTE, expected=Phase.REVEAL)
    for member in members[:QUORUM]:
        hidden.vote_aggregate(member, 1, blob("aggregate of three"))
    assert hidden.round_info(1).accepted == blob("aggregate of three")


def test_the_commit_phase_ends_at_its_deadline_without_every_member(
    w3: Web3, hidden: Federation, members: list[LocalAccount]
) -> None:
    commit_all(hidden, members[:2])
    advance_time(w3, SUBMIT_WINDOW)
    assert hidden.phase(1) is Phase.REVEAL
    with pytest.raises(ContractRevert) as info:
        commit(hidden, members[2], 2)
    check(info, "WrongPhase", round=1, current=Phase.REVEAL, expected=Phase.SUBMIT)
    with pytest.raises(ContractRevert) as info:  # committed nothing, so nothing to reveal
        hidden.reveal_update(members[2], 1, update(2), 1, SALT)
    check(info, "NotCommitted", round=1, member=members[2].address)


def test_without_any_commitment_the_round_goes_straight_to_votes(
    w3: Web3, hidden: Federation
) -> None:
    advance_time(w3, SUBMIT_WINDOW)
    assert hidden.phase(1) is Phase.VOTE
    advance_time(w3, REVEAL_WINDOW + VOTE_WINDOW)
    assert hidden.phase(1) is Phase.EXPIRED


def test_reveal_must_match_the_commitment(hidden: Federation, members: list[LocalAccount]) -> None:
    commit_all(hidden, members)
    committed = hidden.commitment(1, members[0].address, update(0), SAMPLES, SALT)
    wrong_salt = b"\x00" * 32
    for ref, salt in ((update(0), wrong_salt), (update(9), SALT)):
        with pytest.raises(ContractRevert) as info:
            hidden.reveal_update(members[0], 1, ref, 1, salt)
        check(
            info,
            "CommitmentMismatch",
            round=1,
            member=members[0].address,
            committed=committed,
            revealed=update_commitment(
                1, members[0].address, ref.digest, ref.locator, SAMPLES, salt
            ),
        )
        assert "does not match its commitment" in str(info.value)
    hidden.reveal_update(members[0], 1, update(0), 1, SALT)
    with pytest.raises(ContractRevert) as info:
        hidden.reveal_update(members[0], 1, update(0), 1, SALT)
    check(info, "AlreadySubmitted", round=1, member=members[0].address)


def test_the_commitment_binds_the_sample_count(
    hidden: Federation, members: list[LocalAccount]
) -> None:
    """A member cannot pick its FedAvg weight after seeing the others' reveals."""
    commit_all(hidden, members)
    committed = hidden.commitment(1, members[0].address, update(0), SAMPLES, SALT)
    inflated = SAMPLES * 1000
    with pytest.raises(ContractRevert) as info:
        hidden.reveal_update(members[0], 1, update(0), inflated, SALT)
    check(
        info,
        "CommitmentMismatch",
        round=1,
        member=members[0].address,
        committed=committed,
        revealed=update_commitment(
            1, members[0].address, update(0).digest, update(0).locator, inflated, SALT
        ),
    )
    assert not hidden.has_submitted(1, members[0].address)
    hidden.reveal_update(members[0], 1, update(0), SAMPLES, SALT)
    (revealed,) = hidden.updates(1)
    assert revealed.num_samples == SAMPLES


def test_nobody_can_reveal_or_reuse_another_members_commitment(
    hidden: Federation, members: list[LocalAccount]
) -> None:
    victim, copycat = members[0], members[1]
    stolen = commit(hidden, victim, 0)
    hidden.commit_update(copycat, 1, stolen)  # copying the hash is possible...
    commit_all(hidden, members[2:])
    assert hidden.phase(1) is Phase.REVEAL
    # ...but revealing it is not: the commitment binds the victim's address
    with pytest.raises(ContractRevert) as info:
        hidden.reveal_update(copycat, 1, update(0), 1, SALT)
    check(
        info,
        "CommitmentMismatch",
        round=1,
        member=copycat.address,
        committed=stolen,
        revealed=update_commitment(
            1, copycat.address, update(0).digest, update(0).locator, SAMPLES, SALT
        ),
    )
    hidden.reveal_update(victim, 1, update(0), 1, SALT)
    assert [u.member for u in hidden.updates(1)] == [victim.address]


def test_commit_rejections(
    hidden: Federation, members: list[LocalAccount], outsider: LocalAccount
) -> None:
    with pytest.raises(ContractRevert) as info:
        hidden.commit_update(members[0], 1, b"\x00" * 32)
    check(info, "ZeroCommitment")
    with pytest.raises(ContractRevert) as info:
        hidden.commit_update(outsider, 1, b"\x01" * 32)
    check(info, "NotMember", account=outsider.address, round=1)
    with pytest.raises(ContractRevert) as info:
        hidden.commit_update(members[0], 2, b"\x01" * 32)
    check(info, "WrongRound", given=2, current=1)
    commit(hidden, members[0], 0)
    with pytest.raises(ContractRevert) as info:
        commit(hidden, members[0], 1)
    check(info, "AlreadyCommitted", round=1, member=members[0].address)
    with pytest.raises(ContractRevert) as info:  # not before every commitment is in
        hidden.reveal_update(members[0], 1, update(0), 1, SALT)
    check(info, "WrongPhase", round=1, current=Phase.SUBMIT, expected=Phase.REVEAL)


def test_submit_is_refused_while_commit_reveal_is_on_and_commit_while_off(
    hidden: Federation, federation: Federation, members: list[LocalAccount]
) -> None:
    with pytest.raises(ContractRevert) as info:
        hidden.submit_update(members[0], 1, update(0), 1)
    check(info, "CommitRevealRequired", round=1)
    assert "commit to the update, then reveal it" in str(info.value)

    with pytest.raises(ContractRevert) as info:
        federation.commit_update(members[0], 1, b"\x01" * 32)
    check(info, "CommitRevealDisabled", round=1)
    with pytest.raises(ContractRevert) as info:
        federation.reveal_update(members[0], 1, update(0), 1, SALT)
    check(info, "CommitRevealDisabled", round=1)


def test_a_derived_salt_lets_a_member_reveal_from_its_key_alone(
    hidden: Federation, members: list[LocalAccount]
) -> None:
    salts = [derive_salt(m, hidden.address, 1, update(i).digest) for i, m in enumerate(members)]
    assert len(set(salts)) == 4
    for i, (member, salt) in enumerate(zip(members, salts, strict=True)):
        commit(hidden, member, i, salt)
    again = derive_salt(members[0], hidden.address, 1, update(0).digest)  # after a "restart"
    hidden.reveal_update(members[0], 1, update(0), 1, again)
    assert hidden.has_submitted(1, members[0].address)


def test_commitments_of_earlier_rounds_are_in_the_events(
    hidden: Federation, members: list[LocalAccount]
) -> None:
    commit_all(hidden, members)
    for i, member in enumerate(members):
        hidden.reveal_update(member, 1, update(i), 1, SALT)
    for member in members[:QUORUM]:
        hidden.vote_aggregate(member, 1, blob("aggregate"))
    fresh = hidden.commitment(2, members[0].address, update(7), SAMPLES, SALT)
    hidden.commit_update(members[0], 2, fresh)
    assert hidden.commitment_of(2, members[0].address) == fresh
    assert hidden.commitment_of(1, members[0].address) is None  # the slot is reused
    assert [e.round for e in hidden.commits(1)] == [1] * 4


def test_commit_and_reveal_gas(hidden: Federation, members: list[LocalAccount]) -> None:
    """A commitment's slot is fresh the first time only; every later round rewrites it."""
    commitments = [
        hidden.commitment(1, m.address, update(i), SAMPLES, SALT) for i, m in enumerate(members)
    ]
    commits = [
        hidden.commit_update(m, 1, c).gas_used for m, c in zip(members, commitments, strict=True)
    ]
    reveals = [
        hidden.reveal_update(m, 1, update(i), 1, SALT).gas_used for i, m in enumerate(members)
    ]
    for member in members[:QUORUM]:
        hidden.vote_aggregate(member, 1, blob("aggregate"))
    again = hidden.commit_update(
        members[0], 2, hidden.commitment(2, members[0].address, update(0), SAMPLES, SALT)
    ).gas_used
    assert max(commits) <= 60_000, commits
    assert max(reveals) <= 48_000, reveals  # reads the round's sample cap, hashes the CID
    assert again <= 42_000, again
