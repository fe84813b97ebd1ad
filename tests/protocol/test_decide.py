"""next_action: every phase x what this member has done, and non-members."""

from __future__ import annotations

import pytest

from daofed.chain import Phase, RoundSnapshot
from daofed.protocol import Action, PrivateFacts, next_action


def snap(
    phase: Phase,
    *,
    member: bool = True,
    commit_reveal: bool = False,
    committed: bool = False,
    submitted: bool = False,
    voted: bool = False,
) -> RoundSnapshot:
    return RoundSnapshot(7, 1, phase, member, commit_reveal, committed, submitted, voted)


@pytest.mark.parametrize(
    ("snapshot", "action"),
    [
        (snap(Phase.SUBMIT), Action.SUBMIT),
        (snap(Phase.SUBMIT, submitted=True), Action.WAIT),
        (snap(Phase.SUBMIT, commit_reveal=True), Action.COMMIT),
        (snap(Phase.SUBMIT, commit_reveal=True, committed=True), Action.WAIT),
        (snap(Phase.REVEAL, commit_reveal=True, committed=True), Action.REVEAL),
        (snap(Phase.REVEAL, commit_reveal=True, committed=True, submitted=True), Action.WAIT),
        (snap(Phase.REVEAL, commit_reveal=True), Action.WAIT),  # did not commit: nothing to reveal
        (snap(Phase.VOTE), Action.VOTE),
        (snap(Phase.VOTE, submitted=True), Action.VOTE),
        (snap(Phase.VOTE, voted=True), Action.WAIT),
        (snap(Phase.EXPIRED, voted=True), Action.CLOSE),
        (snap(Phase.ACCEPTED), Action.WAIT),
        (snap(Phase.CLOSED), Action.WAIT),
        (snap(Phase.SUBMIT, member=False), Action.WAIT),
        (snap(Phase.EXPIRED, member=False), Action.WAIT),
    ],
)
def test_next_action(snapshot: RoundSnapshot, action: Action) -> None:
    assert next_action(snapshot) is action


def facts(
    *, participant: bool = True, shares: bool = False, closed: bool = False, recovery: bool = False
) -> PrivateFacts:
    return PrivateFacts(participant, shares, closed, recovery)


@pytest.mark.parametrize(
    ("snapshot", "private", "action"),
    [
        (snap(Phase.SUBMIT), facts(), Action.POST_SHARES),
        (snap(Phase.SUBMIT), facts(shares=True), Action.WAIT),  # who masks is not final yet
        (snap(Phase.SUBMIT), facts(shares=True, closed=True), Action.SUBMIT),
        (snap(Phase.SUBMIT, commit_reveal=True), facts(shares=True, closed=True), Action.COMMIT),
        (snap(Phase.SUBMIT), facts(closed=True), Action.WAIT),  # missed the setup: sits out
        (snap(Phase.SUBMIT, submitted=True), facts(shares=True, closed=True), Action.WAIT),
        (snap(Phase.SUBMIT), facts(participant=False), Action.WAIT),  # no key in force
        (
            snap(Phase.REVEAL, commit_reveal=True, committed=True),
            facts(shares=True, closed=True),
            Action.REVEAL,
        ),
        (snap(Phase.VOTE), facts(shares=True, closed=True), Action.POST_RECOVERY),
        (snap(Phase.VOTE), facts(closed=True), Action.POST_RECOVERY),  # it holds others' shares
        (snap(Phase.VOTE), facts(shares=True, closed=True, recovery=True), Action.VOTE),
        (snap(Phase.VOTE), facts(participant=False), Action.VOTE),  # the sum is public
        (snap(Phase.VOTE, voted=True), facts(recovery=True), Action.WAIT),
        (snap(Phase.EXPIRED), facts(), Action.CLOSE),
        (snap(Phase.SUBMIT, member=False), facts(), Action.WAIT),
    ],
)
def test_private_rounds_add_setup_and_recovery_around_the_update(
    snapshot: RoundSnapshot, private: PrivateFacts, action: Action
) -> None:
    assert next_action(snapshot, private) is action
