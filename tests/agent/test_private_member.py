"""A member with local DP on the embedded chain: noised, reproducible, epsilon in its events."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from daofed.agent import AgentEvent, MemberAgent, MemberSettings, Step
from daofed.chain import Federation, dev_accounts, embedded_chain
from daofed.learning import ModelConfig, TrainConfig, initial_weights, load_digits, split_federated
from daofed.learning.aggregation import l2_norm
from daofed.learning.compression import Compression, decode_update
from daofed.learning.privacy import Adjacency, PrivacySettings, epsilon
from daofed.storage import LocalStore, ModelSpec, encode

MEMBERS = 3
PRIVACY = PrivacySettings(clip=0.5, noise=0.02, delta=1e-5)


@pytest.mark.slow
def test_a_private_member_sends_noised_updates_and_reports_epsilon(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "blobs")
    deployer, *members = dev_accounts(MEMBERS + 1)
    split = split_federated(load_digits(), MEMBERS, alpha=None, seed=0)
    genesis = initial_weights(ModelConfig(), 0)
    federation = Federation.deploy(
        embedded_chain(),
        deployer,
        members=[m.address for m in members],
        quorum=MEMBERS,
        submit_window=600,
        vote_window=600,
        rule="fedavg:compress=int8",
        genesis=store.put(encode(genesis)),
    )
    events: list[AgentEvent] = []
    settings = [
        MemberSettings(training=TrainConfig(epochs=1), privacy=PRIVACY if i == 0 else None)
        for i in range(MEMBERS)
    ]

    def agent(i: int) -> MemberAgent:
        return MemberAgent(
            federation, store, members[i], split.members[i], settings[i], events.append
        )

    for round_number in (1, 2):
        agents = [agent(i) for i in range(MEMBERS)]
        assert [a.step().step for a in agents] == [Step.SUBMITTED] * MEMBERS
        assert [a.step().step for a in agents] == [Step.VOTED] * MEMBERS
        private, public = (
            e
            for e in events
            if e.step is Step.SUBMITTED
            and e.round == round_number
            and e.member in (members[0].address, members[1].address)
        )
        assert private.detail["dp_epsilon"] == epsilon(PRIVACY, round_number)
        assert private.detail["dp_epsilon_replace"] == epsilon(
            PRIVACY, round_number, Adjacency.REPLACE
        )
        assert private.detail["dp_delta"] == 1e-5
        assert private.detail["dp_rounds"] == round_number
        assert "DP epsilon" in private.message
        assert "dp_epsilon" not in public.detail
    assert federation.current_round() == 3

    # the update is clipped and noised: its norm is about the noise's, sigma C sqrt(d)
    spec = ModelSpec.from_arrays(genesis)
    size = sum(t.nbytes for t in spec.tensors) // 4
    (update,) = [u for u in federation.updates(2) if u.member == members[0].address]
    delta = decode_update(store.get(update.ref), spec, Compression.INT8)
    noise = PRIVACY.noise_std * math.sqrt(size)
    assert abs(l2_norm(delta) - math.hypot(noise, PRIVACY.clip)) < 0.1 * noise

    # a restarted member (same key, nothing carried over) rebuilds the very same bytes
    again = agent(0).local_update(2)
    assert again == store.get(update.ref)
    other_seed = MemberSettings(training=TrainConfig(epochs=1), privacy=PRIVACY, seed=1)
    assert (
        MemberAgent(federation, store, members[0], split.members[0], other_seed).local_update(2)
        != again
    )
    assert np.isfinite(l2_norm(delta))
