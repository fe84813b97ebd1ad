"""Shared test helpers: deploy a federation whose genesis pins a task; step its agents."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3

from daofed.agent import MemberAgent
from daofed.chain import Federation
from daofed.learning import Task, load_task
from daofed.protocol import genesis_blob
from daofed.storage import BlobStore

DIGITS = load_task("digits-mlp")
"""The default task, built once for the tests that need any task."""


def deploy(
    w3: Web3,
    store: BlobStore,
    deployer: LocalAccount,
    members: list[LocalAccount],
    *,
    task: Task[Any] = DIGITS,
    seed: int = 0,
    quorum: int | None = None,
    window: int = 600,
    rule: str = "fedavg",
    **options: Any,
) -> Federation:
    """Deploy with the genesis of ``task`` (seeded), unanimity by default."""
    return Federation.deploy(
        w3,
        deployer,
        members=[m.address for m in members],
        quorum=len(members) if quorum is None else quorum,
        submit_window=window,
        vote_window=window,
        rule=rule,
        genesis=store.put(genesis_blob(task, seed)),
        **options,
    )


def step_until(agents: list[MemberAgent], done: Callable[[], bool], steps: int = 20) -> None:
    """Step every agent in turn until ``done()``; fail after ``steps`` passes."""
    for _ in range(steps):
        if done():
            return
        for agent in agents:
            agent.step()
    assert done()
