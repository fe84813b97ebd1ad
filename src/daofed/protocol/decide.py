"""What a member does next, decided from one snapshot of its round: a pure function.

The agent reads every fact it needs at one block (so the facts cannot disagree with each
other), asks :func:`next_action`, and does that one thing. Nothing else decides, so
every way of running a member (process, demo, test) follows the same rules, and a
member restarted at any point picks up where the chain says it is.
"""

from __future__ import annotations

from enum import StrEnum

from daofed.chain import Phase, RoundSnapshot


class Action(StrEnum):
    """The one thing a member owes its round now."""

    WAIT = "wait"
    SUBMIT = "submit"  # upload the update and submit its digest
    COMMIT = "commit"  # commit-reveal rounds: commit to the update's digest and CID, upload nothing
    REVEAL = "reveal"  # upload the committed update and reveal it
    VOTE = "vote"  # aggregate and vote for the result
    CLOSE = "close"  # the round expired without quorum: close it


def next_action(snapshot: RoundSnapshot) -> Action:
    """Decide this member's next action from ``snapshot`` alone."""
    s = snapshot
    if not s.is_member:
        return Action.WAIT
    if s.phase is Phase.SUBMIT:
        if s.commit_reveal and not s.committed:
            return Action.COMMIT
        if not s.commit_reveal and not s.submitted:
            return Action.SUBMIT
    if s.phase is Phase.REVEAL and s.committed and not s.submitted:
        return Action.REVEAL
    if s.phase is Phase.VOTE and not s.voted:
        return Action.VOTE
    if s.phase is Phase.EXPIRED:
        return Action.CLOSE
    return Action.WAIT
