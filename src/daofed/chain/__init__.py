"""Everything daofed does on the chain: compiled contracts, nodes, the Federation wrapper.

Start a chain (:func:`embedded_chain`, :class:`AnvilNode`, :class:`HardhatNode`, or
:func:`connect` to a URL),
deploy or open a :class:`Federation`, and use its typed views, transactions and events:
rounds (submit, or commit then reveal; vote; close) and governance (propose, vote on and
execute changes of members and parameters).
"""

from daofed.chain.artifacts import Artifact, load_artifact
from daofed.chain.commitment import derive_salt, new_salt, update_commitment
from daofed.chain.events import (
    AggregateVoted,
    ChainEvent,
    ConfigChanged,
    EncryptionKeySet,
    MemberAdded,
    MemberRemoved,
    ModelAccepted,
    NodeAddressesSet,
    ProposalCreated,
    ProposalExecuted,
    ProposalVoted,
    RecoveryPosted,
    RoundClosed,
    RoundOpened,
    SharesPosted,
    UpdateCommitted,
    UpdateSubmitted,
)
from daofed.chain.federation import Federation
from daofed.chain.node import (
    AnvilNode,
    HardhatNode,
    LocalNode,
    advance_time,
    connect,
    dev_account,
    dev_accounts,
    embedded_chain,
    fund,
)
from daofed.chain.proposals import describe as describe_proposal
from daofed.chain.values import (
    FederationConfig,
    Phase,
    ProposalInfo,
    ProposalKind,
    ProposalState,
    ProposalValue,
    RoundInfo,
    RoundSnapshot,
    TxResult,
    Windows,
)

__all__ = [
    "AggregateVoted",
    "AnvilNode",
    "Artifact",
    "ChainEvent",
    "ConfigChanged",
    "EncryptionKeySet",
    "Federation",
    "FederationConfig",
    "HardhatNode",
    "LocalNode",
    "MemberAdded",
    "MemberRemoved",
    "ModelAccepted",
    "NodeAddressesSet",
    "Phase",
    "ProposalCreated",
    "ProposalExecuted",
    "ProposalInfo",
    "ProposalKind",
    "ProposalState",
    "ProposalValue",
    "ProposalVoted",
    "RecoveryPosted",
    "RoundClosed",
    "RoundInfo",
    "RoundOpened",
    "RoundSnapshot",
    "SharesPosted",
    "TxResult",
    "UpdateCommitted",
    "UpdateSubmitted",
    "Windows",
    "advance_time",
    "connect",
    "derive_salt",
    "describe_proposal",
    "dev_account",
    "dev_accounts",
    "embedded_chain",
    "fund",
    "load_artifact",
    "new_salt",
    "update_commitment",
]
