"""Audit a federation from its contract's events: history, verification, accuracy, status.

Typical use, against any chain (no deployment file needed)::

    from daofed.audit import open_source, run_audit

    source = open_source(rpc_url="http://127.0.0.1:8545", contract="0x...", store="local:blobs")
    report = run_audit(source.federation, source.store, verify=True, plot=Path("audit.png"))
    assert report.ok, report.verification.findings

or piece by piece: :func:`read_history` (events only), :func:`verify_history` (re-fetch
and re-aggregate every round), :func:`evaluate_history` and :func:`plot_history`.
:func:`read_status` and :func:`read_members` describe the running round and the members.
"""

from daofed.audit.accuracy import (
    DEFAULT_TEST_SEED,
    RoundAccuracy,
    default_test_set,
    evaluate_history,
    load_test_set,
    model_config_of,
)
from daofed.audit.governance import GovernanceFinding, check_governance
from daofed.audit.history import read_history
from daofed.audit.members import MemberInfo, Membership, Standing, read_members
from daofed.audit.model import fetch_genesis
from daofed.audit.plot import plot_history
from daofed.audit.records import (
    CommitRecord,
    DigestTally,
    History,
    MembershipChange,
    Outcome,
    ProposalRecord,
    ProposalVoteRecord,
    RoundRecord,
    UpdateRecord,
    VoteRecord,
)
from daofed.audit.report import AuditReport, run_audit
from daofed.audit.source import AuditSource, open_source
from daofed.audit.status import MemberState, RoundStatus, read_status
from daofed.audit.verify import Finding, RoundVerification, Verdict, Verification, verify_history

__all__ = [
    "DEFAULT_TEST_SEED",
    "AuditReport",
    "AuditSource",
    "CommitRecord",
    "DigestTally",
    "Finding",
    "GovernanceFinding",
    "History",
    "MemberInfo",
    "MemberState",
    "Membership",
    "MembershipChange",
    "Outcome",
    "ProposalRecord",
    "ProposalVoteRecord",
    "RoundAccuracy",
    "RoundRecord",
    "RoundStatus",
    "RoundVerification",
    "Standing",
    "UpdateRecord",
    "Verdict",
    "Verification",
    "VoteRecord",
    "check_governance",
    "default_test_set",
    "evaluate_history",
    "fetch_genesis",
    "load_test_set",
    "model_config_of",
    "open_source",
    "plot_history",
    "read_history",
    "read_members",
    "read_status",
    "run_audit",
    "verify_history",
]
