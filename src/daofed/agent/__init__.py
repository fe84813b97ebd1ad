"""Member agents: the round's state machine, and the definition of a round's aggregate."""

from daofed.agent.events import AgentEvent, EventSink, Step, discard
from daofed.agent.member import MemberAgent, MemberSettings, training_seed
from daofed.agent.round_aggregate import (
    Exclusion,
    RoundAggregate,
    UpdatePolicy,
    aggregate_round,
    fetch_update,
)

__all__ = [
    "AgentEvent",
    "EventSink",
    "Exclusion",
    "MemberAgent",
    "MemberSettings",
    "RoundAggregate",
    "Step",
    "UpdatePolicy",
    "aggregate_round",
    "discard",
    "fetch_update",
    "training_seed",
]
