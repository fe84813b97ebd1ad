"""Re-check the round rules from the events alone: who acted, how often, when, on what quorum.

The contract enforces these rules. The audit re-checks them from the events so that the
events themselves prove them, whatever code emitted them (:mod:`.code` checks the code):
- rounds are numbered 1, 2, ... in the order they opened, round 1 in the deployment
  block, and a round opens only once the one before it ended;
- each round opened on the model the previous one left (the accepted digest and CID, or
  its own base after a close), with the parameters of the config version in force
  (quorum, commit-reveal, deadlines counted from its opening) and as many members as the
  membership events give it;
- every committer, submitter and voter was a member of the round and acted once; with
  commit-reveal every reveal follows a commitment, without it nobody commits;
- commitments and plain submissions came before the submission deadline, reveals before
  the reveal deadline, votes before the vote deadline, and none before the round opened;
- in private rounds, every setup and recovery message came from a member, once; a setup
  message before the setup deadline (halfway through the submission window) and before
  its member's own update, a recovery message once the vote phase had begun (after every
  update it could follow) and before the vote deadline;
- every update claims 1 to the round's ``maxSamples`` samples;
- an accepted model had at least the round's quorum of votes from distinct members for
  that very digest and CID (votes for the same digest at another CID count apart).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import NamedTuple

from daofed.audit.findings import Finding, short
from daofed.audit.records import History, Outcome, RoundRecord
from daofed.chain import ConfigChanged


def check_rounds(history: History) -> tuple[Finding, ...]:
    """Every broken round rule in ``history``, in round order."""
    findings: list[Finding] = []
    expected = (history.genesis_digest, history.genesis_cid)
    versions = {config.version: config for config in history.configs}
    for index, record in enumerate(history.rounds, start=1):
        last = index == len(history.rounds)
        acts = _acts(record)
        findings += _sequence(record, index, last, history.deploy_block)
        findings += _base(record, *expected)
        findings += _parameters(record, _in_force(history.configs, record.round))
        findings += _members(record, acts)
        findings += _once(record, acts)
        findings += _windows(record, acts)
        findings += _private_order(record, acts)
        findings += _samples(record, versions.get(record.config_version))
        findings += _quorum(record)
        expected = (record.result_digest, record.result_cid)
    return tuple(findings)


class _Act(NamedTuple):
    """One member's commitment, update or vote in a round."""

    kind: str  # "commit", "update", "vote", "setup" or "recovery": the tag in a finding's reason
    member: str
    digest: bytes | None  # of the update, the aggregate voted for or the message; None: commitment
    block: int
    timestamp: int
    log_index: int

    @property
    def position(self) -> tuple[int, int]:
        """Where the act is in chain order."""
        return (self.block, self.log_index)


_VERBS = {
    "commit": "committed",
    "update": "submitted an update",
    "vote": "voted",
    "setup": "posted a setup message",
    "recovery": "posted a recovery message",
}


def _acts(record: RoundRecord) -> list[_Act]:
    return [
        *(
            _Act("commit", c.member, None, c.block_number, c.timestamp, c.log_index)
            for c in record.commits
        ),
        *(
            _Act(kind, r.member, r.digest, r.block_number, r.timestamp, r.log_index)
            for kind, records in (
                ("update", record.updates),
                ("vote", record.votes),
                ("setup", record.setups),
                ("recovery", record.recoveries),
            )
            for r in records
        ),
    ]


def _sequence(record: RoundRecord, index: int, last: bool, deploy_block: int) -> list[Finding]:
    problems = []
    if record.round != index:
        problems.append(f"it is round number {index} in the order rounds opened")
    if index == 1 and record.opened_block != deploy_block:
        problems.append(
            f"it opened in block {record.opened_block}, not in the deployment block {deploy_block}"
        )
    if not last and record.outcome in (Outcome.OPEN, Outcome.EXPIRED):
        problems.append("the next round opened although this one was neither accepted nor closed")
    return [_round_finding(record, "round-sequence", problem) for problem in problems]


def _base(record: RoundRecord, digest: bytes, cid: str) -> list[Finding]:
    if (record.base_digest, record.base_cid) == (digest, cid):
        return []
    r = record.round
    source = "the genesis model" if r == 1 else f"the model round {r - 1} left"
    if record.base_digest != digest:
        problem = f"base {short(record.base_digest)} is not {source} ({short(digest)})"
    else:
        problem = f"base {short(digest)} is to be fetched from {record.base_cid!r}, not {cid!r}"
        problem += f" as {source} was agreed to be"
    return [_round_finding(record, "base-mismatch", problem)]


def _parameters(record: RoundRecord, config: ConfigChanged | None) -> list[Finding]:
    """Check the round's snapshot is its config in force, deadlines from its opening."""
    findings = []
    if len(record.members) != record.member_count:
        findings.append(
            _round_finding(
                record,
                "member-count",
                f"opened with {record.member_count} members but the membership events give "
                f"{len(record.members)} ({', '.join(record.members)})",
            )
        )
    if config is None:
        return [*findings, _round_finding(record, "round-parameters", "no config was in force")]
    submit = record.opened_timestamp + config.submit_window
    reveal = submit + config.reveal_window if config.commit_reveal else submit
    expected = {
        "config version": (record.config_version, config.version),
        "quorum": (record.quorum, config.quorum),
        "commit-reveal": (record.commit_reveal, config.commit_reveal),
        "submission deadline": (record.submit_deadline, submit),
        "reveal deadline": (record.reveal_deadline, reveal),
        "vote deadline": (record.vote_deadline, reveal + config.vote_window),
    }
    wrong = [f"{name} {got} (not {want})" for name, (got, want) in expected.items() if got != want]
    if wrong:
        findings.append(
            _round_finding(
                record,
                "round-parameters",
                f"opened with {', '.join(wrong)}: config v{config.version} was in force",
            )
        )
    return findings


def _members(record: RoundRecord, acts: list[_Act]) -> list[Finding]:
    """Only members of the round act in it; reveals follow commitments."""
    findings = [
        _act_finding(
            record,
            act,
            "non-member",
            f"{_VERBS[act.kind]} but is not a member of round {record.round}",
        )
        for act in acts
        if act.member not in record.members
    ]
    committed = {c.member for c in record.commits}
    if record.commit_reveal:
        findings += [
            _act_finding(record, act, "unannounced", "revealed an update it never committed to")
            for act in acts
            if act.kind == "update" and act.member not in committed
        ]
    else:
        findings += [
            _act_finding(record, act, "unexpected", "committed in a round without commit-reveal")
            for act in acts
            if act.kind == "commit"
        ]
    return findings


def _once(record: RoundRecord, acts: list[_Act]) -> list[Finding]:
    """Each member commits, submits and votes at most once per round."""
    counts = Counter((act.kind, act.member) for act in acts)
    return [
        Finding(
            record.round,
            member,
            None,
            f"repeated-{kind}",
            f"round {record.round}: {member} {_VERBS[kind]} {count} times",
        )
        for (kind, member), count in counts.items()
        if count > 1
    ]


def _windows(record: RoundRecord, acts: list[_Act]) -> list[Finding]:
    """Every act lies between the round's opening and the deadline of its phase."""
    deadlines = {
        "commit": ("submission", record.submit_deadline),
        "update": ("reveal", record.reveal_deadline)
        if record.commit_reveal
        else ("submission", record.submit_deadline),
        "vote": ("vote", record.vote_deadline),
        "setup": (
            "setup",
            record.opened_timestamp + (record.submit_deadline - record.opened_timestamp) // 2,
        ),
        "recovery": ("vote", record.vote_deadline),
    }
    findings = []
    for act in acts:
        verb = _VERBS[act.kind]
        if act.block < record.opened_block:
            findings.append(
                _act_finding(
                    record,
                    act,
                    "early",
                    f"{verb} in block {act.block}, before the round opened "
                    f"(block {record.opened_block})",
                )
            )
        phase, deadline = deadlines[act.kind]
        if act.timestamp >= deadline:
            findings.append(
                _act_finding(
                    record,
                    act,
                    "late",
                    f"{verb} at {act.timestamp}, not before the {phase} deadline {deadline}",
                )
            )
    return findings


def _private_order(record: RoundRecord, acts: list[_Act]) -> list[Finding]:
    """Check setup messages precede their member's update, recoveries the vote phase's start.

    The vote phase begins at the last deadline of the submissions (the reveal deadline,
    which is the submission deadline without commit-reveal), or earlier once everyone who
    could has submitted: every member, or with commit-reveal every committer.
    """
    findings = []
    entered = {
        (act.kind, act.member): act.position for act in acts if act.kind in ("commit", "update")
    }
    updates = sorted(act.position for act in acts if act.kind == "update")
    expected = len(record.commits) if record.commit_reveal else record.member_count
    for act in acts:
        if act.kind == "setup":
            first = min(
                (
                    entered[k]
                    for k in (("commit", act.member), ("update", act.member))
                    if k in entered
                ),
                default=None,
            )
            if first is not None and first < act.position:
                findings.append(
                    _act_finding(record, act, "late", "posted a setup message after its update")
                )
        if act.kind == "recovery":
            before = sum(1 for position in updates if position < act.position)
            if act.timestamp < record.reveal_deadline and before < expected:
                findings.append(
                    _act_finding(
                        record,
                        act,
                        "early",
                        f"posted a recovery message with {before} of {expected} updates in, "
                        "before the vote phase",
                    )
                )
    return findings


def _samples(record: RoundRecord, config: ConfigChanged | None) -> list[Finding]:
    if config is None:  # reported by _parameters
        return []
    return [
        Finding(
            record.round,
            u.member,
            u.digest,
            "sample-count",
            f"round {record.round}: {u.member} claimed {u.num_samples} samples; the round "
            f"allows 1 to {config.max_samples}",
        )
        for u in record.updates
        if not 1 <= u.num_samples <= config.max_samples
    ]


def _quorum(record: RoundRecord) -> list[Finding]:
    """Check the accepted (digest, CID) had the quorum, counting members' first votes only."""
    if record.accepted_digest is None or record.accepted_cid is None:
        return []
    accepted = (record.accepted_digest, record.accepted_cid)
    first: dict[str, tuple[bytes, str]] = {}
    for vote in record.votes:
        first.setdefault(vote.member, (vote.digest, vote.cid))
    votes = sum(first[m] == accepted for m in first if m in record.members)
    if votes >= record.quorum:
        return []
    return [
        _round_finding(
            record,
            "no-quorum",
            f"model {short(accepted[0])} at {accepted[1]!r} was accepted with {votes} of the "
            f"{record.quorum} member votes its quorum needs",
            accepted[0],
        )
    ]


def _in_force(configs: Iterable[ConfigChanged], round_number: int) -> ConfigChanged | None:
    """Return the config a round opened with: the latest version made before it opened."""
    eligible = [c for c in configs if c.from_round <= round_number]
    return max(eligible, key=lambda c: c.version) if eligible else None


def _round_finding(
    record: RoundRecord, reason: str, problem: str, digest: bytes | None = None
) -> Finding:
    """Report on the round as a whole; the digest is its base unless another is named."""
    return Finding(
        record.round, None, digest or record.base_digest, reason, f"round {record.round}: {problem}"
    )


def _act_finding(record: RoundRecord, act: _Act, what: str, problem: str) -> Finding:
    """Report on one act; the reason is ``what`` and the act's kind, e.g. ``late-vote``."""
    return Finding(
        record.round,
        act.member,
        act.digest,
        f"{what}-{act.kind}",
        f"round {record.round}: {act.member} {problem}",
    )
