"""Three members on the embedded chain, one of them training through a Flower client."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("flwr.client")

from daofed.agent import AgentEvent, MemberAgent, MemberSettings, Step
from daofed.chain import Federation, Phase, dev_accounts, embedded_chain
from daofed.flower import FlowerTask
from daofed.learning import load_digits, load_task, save_member_file, split_federated
from daofed.protocol import genesis_blob
from daofed.storage import LocalStore
from tests.flower import tutorial_client

MEMBERS = 3
ROUNDS = 3
SETTINGS = MemberSettings(options={"epochs": 1})


def test_a_flower_client_reaches_consensus_with_builtin_members(tmp_path: Path) -> None:
    split = split_federated(load_digits(), MEMBERS, alpha=None, seed=0)
    store = LocalStore(tmp_path / "blobs")
    digits = load_task("digits-mlp")
    deployer, *accounts = dev_accounts(MEMBERS + 1)
    federation = Federation.deploy(
        embedded_chain(),
        deployer,
        members=[a.address for a in accounts],
        quorum=MEMBERS,
        submit_window=600,
        vote_window=600,
        rule="fedavg",
        genesis=store.put(genesis_blob(digits, 0)),
    )
    flower = FlowerTask("digits-flower", tutorial_client.client_fn, model=tutorial_client.Net)
    flower_data = tmp_path / "member2.npz"
    save_member_file(flower_data, split.members[2].train)
    client = flower.load_data(flower_data)

    events: list[AgentEvent] = []
    agents = [
        MemberAgent(federation, store, accounts[0], digits, split.members[0].train, SETTINGS),
        MemberAgent(federation, store, accounts[1], digits, split.members[1].train, SETTINGS),
        MemberAgent(federation, store, accounts[2], flower, client, SETTINGS, events.append),
    ]
    before = flower.evaluate(flower.initial_weights(0), client)

    for round_number in range(1, ROUNDS + 1):
        submitted = [agent.step() for agent in agents]
        assert [e.step for e in submitted] == [Step.SUBMITTED] * MEMBERS, events
        assert federation.phase(round_number) is Phase.VOTE
        voted = [agent.step() for agent in agents]
        assert [e.step for e in voted] == [Step.VOTED] * MEMBERS, events
        digests = {e.detail["digest"] for e in voted}
        assert len(digests) == 1, f"round {round_number}: members disagree: {digests}"
        assert federation.phase(round_number) is Phase.ACCEPTED
        info = federation.round_info(round_number)
        assert info.accepted is not None and info.accepted.digest in digests
        aggregate = agents[2].aggregate(round_number)
        assert len(aggregate.included) == MEMBERS and not aggregate.excluded

    assert federation.current_round() == ROUNDS + 1
    after = flower.evaluate(agents[2].aggregate(ROUNDS).weights, client)
    assert set(after) == {"loss", "accuracy"}
    assert after["loss"] < before["loss"] and after["accuracy"] > 0.8
