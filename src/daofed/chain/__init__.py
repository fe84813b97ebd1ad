"""Everything daofed does on the chain: compiled contracts, nodes, the Federation wrapper.

Start a chain (:func:`embedded_chain`, :class:`AnvilNode`, or :func:`connect` to a URL),
deploy or open a :class:`Federation`, and use its typed views, transactions and events.
"""

from daofed.chain.artifacts import Artifact, load_artifact
from daofed.chain.events import (
    AggregateVoted,
    ChainEvent,
    ConfigChanged,
    MemberAdded,
    MemberRemoved,
    ModelAccepted,
    RoundClosed,
    RoundOpened,
    UpdateSubmitted,
)
from daofed.chain.federation import Federation
from daofed.chain.node import (
    AnvilNode,
    advance_time,
    connect,
    dev_account,
    dev_accounts,
    embedded_chain,
)
from daofed.chain.values import FederationConfig, Phase, RoundInfo, TxResult

__all__ = [
    "AggregateVoted",
    "AnvilNode",
    "Artifact",
    "ChainEvent",
    "ConfigChanged",
    "Federation",
    "FederationConfig",
    "MemberAdded",
    "MemberRemoved",
    "ModelAccepted",
    "Phase",
    "RoundClosed",
    "RoundInfo",
    "RoundOpened",
    "TxResult",
    "UpdateSubmitted",
    "advance_time",
    "connect",
    "dev_account",
    "dev_accounts",
    "embedded_chain",
    "load_artifact",
]
