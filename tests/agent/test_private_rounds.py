"""Private rounds with MemberAgents on the embedded chain: keys, setup, masking, recovery.

The rule turns private by a governed proposal (round 1 plain, round 2 private). Each
private round's accepted model must equal, byte for byte, the fixed-point FedAvg of the
members' plaintext updates, which the test recomputes from the agents' own training.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount

from daofed.agent import AgentEvent, MemberAgent, MemberSettings, Step
from daofed.chain import Federation, Phase, ProposalKind, dev_accounts, embedded_chain
from daofed.errors import InvalidBlob
from daofed.learning import FederatedSplit, load_digits, split_federated
from daofed.learning.aggregation import MemberUpdate, parse_rule
from daofed.learning.aggregation.server import split_server_state
from daofed.learning.compression import Compression, decode_update
from daofed.protocol import fetch_model
from daofed.storage import LocalStore, encode
from daofed.storage.store import sha256_digest
from tests.chain.conftest import enact, wait_until
from tests.federations import DIGITS, deploy, step_until

MEMBERS = 5
WINDOW = 600
PRIVATE = "fedavg:secagg=3"
SETTINGS = MemberSettings(options={"epochs": 1})


@pytest.fixture(scope="module")
def split() -> FederatedSplit:
    return split_federated(load_digits(), MEMBERS, alpha=None, seed=0)


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "blobs")


@pytest.fixture
def members() -> list[LocalAccount]:
    return dev_accounts(MEMBERS + 1)[1:]


@pytest.fixture
def federation(store: LocalStore, members: list[LocalAccount]) -> Federation:
    """Round 1 plain; the rule turned private by vote, from round 2 on."""
    deployer = dev_accounts(1)[0]
    federation = deploy(
        embedded_chain(), store, deployer, members, window=WINDOW, quorum=3, voting_period=60
    )
    enact(federation, members, ProposalKind.SET_RULE, PRIVATE)
    return federation


@pytest.fixture
def agents(
    federation: Federation, store: LocalStore, members: list[LocalAccount], split: FederatedSplit
) -> Callable[[list[AgentEvent]], list[MemberAgent]]:
    def make(events: list[AgentEvent]) -> list[MemberAgent]:
        return [
            MemberAgent(
                federation, store, member, DIGITS, split.members[i].train, SETTINGS, events.append
            )
            for i, member in enumerate(members)
        ]

    return make


def expected_model(
    federation: Federation,
    store: LocalStore,
    agents: list[MemberAgent],
    round_number: int,
    who: list[MemberAgent],
) -> bytes:
    """The digest the private round must accept: fixed-point FedAvg of ``who``'s updates."""
    rule = parse_rule(federation.rule_of(round_number))
    updates = []
    for agent in who:
        update = agent.local_update(round_number)  # retrained: the very same delta
        updates.append(MemberUpdate(agent.address, update.num_examples, update.delta))
    base = fetch_model(store, federation.round_info(round_number).base, agents[0].genesis)
    model, state = split_server_state(base)
    model, state = rule.server_step(model, state, rule.aggregate(updates))
    return sha256_digest(encode({**model, **state}))


def test_a_private_round_accepts_the_fixed_point_fedavg_of_the_plaintext_updates(
    federation: Federation,
    store: LocalStore,
    agents: Callable[[list[AgentEvent]], list[MemberAgent]],
) -> None:
    events: list[AgentEvent] = []
    running = agents(events)
    step_until(running, lambda: federation.current_round() == 2)  # round 1: plain
    assert all(federation.encryption_key(a.address) is not None for a in running)
    assert set(federation.encryption_keys(2)) == {a.address for a in running}

    step_until(running, lambda: federation.current_round() == 3)
    steps = [e.step for e in events if e.round == 2]
    assert steps.count(Step.SHARES_POSTED) == MEMBERS
    assert steps.count(Step.RECOVERY_POSTED) == MEMBERS
    assert len(federation.share_posts(2)) == len(federation.recovery_posts(2)) == MEMBERS
    info = federation.round_info(2)
    assert info.phase is Phase.ACCEPTED and info.accepted is not None
    assert info.accepted.digest == expected_model(federation, store, running, 2, running)
    # the updates on record are masked: none of them decodes as a plain update
    for update in federation.updates(2):
        with pytest.raises(InvalidBlob):
            decode_update(store.get(update.ref), running[0].genesis.spec, Compression.NONE)


def test_members_that_drop_out_leave_the_survivors_sum(
    federation: Federation,
    store: LocalStore,
    agents: Callable[[list[AgentEvent]], list[MemberAgent]],
) -> None:
    """One member stops after its setup message, another after its masked update."""
    events: list[AgentEvent] = []
    running = agents(events)
    step_until(running, lambda: federation.current_round() == 2)
    early, late, *survivors = running

    step_until([early], lambda: federation.has_posted_shares(2, early.address), steps=3)
    step_until(
        [late, *survivors],
        lambda: all(federation.has_submitted(2, a.address) for a in [late, *survivors]),
    )
    wait_until(federation, federation.round_info(2).submit_deadline)  # early never submits
    assert federation.phase(2) is Phase.VOTE
    step_until(survivors, lambda: federation.current_round() == 3)

    info = federation.round_info(2)
    assert info.accepted is not None
    assert not federation.has_posted_recovery(2, late.address)
    assert info.accepted.digest == expected_model(federation, store, running, 2, [late, *survivors])


def test_agents_restarted_between_the_private_steps_carry_on(
    federation: Federation,
    store: LocalStore,
    agents: Callable[[list[AgentEvent]], list[MemberAgent]],
) -> None:
    """Fresh agents (as after SIGKILL) re-derive their secrets: same masks, same sum."""
    events: list[AgentEvent] = []
    step_until(agents(events), lambda: federation.current_round() == 2)
    running = agents(events)  # restarted before the private round's first step
    step_until(running, lambda: len(federation.share_posts(2)) == MEMBERS)
    running = agents(events)  # restarted after their setup messages
    step_until(running, lambda: federation.phase(2) is Phase.VOTE)
    running = agents(events)  # restarted after their masked updates
    step_until(running, lambda: len(federation.recovery_posts(2)) == MEMBERS)
    running = agents(events)  # restarted after their recovery messages
    step_until(running, lambda: federation.current_round() == 3)

    for member in running:  # each step was taken once, the restarts notwithstanding
        mine = [e.step for e in events if e.round == 2 and e.member == member.address]
        assert mine.count(Step.SHARES_POSTED) == mine.count(Step.RECOVERY_POSTED) == 1
        assert mine.count(Step.SUBMITTED) == 1
    accepted = federation.round_info(2).accepted
    assert accepted is not None
    assert accepted.digest == expected_model(federation, store, running, 2, running)
