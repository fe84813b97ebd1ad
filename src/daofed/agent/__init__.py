"""Member agents: the protocol core driven over a chain and a blob store."""

from daofed.agent.events import AgentEvent, EventSink, Step, discard
from daofed.agent.member import MemberAgent, MemberSettings

__all__ = ["AgentEvent", "EventSink", "MemberAgent", "MemberSettings", "Step", "discard"]
