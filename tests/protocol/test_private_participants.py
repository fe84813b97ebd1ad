"""Who takes part in a private round: members with a usable encryption key in force."""

from __future__ import annotations

from daofed.protocol.private import participants
from daofed.secagg import KeyPair

MEMBERS = ["0x" + f"{i:040x}" for i in range(1, 5)]


def test_members_without_a_key_or_with_an_unusable_one_sit_the_round_out() -> None:
    keys = {member: KeyPair.generate().public for member in MEMBERS[:3]}
    keys[MEMBERS[1]] = bytes(32)  # a low-order point: no secret can be agreed with it
    assert participants(MEMBERS, keys) == (MEMBERS[0], MEMBERS[2])


def test_participants_keep_the_members_order() -> None:
    keys = {member: KeyPair.generate().public for member in MEMBERS}
    assert participants(list(reversed(MEMBERS)), keys) == tuple(reversed(MEMBERS))
