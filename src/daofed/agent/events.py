"""What a member agent reports about each step it takes.

One :class:`AgentEvent` per step, so a person (progress on stderr), a script (one JSON line
per step) and a test (a list) all see the same record.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from enum import StrEnum

from daofed.jsonable import to_jsonable


class Step(StrEnum):
    """The things an agent can do (or decide not to do) in one step."""

    WAITING = "waiting"
    PEERED = "peered"  # connected to the members' IPFS nodes for a new round
    SHARES_POSTED = "shares-posted"  # private rounds: the setup message
    COMMITTED = "committed"
    SUBMITTED = "submitted"
    EXCLUDED = "excluded"
    RECOVERY_POSTED = "recovery-posted"  # private rounds: the shares the sum needs
    VOTED = "voted"
    CLOSED = "closed"
    LOST_RACE = "lost-race"  # another transaction got there first; the message says which
    ACCEPTED = "accepted"
    ERROR = "error"
    DONE = "done"


@dataclass(frozen=True)
class AgentEvent:
    """One step of one member in one round; ``detail`` holds step-specific fields.

    Digests and commitments in ``detail`` are bytes; :meth:`to_json` spells them as every
    ``--json`` does (``0x`` and 64 lower-case hex characters).
    """

    step: Step
    round: int
    member: str
    message: str
    detail: dict[str, object] = field(default_factory=dict)

    def to_json(self) -> str:
        """One log line; keys are stable so scripts can grep and parse them."""
        record = {**asdict(self), "step": self.step.value}
        return json.dumps(to_jsonable(record), sort_keys=True, default=str)


EventSink = Callable[[AgentEvent], None]


def discard(_event: AgentEvent) -> None:
    """Drop an event: the default sink."""
