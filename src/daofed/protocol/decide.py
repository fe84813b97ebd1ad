"""What a member does next, decided from one snapshot of its round: a pure function.

The agent reads every fact it needs at one block (so the facts cannot disagree with each
other), asks :func:`next_action`, and does that one thing. Nothing else decides, so
every way of running a member (process, demo, test) follows the same rules, and a
member restarted at any point picks up where the chain says it is.
"""

from __future__ import annotations

from dataclasses import dataclass
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
    POST_SHARES = "post shares"  # private rounds: upload the setup message and post it
    POST_RECOVERY = "post recovery"  # private rounds: reveal the shares the sum needs


@dataclass(frozen=True)
class PrivateFacts:
    """What a private round (secure aggregation) adds to a member's snapshot.

    ``participant``: the member had an encryption key registered when the round opened
    (else it sits the round out). ``setup_closed``: every participant posted its setup
    message, or the setup deadline has passed: who masks is final.
    """

    participant: bool
    shares_posted: bool
    setup_closed: bool
    recovery_posted: bool


def next_action(snapshot: RoundSnapshot, private: PrivateFacts | None = None) -> Action:
    """Decide this member's next action from ``snapshot`` (and ``private``, if it is).

    In a private round a member posts its setup message first, submits its masked update
    once who masks is final, and in the vote phase posts its recovery message before it
    votes; a member with no setup message on record submits nothing, but still reveals
    the shares it holds, which the others may need.
    """
    s = snapshot
    if not s.is_member:
        return Action.WAIT
    if private is not None:
        return _private_action(s, private)
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


def _private_action(s: RoundSnapshot, p: PrivateFacts) -> Action:
    if p.participant and s.phase is Phase.SUBMIT:
        if not p.shares_posted and not p.setup_closed and not (s.committed or s.submitted):
            return Action.POST_SHARES
        if p.shares_posted and p.setup_closed:
            if s.commit_reveal and not s.committed:
                return Action.COMMIT
            if not s.commit_reveal and not s.submitted:
                return Action.SUBMIT
    if p.participant and s.phase is Phase.REVEAL and s.committed and not s.submitted:
        return Action.REVEAL
    if s.phase is Phase.VOTE:
        if p.participant and not p.recovery_posted:
            return Action.POST_RECOVERY
        if not s.voted:  # the sum comes from public messages: every member can vote
            return Action.VOTE
    if s.phase is Phase.EXPIRED:
        return Action.CLOSE
    return Action.WAIT
