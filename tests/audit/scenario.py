"""A short real federation to audit: agents on a chain, a local store, every kind of round.

Rounds (3 members, quorum 3, FedAvg, one local epoch; the task is ``digits-mlp``, or the
one asked for, pinned by the genesis model):
1. every member submits and votes: accepted;
2. member 3 submits bytes that are not a model: every member excludes it, accepted;
3. everyone submits, nobody votes, the vote window passes, a member closes it: closed;
4. member 1 has submitted: open, in the submit phase.

Used by tests/audit on the embedded chain and by tests/cli on anvil (through its URL).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3

from daofed.agent import MemberAgent, MemberSettings, Step
from daofed.audit import RoundStatus, read_status
from daofed.chain import Federation, Phase, advance_time, dev_accounts
from daofed.learning import DEFAULT_TASK, FederatedSplit, Task, load_task, split_federated
from daofed.protocol import genesis_blob
from daofed.storage import LocalStore

MEMBERS = 3
WINDOW = 600
SETTINGS = MemberSettings(options={"epochs": 1})
BAD_UPDATE = b"these bytes are not a safetensors model"


@dataclass(frozen=True)
class Scenario:
    """The federation, its store, and what the fixture observed while running it."""

    federation: Federation
    store: LocalStore
    task: Task[Any]
    members: tuple[LocalAccount, ...]
    split: FederatedSplit
    status_in_round_2_vote: RoundStatus  # taken after submissions, before any vote

    @property
    def store_dir(self) -> Path:
        return self.store.root


def build_scenario(w3: Web3, store_dir: Path, task: Task[Any] | None = None) -> Scenario:
    task = task or load_task(DEFAULT_TASK)
    store = LocalStore(store_dir)
    deployer, *members = dev_accounts(MEMBERS + 1)
    split = split_federated(task.dataset(), MEMBERS, alpha=None, seed=0)
    federation = Federation.deploy(
        w3,
        deployer,
        members=[m.address for m in members],
        quorum=MEMBERS,
        submit_window=WINDOW,
        vote_window=WINDOW,
        rule="fedavg",
        genesis=store.put(genesis_blob(task, 0)),
    )
    agents = [
        MemberAgent(federation, store, account, task, task.as_data(share.train), SETTINGS)
        for account, share in zip(members, split.members, strict=True)
    ]
    _step_all(agents, Step.SUBMITTED)  # round 1
    _step_all(agents, Step.VOTED)

    bad = store.put(BAD_UPDATE)  # round 2
    federation.submit_update(members[2], 2, bad, 100)
    _step_all(agents[:2], Step.SUBMITTED)
    status = read_status(federation, store)
    _step_all(agents, Step.VOTED)

    _step_all(agents, Step.SUBMITTED)  # round 3
    advance_time(w3, 2 * WINDOW + 1)
    assert federation.phase(3) is Phase.EXPIRED
    assert agents[0].step().step is Step.CLOSED

    assert agents[0].step().step is Step.SUBMITTED  # round 4
    assert federation.current_round() == 4
    return Scenario(federation, store, task, tuple(members), split, status)


def _step_all(agents: list[MemberAgent], expected: Step) -> None:
    steps = [agent.step().step for agent in agents]
    assert steps == [expected] * len(agents), steps
