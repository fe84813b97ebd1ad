"""A member with local DP on the embedded chain: noised, reproducible, epsilon in its events."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from daofed.agent import AgentEvent, MemberAgent, MemberSettings, Step
from daofed.chain import dev_accounts, embedded_chain
from daofed.learning import load_digits, split_federated
from daofed.learning.aggregation import l2_norm
from daofed.learning.compression import Compression, decode_update
from daofed.learning.privacy import Adjacency, PrivacySettings, epsilon
from daofed.storage import LocalStore, ModelSpec
from tests.federations import DIGITS, deploy

MEMBERS = 3
PRIVACY = PrivacySettings(clip=0.5, noise=0.02, delta=1e-5)


@pytest.mark.slow
def test_a_private_member_sends_noised_updates_and_reports_epsilon(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "blobs")
    deployer, *members = dev_accounts(MEMBERS + 1)
    split = split_federated(load_digits(), MEMBERS, alpha=None, seed=0)
    genesis = DIGITS.initial_weights(0)
    federation = deploy(embedded_chain(), store, deployer, members, rule="fedavg:compress=int8")
    events: list[AgentEvent] = []
    settings = [
        MemberSettings(options={"epochs": 1}, privacy=PRIVACY if i == 0 else None)
        for i in range(MEMBERS)
    ]

    def agent(i: int) -> MemberAgent:
        return MemberAgent(
            federation,
            store,
            members[i],
            DIGITS,
            split.members[i].train,
            settings[i],
            events.append,
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
    assert again.blob == store.get(update.ref)
    # and keeps, for its own aggregation, exactly the delta every other member decodes
    assert again.delta.keys() == delta.keys()
    for name, array in delta.items():
        assert np.array_equal(again.delta[name], array)
    other_seed = MemberSettings(options={"epochs": 1}, privacy=PRIVACY, seed=1)
    other = MemberAgent(federation, store, members[0], DIGITS, split.members[0].train, other_seed)
    assert other.local_update(2).blob != again.blob
    assert np.isfinite(l2_norm(delta))
