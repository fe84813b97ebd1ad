"""next_action: every phase x what this member has done, and non-members."""

from __future__ import annotations

import pytest

from daofed.chain import Phase, RoundSnapshot
from daofed.protocol import Action, next_action


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
