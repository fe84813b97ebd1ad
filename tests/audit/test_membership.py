"""Replaying membership events into per-round members, as the contract applies them."""

from __future__ import annotations

from daofed.audit.membership import members_of, tenures
from daofed.audit.records import Change, MembershipChange

A, B, C = "0xA", "0xB", "0xC"


def added(account: str, from_round: int) -> MembershipChange:
    return MembershipChange(account, Change.ADDED, from_round, 0, "0x", 0)


def removed(account: str, from_round: int) -> MembershipChange:
    return MembershipChange(account, Change.REMOVED, from_round, 0, "0x", 0)


def test_changes_apply_from_their_round_on() -> None:
    spans = tenures([added(A, 1), added(B, 1), added(C, 3), removed(A, 4)])
    assert members_of(spans, 1) == (A, B)
    assert members_of(spans, 3) == (A, B, C)
    assert members_of(spans, 4) == (B, C)


def test_re_adding_before_the_removal_applies_cancels_it() -> None:
    spans = tenures([added(A, 1), removed(A, 3), added(A, 3)])
    assert len(spans) == 1 and spans[0].open_ended
    assert all(members_of(spans, r) == (A,) for r in (1, 2, 3, 9))


def test_re_adding_after_leaving_starts_a_second_tenure() -> None:
    spans = tenures([added(A, 1), added(B, 1), removed(A, 2), added(A, 5)])
    assert [(s.from_round, s.open_ended) for s in spans if s.account == A] == [
        (1, False),
        (5, True),
    ]
    assert members_of(spans, 1) == (A, B)
    assert members_of(spans, 3) == (B,)
    assert members_of(spans, 5) == (A, B)  # order of first admission
