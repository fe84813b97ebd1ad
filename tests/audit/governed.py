"""A governed federation to audit: proposals change the rule and the members mid-run.

Four members (quorum 3, proposals open 60 s) train with FedAvg:
1. round 1: everyone submits and votes: accepted;
2. during round 2: proposal 1 switches the rule to median (yes from members 1-3),
   proposal 2 admits a fifth member (yes 1-3, no from member 4), proposal 3 raises the
   quorum to 4 (only its proposer votes yes): after 60 s proposals 1 and 2 are executed,
   proposal 3 is defeated; round 2 is then finished (still FedAvg, four members);
3. round 3: five members, median: accepted; round 4 is open.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from eth_account.signers.local import LocalAccount
from web3 import Web3

from daofed.agent import MemberAgent
from daofed.chain import Federation, ProposalKind, ProposalState, advance_time, dev_accounts
from daofed.learning import DEFAULT_TASK, load_task, split_federated
from daofed.protocol import genesis_blob
from daofed.storage import LocalStore

from .scenario import SETTINGS

FOUNDERS = 4
VOTING_PERIOD = 60
WINDOW = 24 * 3600
"""A day: the federation lives for the whole session on the shared anvil, whose clock other
session fixtures move by up to 20 minutes; its last round must stay open. Its rounds close
by votes, never by deadline."""


@dataclass(frozen=True)
class Governed:
    """The governed federation and its cast."""

    federation: Federation
    store: LocalStore
    members: tuple[LocalAccount, ...]  # the four founders, then the fifth member
    proposals: tuple[int, int, int]  # median, add member, quorum 4 (defeated)


def build_governed(w3: Web3, store_dir: Path) -> Governed:
    store = LocalStore(store_dir)
    deployer, *members = dev_accounts(FOUNDERS + 2)
    task = load_task(DEFAULT_TASK)
    split = split_federated(task.dataset(), FOUNDERS + 1, alpha=None, seed=1)
    federation = Federation.deploy(
        w3,
        deployer,
        members=[m.address for m in members[:FOUNDERS]],
        quorum=3,
        submit_window=WINDOW,
        vote_window=WINDOW,
        voting_period=VOTING_PERIOD,
        rule="fedavg",
        genesis=store.put(genesis_blob(task, 1)),
    )
    agents = [
        MemberAgent(federation, store, account, task, task.as_data(share.train), SETTINGS)
        for account, share in zip(members, split.members, strict=True)
    ]
    _run_round(federation, agents[:FOUNDERS])  # round 1

    one, two, three, four = members[:FOUNDERS]
    median = federation.propose(one, ProposalKind.SET_RULE, "median").proposal_id
    admit = federation.propose(two, ProposalKind.ADD_MEMBER, members[FOUNDERS].address).proposal_id
    stricter = federation.propose(four, ProposalKind.SET_QUORUM, 4).proposal_id
    for voter in (one, two, three):
        federation.vote_proposal(voter, median, True)
        federation.vote_proposal(voter, admit, True)
    federation.vote_proposal(four, admit, False)
    federation.vote_proposal(four, stricter, True)
    advance_time(w3, VOTING_PERIOD + 1)
    federation.execute_proposal(three, median)
    federation.execute_proposal(deployer, admit)  # anyone may execute
    assert federation.proposal_state(stricter) is ProposalState.DEFEATED
    _run_round(federation, agents[:FOUNDERS])  # round 2

    _run_round(federation, agents)  # round 3
    assert federation.current_round() == 4
    return Governed(federation, store, tuple(members), (median, admit, stricter))


def _run_round(federation: Federation, agents: list[MemberAgent]) -> None:
    """Step every agent until the current round is accepted.

    An agent whose vote comes after the quorum finds the next round open and submits to
    it in the same step, as a running agent would.
    """
    current = federation.current_round()
    for _ in range(3):
        for agent in agents:
            agent.step()
        if federation.current_round() > current:
            return
    raise AssertionError(f"round {current} was not accepted")
