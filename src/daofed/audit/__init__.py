"""Audit a federation from its contract's events: history, verification, metrics, status.

Typical use, against any chain (no deployment file needed)::

    from daofed.audit import open_source, run_audit

    source = open_source(rpc_url="http://127.0.0.1:8545", contract="0x...", store="local:blobs")
    report = run_audit(source.federation, source.store, verify=True, plot=Path("audit.png"))
    assert report.ok, report.verification.findings

or piece by piece: :func:`read_history` (events only), :func:`check_code` (is the code at
the address the shipped Federation?), :func:`check_rounds` (the round rules, from the
events alone), :func:`verify_history` (those rules, then re-fetch and re-aggregate every
round, a private round by unmasking only its sum, and the governance record),
:func:`evaluate_history` (the federation's task's metrics of every round's model) and
:func:`plot_history`.
:func:`read_status` and :func:`read_members` describe the running round and the members.
"""

from daofed.audit.code import CodeCheck, check_code
from daofed.audit.evaluation import (
    DEFAULT_TEST_SEED,
    Evaluation,
    RoundMetrics,
    audit_task,
    default_test_data,
    evaluate_history,
    load_test_data,
)
from daofed.audit.findings import Finding
from daofed.audit.governance import GovernanceFinding, check_governance
from daofed.audit.history import HistoryReader, read_history
from daofed.audit.members import MemberInfo, Membership, Standing, read_members
from daofed.audit.plot import plot_history
from daofed.audit.records import (
    CommitRecord,
    DigestTally,
    History,
    KeyRecord,
    MembershipChange,
    Outcome,
    PostRecord,
    ProposalRecord,
    ProposalVoteRecord,
    RoundRecord,
    UpdateRecord,
    VoteRecord,
)
from daofed.audit.report import AuditReport, run_audit
from daofed.audit.rules import check_rounds
from daofed.audit.source import AuditSource, open_source
from daofed.audit.status import MemberState, RoundStatus, read_status
from daofed.audit.verify import RoundVerification, Verdict, Verification, verify_history

__all__ = [
    "DEFAULT_TEST_SEED",
    "AuditReport",
    "AuditSource",
    "CodeCheck",
    "CommitRecord",
    "DigestTally",
    "Evaluation",
    "Finding",
    "GovernanceFinding",
    "History",
    "HistoryReader",
    "KeyRecord",
    "MemberInfo",
    "MemberState",
    "Membership",
    "MembershipChange",
    "Outcome",
    "PostRecord",
    "ProposalRecord",
    "ProposalVoteRecord",
    "RoundMetrics",
    "RoundRecord",
    "RoundStatus",
    "RoundVerification",
    "Standing",
    "UpdateRecord",
    "Verdict",
    "Verification",
    "VoteRecord",
    "audit_task",
    "check_code",
    "check_governance",
    "check_rounds",
    "default_test_data",
    "evaluate_history",
    "load_test_data",
    "open_source",
    "plot_history",
    "read_history",
    "read_members",
    "read_status",
    "run_audit",
    "verify_history",
]
