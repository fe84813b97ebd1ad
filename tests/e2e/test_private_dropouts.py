"""Private rounds survive dropouts: five ``daofed agent run`` processes on anvil.

The federation is deployed with the private rule ``fedavg:secagg=3``. Round 1 has no
participants (nobody had a key when it opened): the agents register their keys, the
test lets round 1 expire, and rounds 2 and 3 run privately. In round 2 one member is
killed (SIGKILL) after its setup message and before its masked update; in round 3
another, right after its masked update and before its recovery message. Each round is
accepted with the fixed-point FedAvg of the four updates submitted in it, which the test
recomputes from the same training, in-process; in round 3 the three survivors' shares
alone unmask it.
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
QUORUM = 3
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
        "deploy", *members, "--quorum", str(QUORUM), "--rpc-url", own_anvil.url,
        "--store", f"ipfs:{ipfs.api_url}", "--rule", PRIVATE,
        "--submit-window", "300", "--vote-window", "300", "--dev", "0", cwd=tmp_path,
    )  # fmt: skip
    options = ("--rounds", "3", "--poll", "0.2")
    federated = Federated(tmp_path, keystores, tmp_path / "data", {}, options)
    try:
        yield federated
    finally:
        federated.stop()


def stepped(federated: Federated, member: int, step: str, round_number: int) -> bool:
    return any(e["step"] == step and e["round"] == round_number for e in federated.events(member))


def test_each_dropout_leaves_the_survivors_sum(federated: Federated) -> None:
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
    _advance_to(federation, federation.round_info(1).vote_deadline + 1)
    federated.wait_for(lambda: federation.current_round() == 2, "round 1 is closed")
    assert set(federation.encryption_keys(2)) == set(accounts)

    # round 2: one member is killed after its setup message, before its masked update
    federated.wait_for(lambda: stepped(federated, early, "shares-posted", 2), "setup of early")
    _kill(federated, early)
    submitters = [late, *survivors]
    _end_submissions(federated, federation, 2, submitters)
    federated.wait_for(lambda: federation.current_round() == 3, "round 2 is accepted")
    assert not federation.has_submitted(2, accounts[early])
    _check_accepted(federated, federation, 2, submitters, recovered=submitters)

    # round 3: another is killed right after its masked update, before its recovery
    federated.wait_for(
        lambda: len(federation.share_posts(3)) == len(submitters), "the others' setup"
    )
    _advance_to(federation, federation.setup_deadline(3))  # the first victim never posts
    federated.wait_for(lambda: stepped(federated, late, "submitted", 3), "late submits")
    _kill(federated, late)
    _end_submissions(federated, federation, 3, survivors)
    federated.wait_for(lambda: federation.current_round() == 4, "round 3 is accepted")
    _check_accepted(federated, federation, 3, submitters, recovered=survivors)


def _end_submissions(
    federated: Federated, federation: Federation, round_number: int, members: list[int]
) -> None:
    """Wait for ``members``' masked updates; then end the submission phase by the clock."""
    federated.wait_for(
        lambda: all(federation.has_submitted(round_number, _address(m)) for m in members),
        f"round {round_number}'s masked updates",
    )
    assert federation.phase(round_number) is Phase.SUBMIT  # a victim's update never comes
    _advance_to(federation, federation.round_info(round_number).submit_deadline)


def _check_accepted(
    federated: Federated,
    federation: Federation,
    round_number: int,
    submitted: list[int],
    recovered: list[int],
) -> None:
    """The round took the sum of ``submitted``, unmasked with ``recovered``'s shares."""
    posted = {p.member for p in federation.recovery_posts(round_number)}
    assert posted == {_address(m) for m in recovered}
    info = federation.round_info(round_number)
    assert info.phase is Phase.ACCEPTED and info.accepted is not None

    def votes() -> list[object]:
        return [
            e["detail"]
            for member in recovered
            for e in federated.events(member)
            if e["step"] == "voted" and e["round"] == round_number
        ]

    # the chain accepts on the quorum's last vote before its sender has logged it
    federated.wait_for(lambda: len(votes()) >= QUORUM, f"the round {round_number} votes logged")
    assert all(v["included"] == len(submitted) for v in votes())  # type: ignore[index]
    assert all(v["digest"] == "0x" + info.accepted.hex for v in votes())  # type: ignore[index]
    expected = _fixed_point_fedavg(federated, federation, round_number, submitted)
    assert info.accepted.digest == expected


def _address(member: int) -> str:
    return dev_account(member + 1).address


def _advance_to(federation: Federation, timestamp: int) -> None:
    now = int(federation.w3.eth.get_block("latest")["timestamp"])
    advance_time(federation.w3, max(0, timestamp - now))


def _kill(federated: Federated, member: int) -> None:
    federated.agents[member].send_signal(signal.SIGKILL)
    federated.agents[member].wait()
    del federated.agents[member]  # not an agent that crashed: the test killed it


def _fixed_point_fedavg(
    federated: Federated, federation: Federation, round_number: int, members: list[int]
) -> bytes:
    """Retrain ``members``' updates of ``round_number`` here and aggregate them in the clear."""
    torch.set_num_threads(1)  # as the CLI trains: the same bytes
    task = load_task("digits-mlp")
    settings = MemberSettings(options={"epochs": EPOCHS})
    with IpfsStore(federated.deployment.store.removeprefix("ipfs:")) as store:
        updates = []
        for member in members:
            data = task.load_data(federated.data / f"member-{member + 1}.npz")
            agent = MemberAgent(federation, store, dev_account(member + 1), task, data, settings)
            update = agent.local_update(round_number)
            updates.append(MemberUpdate(agent.address, update.num_examples, update.delta))
        base = fetch_model(store, federation.round_info(round_number).base, agent.genesis)
    rule = parse_rule(PRIVATE)
    model, state = split_server_state(base)
    model, state = rule.server_step(model, state, rule.aggregate(updates))
    return sha256_digest(encode({**model, **state}))
