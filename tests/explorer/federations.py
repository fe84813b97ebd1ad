"""The federations the explorer's browser tests look at, built with real member agents.

``build_explored``: three members (quorum 3, FedAvg, proposals open 60 s) train the
``digits-mlp`` task for one local epoch each round, stepped in this process as in
tests/audit/scenario.py:
1. round 1: everyone submits and votes: accepted;
2. during round 2: proposal 1 switches the rule to median (yes from members 1 and 2, no
   from member 3), proposal 2 lowers the quorum to 2 (yes from member 3 only, no from
   members 1 and 2); after 60 s member 2 executes proposal 1, proposal 2 is defeated; round
   2 is then finished: accepted (median applies from round 3);
3. round 3: everyone submits, nobody votes, the vote window passes, member 1 closes it;
4. round 4 is open and nobody has submitted: the test finishes it while a page is open.

``build_hostile``: two members on their own chain; one submits an update whose CID is an
HTML payload, the other proposes a rule that is one (sent raw: daofed's client refuses a
rule that does not parse, the contract does not).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from eth_account.signers.local import LocalAccount
from web3 import Web3

from daofed.agent import MemberAgent, Step
from daofed.chain import Federation, Phase, ProposalKind, ProposalState, advance_time, dev_accounts
from daofed.learning import DEFAULT_TASK, load_task, split_federated
from daofed.storage import BlobRef, LocalStore
from tests.audit.scenario import SETTINGS, WINDOW
from tests.federations import deploy

MEMBERS = 3
VOTING_PERIOD = 60
CID_PAYLOAD = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">'
RULE_PAYLOAD = "median<script>window.__xss=3</script>"
LATE_CID_PAYLOAD = '"><img src=x onerror="window.__xss=4"><script>window.__xss=5</script>'


@dataclass(frozen=True)
class Explored:
    """The federation, its store, its members and their (stateful) agents."""

    federation: Federation
    store: LocalStore
    members: tuple[LocalAccount, ...]
    agents: tuple[MemberAgent, ...]
    median: int  # the executed proposal
    lower_quorum: int  # the defeated one

    def finish_round(self) -> None:
        """Let every member submit to the current round, then vote: it is accepted."""
        step_all(self.agents, Step.SUBMITTED)
        step_all(self.agents, Step.VOTED)


@dataclass(frozen=True)
class Hostile:
    """A federation whose chain holds HTML payloads in a CID and in a proposed rule."""

    federation: Federation
    store: LocalStore
    members: tuple[LocalAccount, ...]
    proposal: int  # the rule proposal carrying RULE_PAYLOAD

    def submit_late_payload(self) -> None:
        """The second member submits an update whose CID is LATE_CID_PAYLOAD."""
        ref = self.store.put(b"the second member's update")
        self.federation.submit_update(self.members[1], 1, BlobRef(ref.digest, LATE_CID_PAYLOAD), 7)


def build_explored(w3: Web3, store_dir: Path) -> Explored:
    store = LocalStore(store_dir)
    deployer, *members = dev_accounts(MEMBERS + 1)
    task = load_task(DEFAULT_TASK)
    split = split_federated(task.dataset(), MEMBERS, alpha=None, seed=2)
    federation = deploy(
        w3, store, deployer, members, task=task, seed=2, window=WINDOW, voting_period=VOTING_PERIOD
    )
    agents = tuple(
        MemberAgent(federation, store, account, task, task.as_data(share.train), SETTINGS)
        for account, share in zip(members, split.members, strict=True)
    )
    one, two, three = members
    step_all(agents, Step.SUBMITTED)  # round 1
    step_all(agents, Step.VOTED)
    explored = Explored(
        federation,
        store,
        tuple(members),
        agents,
        median=federation.propose(one, ProposalKind.SET_RULE, "median").proposal_id,
        lower_quorum=federation.propose(three, ProposalKind.SET_QUORUM, 2).proposal_id,
    )
    for voter, support in ((one, True), (two, True), (three, False)):
        federation.vote_proposal(voter, explored.median, support)
        federation.vote_proposal(voter, explored.lower_quorum, not support)
    advance_time(w3, VOTING_PERIOD + 1)
    federation.execute_proposal(two, explored.median)
    assert federation.proposal_state(explored.lower_quorum) is ProposalState.DEFEATED
    explored.finish_round()  # round 2
    assert federation.rule_of(3) == "median"

    step_all(agents, Step.SUBMITTED)  # round 3
    advance_time(w3, 2 * WINDOW + 1)
    assert federation.phase(3) is Phase.EXPIRED
    assert agents[0].step().step is Step.CLOSED
    assert federation.current_round() == 4
    assert federation.updates(4) == []
    return explored


def build_hostile(w3: Web3, store_dir: Path) -> Hostile:
    store = LocalStore(store_dir)
    deployer, *members = dev_accounts(3)
    federation = deploy(w3, store, deployer, members, seed=3, window=WINDOW)
    ref = store.put(b"the first member's update")
    federation.submit_update(members[0], 1, BlobRef(ref.digest, CID_PAYLOAD), 10)
    assert federation.updates(1)[0].cid == CID_PAYLOAD
    proposal = propose_rule_raw(w3, federation, members[1], RULE_PAYLOAD)
    federation.vote_proposal(members[0], proposal, False)
    return Hostile(federation, store, tuple(members), proposal)


def step_all(agents: tuple[MemberAgent, ...], expected: Step) -> None:
    """Step each agent once; each must have done ``expected``."""
    steps = [agent.step().step for agent in agents]
    assert steps == [expected] * len(agents), steps


def propose_rule_raw(w3: Web3, federation: Federation, account: LocalAccount, rule: str) -> int:
    """Propose ``rule`` with a transaction of our own: ``propose_rule`` would parse it first."""
    call = federation.contract.functions.proposeRule(rule)
    tx = call.build_transaction(
        {"from": account.address, "nonce": w3.eth.get_transaction_count(account.address)}
    )
    signed = account.sign_transaction(tx)  # type: ignore[arg-type]
    tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash)
    assert receipt["status"] == 1, receipt
    created = [p for p in federation.proposals() if p.value == rule]
    assert len(created) == 1, created
    return created[0].proposal_id
