"""Membership over time, changed by governance: every change takes effect from the next round.

The mechanics of proposals are in test_governance.py; here, what membership changes mean
for the rounds: pending removals, re-admissions, snapshots, and the member list.
"""

from __future__ import annotations

import pytest
from eth_account.signers.local import LocalAccount

from daofed.chain import Federation, ProposalKind
from daofed.errors import ConfigError, ContractRevert
from daofed.peering import NodeDirectory

from .conftest import accept_round, check, enact


def test_re_adding_before_the_removal_takes_effect_cancels_it(
    federation: Federation, members: list[LocalAccount]
) -> None:
    enact(federation, members, ProposalKind.REMOVE_MEMBER, members[0].address)
    assert not federation.is_member(members[0].address, 2)
    enact(federation, members, ProposalKind.ADD_MEMBER, members[0].address)
    assert federation.is_member(members[0].address, 1)
    assert federation.is_member(members[0].address, 2)
    assert federation.member_count() == 4
    assert federation.members(1) == federation.members(2) == [m.address for m in members]
    changes = [(type(e).__name__, e.account, e.from_round) for e in federation.membership_changes()]
    assert changes[-2:] == [
        ("MemberRemoved", members[0].address, 2),
        ("MemberAdded", members[0].address, 2),
    ]


def test_a_re_admitted_member_returns_from_the_round_after(
    federation: Federation, members: list[LocalAccount]
) -> None:
    enact(federation, members, ProposalKind.REMOVE_MEMBER, members[0].address)
    accept_round(federation, members[1:], 1)
    assert federation.current_round() == 2
    enact(federation, members[1:], ProposalKind.ADD_MEMBER, members[0].address)  # in round 2
    assert not federation.is_member(members[0].address, 2)
    assert federation.is_member(members[0].address, 3)
    assert federation.members(2) == [m.address for m in members[1:]]
    accept_round(federation, members[1:], 2)
    # it keeps its place (index) in the member list
    assert federation.members(3) == [m.address for m in members]
    assert federation.round_info(3).member_count == 4


def test_a_running_round_keeps_its_snapshot_through_several_changes(
    federation: Federation, members: list[LocalAccount], outsider: LocalAccount
) -> None:
    enact(federation, members, ProposalKind.ADD_MEMBER, outsider.address)
    enact(federation, members, ProposalKind.SET_QUORUM, 4)
    enact(federation, members, ProposalKind.REMOVE_MEMBER, members[1].address)
    info = federation.round_info(1)
    assert (info.member_count, info.quorum, info.config_version) == (4, 3, 1)
    assert federation.members(1) == [m.address for m in members]
    assert federation.members(2) == [
        members[0].address,
        *[m.address for m in members[2:]],
        outsider.address,
    ]
    accept_round(federation, members, 1)
    second = federation.round_info(2)
    assert (second.member_count, second.quorum, second.config_version) == (4, 4, 2)


NODE = "/ip4/10.0.0.1/tcp/4001/p2p/12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo"


def test_members_publish_node_addresses_for_as_long_as_they_are_members(
    federation: Federation, members: list[LocalAccount], outsider: LocalAccount
) -> None:
    directory = NodeDirectory(federation)  # kept current as an agent keeps it
    federation.set_node_addresses(members[0], [NODE, "/ip4/10.0.0.2/tcp/4001"])
    assert federation.node_addresses(members[0].address) == (NODE, "/ip4/10.0.0.2/tcp/4001")
    assert directory.refresh() == {members[0].address: (NODE, "/ip4/10.0.0.2/tcp/4001")}
    assert federation.node_addresses(members[1].address) == ()
    with pytest.raises(ContractRevert) as refused:
        federation.set_node_addresses(outsider, [NODE])
    check(refused, "NotMember", account=outsider.address, round=1)

    # an admitted account may publish before its first round; a removed one stays listed
    # in the events but may publish no more once its last round has ended
    enact(federation, members, ProposalKind.ADD_MEMBER, outsider.address)
    federation.set_node_addresses(outsider, [NODE])
    enact(federation, members, ProposalKind.REMOVE_MEMBER, members[0].address)
    federation.set_node_addresses(members[0], [NODE])  # still a member of round 1
    accept_round(federation, members, 1)
    with pytest.raises(ContractRevert) as removed:
        federation.set_node_addresses(members[0], [])
    check(removed, "NotMember", account=members[0].address, round=2)
    federation.set_node_addresses(members[1], [NODE])
    assert directory.refresh()[members[1].address] == (NODE,)
    federation.set_node_addresses(members[1], [])  # withdrawn
    expected = {members[0].address: (NODE,), outsider.address: (NODE,)}
    assert directory.refresh() == expected
    assert NodeDirectory(federation).refresh() == expected  # the whole history at once


def test_the_client_refuses_node_addresses_the_contract_would(
    federation: Federation, members: list[LocalAccount]
) -> None:
    with pytest.raises(ConfigError, match="without spaces"):
        federation.set_node_addresses(members[0], ["/ip4/10.0.0.1/tcp/1 /ip4/10.0.0.2/tcp/1"])
    with pytest.raises(ConfigError, match="1024 the contract keeps"):
        federation.set_node_addresses(members[0], [NODE] * 20)
    assert federation.node_addresses(members[0].address) == ()
