"""A private round survives two dropouts: five ``daofed agent run`` processes on anvil.

The federation is deployed with the private rule ``fedavg:secagg=3``. Round 1 has no
participants (nobody had a key when it opened): the agents register their keys, the
test lets round 1 expire, and round 2 runs privately with all five. In round 2 one
member is killed (SIGKILL) after its setup message and before its masked update, another
right after its masked update and before its recovery message. The three survivors
reveal the shares the sum needs, and round 2 is accepted with the fixed-point FedAvg of
the four submitted updates, which the test recomputes from the same training, in-process.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from daofed.agent import MemberAgent, MemberSettings
from daofed.chain import AnvilNode, Federation, Phase, advance_time, dev_account
from daofed.learning import load_task
from daofed.learning.aggregation import MemberUpdate, parse_rule
from daofed.learning.aggregation.server import split_server_state
from daofed.protocol import fetch_model
from daofed.storage import IpfsStore, encode
from daofed.storage.ipfs_node import IpfsNode
from daofed.storage.store import sha256_digest
from tests.e2e.processes import Federated, daofed, write_keystores

MEMBERS = 5
EPOCHS = 2
SLOW_EPOCHS = 60  # the first victim trains long after its setup: it is killed meanwhile
PRIVATE = "fedavg:secagg=3"
pytestmark = [pytest.mark.slow, pytest.mark.anvil, pytest.mark.ipfs]


@pytest.fixture(scope="module")
def ipfs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IpfsNode]:
    with IpfsNode.start(tmp_path_factory.mktemp("ipfs-repo")) as node:
        yield node


@pytest.fixture
def federated(tmp_path: Path, own_anvil: AnvilNode, ipfs: IpfsNode) -> Iterator[Federated]:
    daofed("data", "split", "--members", str(MEMBERS), "--out-dir", "data", cwd=tmp_path)
    keystores = write_keystores(tmp_path / "keystore", MEMBERS)
    members = [arg for m in range(MEMBERS) for arg in ("-m", dev_account(m + 1).address)]
    daofed(
        "deploy", *members, "--quorum", "3", "--rpc-url", own_anvil.url,
        "--store", f"ipfs:{ipfs.api_url}", "--rule", PRIVATE,
        "--submit-window", "300", "--vote-window", "300", "--dev", "0", cwd=tmp_path,
    )  # fmt: skip
    options = ("--rounds", "2", "--poll", "0.2")
    federated = Federated(tmp_path, keystores, tmp_path / "data", {}, options)
    try:
        yield federated
    finally:
        federated.stop()


def stepped(federated: Federated, member: int, step: str, round_number: int) -> bool:
    return any(e["step"] == step and e["round"] == round_number for e in federated.events(member))


def test_two_dropouts_leave_the_survivors_sum(federated: Federated) -> None:
    early, late, *survivors = range(MEMBERS)
    federation = federated.federation()
    for member in range(MEMBERS):
        epochs = SLOW_EPOCHS if member == early else EPOCHS
        federated.start_agent(member, "--epochs", str(epochs))
    accounts = [dev_account(m + 1).address for m in range(MEMBERS)]

    federated.wait_for(
        lambda: all(federation.encryption_key(a) is not None for a in accounts),
        "every agent registers its encryption key",
    )
    assert federation.encryption_keys(1) == {}  # round 1 opened before: nobody takes part
    advance_time(federation.w3, federation.round_info(1).vote_deadline + 1 - _now(federation))
    federated.wait_for(lambda: federation.current_round() == 2, "round 1 is closed")
    assert set(federation.encryption_keys(2)) == set(accounts)

    federated.wait_for(lambda: stepped(federated, early, "shares-posted", 2), "setup of early")
    _kill(federated, early)
    federated.wait_for(lambda: stepped(federated, late, "submitted", 2), "late submits")
    _kill(federated, late)
    federated.wait_for(
        lambda: all(federation.has_submitted(2, accounts[m]) for m in survivors),
        "the survivors submit",
    )
    assert not federation.has_submitted(2, accounts[early])
    assert federation.phase(2) is Phase.SUBMIT  # the early victim's update never comes
    advance_time(federation.w3, federation.round_info(2).submit_deadline - _now(federation))
    federated.wait_for(lambda: federation.current_round() == 3, "round 2 is accepted")

    assert {p.member for p in federation.share_posts(2)} == set(accounts)
    assert {p.member for p in federation.recovery_posts(2)} == {accounts[m] for m in survivors}
    info = federation.round_info(2)
    assert info.phase is Phase.ACCEPTED and info.accepted is not None
    for member in survivors:
        [voted] = [e for e in federated.events(member) if e["step"] == "voted"]
        assert voted["detail"]["included"] == MEMBERS - 1  # type: ignore[index]
        assert voted["detail"]["digest"] == "0x" + info.accepted.hex  # type: ignore[index]
    submitted = [late, *survivors]
    assert info.accepted.digest == _fixed_point_fedavg(federated, federation, submitted)


def _now(federation: Federation) -> int:
    return int(federation.w3.eth.get_block("latest")["timestamp"])


def _kill(federated: Federated, member: int) -> None:
    federated.agents[member].send_signal(signal.SIGKILL)
    federated.agents[member].wait()
    del federated.agents[member]  # not an agent that crashed: the test killed it


def _fixed_point_fedavg(federated: Federated, federation: Federation, members: list[int]) -> bytes:
    """Retrain round 2's updates of ``members`` here and aggregate them in the clear."""
    torch.set_num_threads(1)  # as the CLI trains: the same bytes
    task = load_task("digits-mlp")
    settings = MemberSettings(options={"epochs": EPOCHS})
    with IpfsStore(federated.deployment.store.removeprefix("ipfs:")) as store:
        updates = []
        for member in members:
            data = task.load_data(federated.data / f"member-{member + 1}.npz")
            agent = MemberAgent(federation, store, dev_account(member + 1), task, data, settings)
            update = agent.local_update(2)
            updates.append(MemberUpdate(agent.address, update.num_examples, update.delta))
        base = fetch_model(store, federation.round_info(2).base, agent.genesis)
    rule = parse_rule(PRIVATE)
    model, state = split_server_state(base)
    model, state = rule.server_step(model, state, rule.aggregate(updates))
    return sha256_digest(encode({**model, **state}))
