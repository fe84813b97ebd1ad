"""The secure-aggregation board on the embedded chain and anvil: keys, setup and recovery posts.

What the messages hold is :mod:`daofed.secagg`'s business (tests/secagg); here, who may
post what and when, and that every post is an event with its digest and CID.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from eth_account.signers.local import LocalAccount

from daofed.chain import EncryptionKeySet, Federation, Phase, ProposalKind
from daofed.chain.artifacts import load_artifact
from daofed.chain.revert import RevertDecoder
from daofed.chain.tx import send_transaction
from daofed.errors import ConfigError, ContractRevert

from .conftest import SUBMIT_WINDOW, accept_round, blob, check, enact, wait_until

KEY = bytes(range(32))
DECODER = RevertDecoder(load_artifact("Federation").abi)


def test_members_register_and_rotate_encryption_keys_as_events(
    federation: Federation, members: list[LocalAccount], outsider: LocalAccount
) -> None:
    assert federation.encryption_key(members[0].address) is None
    federation.set_encryption_key(members[0], KEY)
    rotated = bytes(reversed(KEY))
    federation.set_encryption_key(members[0], rotated)
    assert federation.encryption_key(members[0].address) == rotated
    keys = [(e.account, e.key) for e in federation.events(EncryptionKeySet)]
    assert keys == [(members[0].address, KEY), (members[0].address, rotated)]

    with pytest.raises(ContractRevert) as zero:  # the client refuses it too: sent raw
        call = federation.contract.functions.setEncryptionKey(bytes(32))
        send_transaction(federation.w3, members[1], call, DECODER, what="registering")
    check(zero, "ZeroEncryptionKey")
    with pytest.raises(ConfigError, match="not an encryption key"):
        federation.set_encryption_key(members[1], bytes(32))  # a low-order point
    with pytest.raises(ContractRevert) as outside:
        federation.set_encryption_key(outsider, KEY)
    check(outside, "NotMember", account=outsider.address, round=1)
    with pytest.raises(ConfigError, match="32 bytes"):
        federation.set_encryption_key(members[1], KEY[:31])

    # an admitted account registers before its first round, as it publishes its node
    enact(federation, members, ProposalKind.ADD_MEMBER, outsider.address)
    federation.set_encryption_key(outsider, KEY)
    assert federation.encryption_key(outsider.address) == KEY


def test_setup_messages_come_first_and_close_halfway_through_the_submission_window(
    federation: Federation, members: list[LocalAccount], outsider: LocalAccount
) -> None:
    info = federation.round_info(1)
    deadline = federation.setup_deadline(1)
    assert deadline == info.start_time + SUBMIT_WINDOW // 2
    assert federation.setup_deadline(2) == 0  # not opened

    federation.post_shares(members[0], 1, blob("setup-0"))
    assert federation.has_posted_shares(1, members[0].address)
    assert not federation.has_posted_shares(1, members[1].address)
    with pytest.raises(ContractRevert) as twice:
        federation.post_shares(members[0], 1, blob("setup-0 again"))
    check(twice, "SharesAlreadyPosted", round=1, member=members[0].address)
    with pytest.raises(ContractRevert) as outside:
        federation.post_shares(outsider, 1, blob("setup-x"))
    check(outside, "NotMember", account=outsider.address, round=1)

    federation.submit_update(members[1], 1, blob("update-1"), 5)
    with pytest.raises(ContractRevert) as late:  # its masks would not count the late poster
        federation.post_shares(members[1], 1, blob("setup-1"))
    check(late, "AlreadySubmitted", round=1, member=members[1].address)

    wait_until(federation, deadline)
    with pytest.raises(ContractRevert) as closed:
        federation.post_shares(members[2], 1, blob("setup-2"))
    check(closed, "SetupClosed", round=1, deadline=deadline)
    assert [(p.member, p.ref) for p in federation.share_posts(1)] == [
        (members[0].address, blob("setup-0"))
    ]


def test_a_committed_member_posts_no_setup_message(
    deploy: Callable[..., Federation], members: list[LocalAccount]
) -> None:
    federation = deploy(commit_reveal=True)
    federation.commit_update(members[0], 1, bytes(range(1, 33)))
    with pytest.raises(ContractRevert) as committed:
        federation.post_shares(members[0], 1, blob("setup-0"))
    check(committed, "AlreadySubmitted", round=1, member=members[0].address)


def test_recovery_messages_wait_for_the_vote_phase_and_come_once(
    federation: Federation, members: list[LocalAccount]
) -> None:
    with pytest.raises(ContractRevert) as early:
        federation.post_recovery(members[0], 1, blob("recovery-0"))
    check(early, "WrongPhase", round=1, current=Phase.SUBMIT, expected=Phase.VOTE)
    for i, member in enumerate(members):
        federation.submit_update(member, 1, blob(f"masked-{i}"), 5)
    assert federation.phase(1) is Phase.VOTE

    federation.post_recovery(members[0], 1, blob("recovery-0"))
    assert federation.has_posted_recovery(1, members[0].address)
    assert not federation.has_posted_recovery(1, members[1].address)
    with pytest.raises(ContractRevert) as twice:
        federation.post_recovery(members[0], 1, blob("recovery-0 again"))
    check(twice, "RecoveryAlreadyPosted", round=1, member=members[0].address)
    assert [(p.member, p.ref) for p in federation.recovery_posts(1)] == [
        (members[0].address, blob("recovery-0"))
    ]

    # the next round starts afresh: last round's posts are of no use in it
    accept_round_after_votes(federation, members)
    assert not federation.has_posted_recovery(2, members[0].address)
    with pytest.raises(ContractRevert) as stale:
        federation.post_recovery(members[0], 1, blob("recovery-0 late"))
    check(stale, "WrongRound", given=1, current=2)
    accept_round(federation, members, 2)
    assert federation.recovery_posts(2) == []


def accept_round_after_votes(federation: Federation, members: list[LocalAccount]) -> None:
    """Vote round 1 (already in its vote phase) to acceptance."""
    for member in members:
        if federation.phase(1) is Phase.VOTE:
            federation.vote_aggregate(member, 1, blob("aggregate-1"))
    assert federation.phase(1) is Phase.ACCEPTED
