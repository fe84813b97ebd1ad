"""MemberAgent on the embedded chain: a full round, restarts, manual votes, expiry, races."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount

from daofed.agent import AgentEvent, MemberAgent, MemberSettings, Step
from daofed.chain import (
    Federation,
    Phase,
    RoundSnapshot,
    advance_time,
    dev_accounts,
    embedded_chain,
)
from daofed.errors import BlobNotFound
from daofed.learning import FederatedSplit, load_digits, split_federated
from daofed.protocol import Action, next_action
from daofed.storage import BlobRef, BlobStore, IpfsStore, LocalStore
from daofed.storage.ipfs_node import IpfsNode
from tests.federations import DIGITS, deploy

MEMBERS = 3
WINDOW = 600
SETTINGS = MemberSettings(options={"epochs": 1})

MakeAgent = Callable[..., MemberAgent]


@pytest.fixture(scope="module")
def split() -> FederatedSplit:
    return split_federated(load_digits(), MEMBERS, alpha=None, seed=0)


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "blobs")


@pytest.fixture
def accounts() -> list[LocalAccount]:
    deployer, *members = dev_accounts(MEMBERS + 1)
    return [deployer, *members]


@pytest.fixture
def federation(store: LocalStore, accounts: list[LocalAccount]) -> Federation:
    deployer, *members = accounts
    return deploy(embedded_chain(), store, deployer, members, window=WINDOW)


@pytest.fixture
def make_agent(
    federation: Federation, store: LocalStore, accounts: list[LocalAccount], split: FederatedSplit
) -> MakeAgent:
    def make(
        index: int, settings: MemberSettings = SETTINGS, events: list[AgentEvent] | None = None
    ) -> MemberAgent:
        sink = events.append if events is not None else (lambda _e: None)
        data = split.members[index].train
        return MemberAgent(federation, store, accounts[index + 1], DIGITS, data, settings, sink)

    return make


def test_a_round_is_accepted_with_every_members_digest(
    federation: Federation, make_agent: MakeAgent
) -> None:
    agents = [make_agent(i) for i in range(MEMBERS)]
    assert [a.step().step for a in agents] == [Step.SUBMITTED] * MEMBERS
    assert federation.phase(1) is Phase.VOTE
    voted = [a.step() for a in agents]
    assert [e.step for e in voted] == [Step.VOTED] * MEMBERS
    digests = {e.detail["digest"] for e in voted}
    assert len(digests) == 1
    info = federation.round_info(1)
    assert info.accepted is not None and info.accepted.digest in digests
    assert federation.current_round() == 2
    assert federation.round_info(2).base.digest == info.accepted.digest


def test_a_restarted_agent_resumes_without_submitting_twice(
    federation: Federation, make_agent: MakeAgent
) -> None:
    first = make_agent(0)
    assert first.step().step is Step.SUBMITTED
    restarted = make_agent(0)  # same key, same data, nothing carried over
    assert restarted.step().step is Step.WAITING
    for i in (1, 2):
        make_agent(i).step()
    assert restarted.step().step is Step.VOTED
    assert len([u for u in federation.updates(1) if u.member == restarted.address]) == 1


def test_retraining_after_a_crash_reproduces_the_same_update(make_agent: MakeAgent) -> None:
    """A member killed between upload and submission uploads the very same bytes again."""
    events: list[AgentEvent] = []
    make_agent(0, events=events).step()
    retrained = make_agent(0).local_update(1).blob
    assert events[0].detail["digest"] == hashlib.sha256(retrained).digest()


def test_manual_vote_leaves_the_vote_to_a_person(
    federation: Federation, make_agent: MakeAgent
) -> None:
    manual = MemberSettings(options={"epochs": 1}, auto_vote=False)
    agents = [make_agent(0, manual), make_agent(1), make_agent(2)]
    for agent in agents:
        agent.step()
    waiting = agents[0].step()
    assert waiting.step is Step.WAITING and "daofed vote aggregate" in waiting.message
    assert not federation.has_voted(1, agents[0].address)
    for agent in agents[1:]:
        agent.step()
    assert federation.phase(1) is Phase.VOTE  # unanimity needs the person's vote
    digest, cid = waiting.detail["digest"], waiting.detail["cid"]
    assert isinstance(digest, bytes) and isinstance(cid, str)
    federation.vote_aggregate(agents[0].account, 1, BlobRef(digest, cid))
    assert federation.phase(1) is Phase.ACCEPTED


def test_an_expired_round_is_closed_and_the_base_carries_over(
    federation: Federation, make_agent: MakeAgent
) -> None:
    agent = make_agent(0)
    assert agent.step().step is Step.SUBMITTED
    advance_time(federation.w3, 2 * WINDOW + 1)
    assert federation.phase(1) is Phase.EXPIRED
    closed = agent.step()
    assert closed.step is Step.CLOSED and closed.message == "closed round 1 without quorum"
    assert federation.current_round() == 2
    assert federation.round_info(2).base == federation.round_info(1).base


def test_of_two_members_closing_one_expired_round_the_second_reports_the_lost_race(
    federation: Federation, make_agent: MakeAgent
) -> None:
    first, second = make_agent(0), make_agent(1)
    advance_time(federation.w3, 2 * WINDOW + 1)
    # both read the expired round before either acts, as two machines would
    views = [federation.snapshot(agent.address) for agent in (first, second)]
    assert [next_action(view) for view in views] == [Action.CLOSE] * 2
    closed, lost = first.act(views[0]), second.act(views[1])
    assert closed.step is Step.CLOSED and closed.message == "closed round 1 without quorum"
    assert lost.step is Step.LOST_RACE
    assert lost.message == "too late to close: round 1 was already closed by another member"
    assert lost.detail == {"action": "close", "revert": "WrongPhase"}
    assert len(federation.rounds_closed()) == 1 and federation.current_round() == 2


def test_a_member_trains_from_its_own_copy_of_the_model_it_aggregated(
    store: LocalStore, accounts: list[LocalAccount], split: FederatedSplit
) -> None:
    """The accepted model's blob vanishes from the store: its aggregator needs no fetch."""
    deployer, member = accounts[:2]
    federation = deploy(embedded_chain(), store, deployer, [member], window=WINDOW)

    def agent() -> MemberAgent:
        return MemberAgent(federation, store, member, DIGITS, split.members[0].train, SETTINGS)

    running = agent()
    assert [running.step().step for _ in range(2)] == [Step.SUBMITTED, Step.VOTED]
    accepted = federation.round_info(2).base
    store.path_for(accepted.digest).unlink()
    assert running.step().step is Step.SUBMITTED  # round 2, from the bytes it computed
    with pytest.raises(BlobNotFound):
        agent().step()  # a restarted member has no copy and must fetch it


@pytest.fixture(scope="module")
def ipfs_node() -> Iterator[IpfsNode]:
    with IpfsNode.start() as node:
        yield node


@pytest.fixture(params=["local", pytest.param("ipfs", marks=pytest.mark.ipfs)])
def shared_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BlobStore]:
    """The one store every member reads: a directory, or an IPFS node."""
    if request.param == "local":
        yield LocalStore(tmp_path / "blobs")
    else:
        node: IpfsNode = request.getfixturevalue("ipfs_node")
        with IpfsStore(node.api_url) as ipfs:
            yield ipfs


def test_a_committed_update_is_published_only_at_its_reveal(
    shared_store: BlobStore, accounts: list[LocalAccount], split: FederatedSplit
) -> None:
    deployer, *members = accounts
    federation = deploy(
        embedded_chain(), shared_store, deployer, members, window=WINDOW, commit_reveal=True
    )
    events: list[AgentEvent] = []
    agents = [
        MemberAgent(
            federation,
            shared_store,
            members[i],
            DIGITS,
            split.members[i].train,
            SETTINGS,
            events.append,
        )
        for i in range(MEMBERS)
    ]
    assert [agent.step().step for agent in agents] == [Step.COMMITTED] * MEMBERS
    assert federation.phase(1) is Phase.REVEAL
    committed = [
        BlobRef(bytes(e.detail["digest"]), str(e.detail["cid"]))
        for e in events
        if e.step is Step.COMMITTED
    ]
    for ref in committed:
        with pytest.raises(BlobNotFound):
            shared_store.get(ref)  # nobody can read an update before its reveal
    assert [agent.step().step for agent in agents] == [Step.SUBMITTED] * MEMBERS
    assert [update.ref for update in federation.updates(1)] == committed
    for ref in committed:
        shared_store.get(ref)  # published under the very CID committed to
    assert [agent.step().step for agent in agents] == [Step.VOTED] * MEMBERS
    assert federation.phase(1) is Phase.ACCEPTED


def test_commit_reveal_round_survives_a_restart_between_commit_and_reveal(
    store: LocalStore, accounts: list[LocalAccount], split: FederatedSplit
) -> None:
    deployer, *members = accounts
    federation = deploy(
        embedded_chain(), store, deployer, members, window=WINDOW, commit_reveal=True
    )
    events: list[AgentEvent] = []

    def agent(i: int) -> MemberAgent:
        data = split.members[i].train
        return MemberAgent(federation, store, members[i], DIGITS, data, SETTINGS, events.append)

    assert [agent(i).step().step for i in range(MEMBERS)] == [Step.COMMITTED] * MEMBERS
    assert federation.phase(1) is Phase.REVEAL
    assert federation.updates(1) == []  # nothing revealed yet: nothing to copy
    committed = [BlobRef(bytes(e.detail["digest"]), str(e.detail["cid"])) for e in events]
    # fresh agents (as after a restart) retrain, re-derive their salts, publish and reveal
    assert [agent(i).step().step for i in range(MEMBERS)] == [Step.SUBMITTED] * MEMBERS
    assert [update.ref for update in federation.updates(1)] == committed
    assert federation.phase(1) is Phase.VOTE
    voted = [agent(i).step() for i in range(MEMBERS)]
    assert [e.step for e in voted] == [Step.VOTED] * MEMBERS
    assert federation.phase(1) is Phase.ACCEPTED


class WatchedStore(LocalStore):
    """A local store that records every blob fetched from it, on whatever thread."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.fetched: list[bytes] = []
        self.fetching = threading.Event()

    def get(self, ref: BlobRef, *, max_bytes: int | None = None) -> bytes:
        self.fetched.append(ref.digest)
        self.fetching.set()
        return super().get(ref, max_bytes=max_bytes)


def test_a_member_fetches_peers_updates_as_they_come_and_never_its_own(
    federation: Federation, store: LocalStore, make_agent: MakeAgent, split: FederatedSplit
) -> None:
    watched = WatchedStore(store.root)
    first = MemberAgent(
        federation, watched, make_agent(0).account, DIGITS, split.members[0].train, SETTINGS
    )
    others = [make_agent(1), make_agent(2)]
    own = first.step()
    peer = others[0].step()
    watched.fetched.clear()
    watched.fetching.clear()
    assert first.step().step is Step.WAITING  # sees the peer's update: fetches it meanwhile
    assert watched.fetching.wait(30)
    assert watched.fetched == [peer.detail["digest"]]

    last = others[1].step()
    assert first.step().step is Step.VOTED
    updates = [e.detail["digest"] for e in (own, peer, last)]
    assert sorted(watched.fetched) == sorted(updates[1:])  # each peer once, never its own
    assert [a.step().step for a in others] == [Step.VOTED, Step.VOTED]
    assert federation.phase(1) is Phase.ACCEPTED


def test_the_round_is_read_again_only_after_a_new_block(
    federation: Federation, make_agent: MakeAgent, monkeypatch: pytest.MonkeyPatch
) -> None:
    agent, peer = make_agent(0), make_agent(1)
    assert agent.step().step is Step.SUBMITTED
    reads: list[str] = []
    snapshot = federation.snapshot

    def counted(member: str) -> RoundSnapshot:
        reads.append(member)
        return snapshot(member)

    monkeypatch.setattr(federation, "snapshot", counted)
    assert agent.step().step is Step.WAITING  # a block was added by its own submission
    assert agent.step().step is Step.WAITING  # none since: nothing can have changed
    assert len(reads) == 1
    assert peer.step().step is Step.SUBMITTED
    assert agent.step().step is Step.WAITING
    assert len(reads) == 3  # the peer's read, and this member's after the peer's block
