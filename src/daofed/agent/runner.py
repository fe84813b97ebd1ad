"""Run one member agent until told to stop: the loop behind ``daofed agent run``.

The loop only adds what a long-running process needs around :meth:`MemberAgent.step`:
polling while there is nothing to do, retrying with backoff when the chain or the blob
store is down (the failure is reported, never fatal), and a stop flag that signal
handlers set so SIGINT/SIGTERM end the process between steps, never in the middle of one.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from daofed.agent.events import AgentEvent, Step
from daofed.agent.member import MemberAgent
from daofed.errors import RpcUnavailable, StoreUnavailable


@dataclass(frozen=True)
class RunOptions:
    """How eagerly to poll and how patiently to retry."""

    poll_interval: float = 1.0
    max_backoff: float = 30.0
    until_round: int | None = None


def run_agent(agent: MemberAgent, options: RunOptions, stop: threading.Event) -> None:
    """Step ``agent`` until ``stop`` is set or round ``options.until_round`` has ended.

    Unreachable services are retried with exponential backoff (capped), because a
    restarted node or a network blip must not lose the member its place in the round:
    the next step re-reads the chain and carries on.
    """
    backoff = options.poll_interval
    last_round = 0  # for reporting failures in the round they interrupted
    while not stop.is_set():
        try:
            event = agent.step(options.until_round)
        except (RpcUnavailable, StoreUnavailable) as error:
            agent.on_event(
                AgentEvent(
                    Step.ERROR,
                    last_round,
                    agent.address,
                    f"{error} (retrying in {backoff:.1f} s)",
                    {"error": type(error).__name__},
                )
            )
            stop.wait(backoff)
            backoff = min(backoff * 2, options.max_backoff)
            continue
        if event.step is Step.DONE:
            return
        backoff = options.poll_interval
        last_round = event.round
        if event.step in (Step.WAITING, Step.LOST_RACE):
            # after a lost race too: a chain that mines no block keeps the phase that
            # the last block's clock shows, so an immediate retry would only lose again
            stop.wait(options.poll_interval)
