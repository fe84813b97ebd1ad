"""One protocol core: the agent path, the in-process simulation, the poisoning experiment
and the compression benchmark produce byte-identical update and aggregate blobs.

Part one runs real agents on the embedded chain and a simulation whose members carry the
agents' addresses (member names feed the training seeds), and compares every update's
digest and every round's aggregate. Part two runs the poisoning experiment (no attackers)
and the benchmark's federated rounds with the simulation's own member names, and compares
every round's aggregate with the simulation's.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import poisoning
import pytest

from bench.compression import CompressionConfig, measure_compression
from daofed.agent import MemberAgent, MemberSettings, Step
from daofed.chain import dev_accounts, embedded_chain
from daofed.learning import load_digits, split_federated
from daofed.learning.aggregation import parse_rule
from daofed.protocol.simulation import SimMember, SimulationConfig, members_of, simulate
from daofed.storage import LocalStore
from tests.federations import DIGITS, deploy

MEMBERS = 3
ROUNDS = 2
EPOCHS = 1
SEED = 0


@pytest.fixture(scope="module")
def split() -> Any:
    return split_federated(load_digits(), MEMBERS, alpha=None, seed=SEED)


def test_agents_and_the_simulation_make_the_same_bytes(tmp_path: Path, split: Any) -> None:
    store = LocalStore(tmp_path / "blobs")
    deployer, *accounts = dev_accounts(MEMBERS + 1)
    federation = deploy(embedded_chain(), store, deployer, accounts, seed=SEED)
    settings = MemberSettings(options={"epochs": EPOCHS}, seed=SEED)
    agents = [
        MemberAgent(federation, store, account, DIGITS, share.train, settings)
        for account, share in zip(accounts, split.members, strict=True)
    ]
    for _ in range(ROUNDS):
        assert [a.step().step for a in agents] == [Step.SUBMITTED] * MEMBERS
        assert [a.step().step for a in agents] == [Step.VOTED] * MEMBERS
    on_chain_updates = [
        {u.member: u.digest.hex() for u in federation.updates(r)} for r in range(1, ROUNDS + 1)
    ]
    accepted = [event.digest.hex() for event in federation.accepted()]
    assert len(accepted) == ROUNDS

    simulated = simulate(
        DIGITS,
        [
            SimMember(a.address, share.train)
            for a, share in zip(accounts, split.members, strict=True)
        ],
        SimulationConfig(parse_rule("fedavg"), ROUNDS, SEED, {"epochs": EPOCHS}),
    )
    assert [r.updates for r in simulated.rounds] == on_chain_updates
    assert [r.aggregate_digest for r in simulated.rounds] == accepted
    final = store.get(federation.accepted()[-1].ref)
    assert (
        hashlib.sha256(simulated.rounds[-1].aggregate.blob).digest()
        == hashlib.sha256(final).digest()
    )


def test_the_experiment_and_the_benchmark_make_the_simulations_bytes(split: Any) -> None:
    simulated = simulate(
        DIGITS,
        members_of(DIGITS, split),
        SimulationConfig(parse_rule("fedavg"), ROUNDS, SEED, {"epochs": EPOCHS}),
    )
    expected = tuple(r.aggregate_digest for r in simulated.rounds)
    assert len(set(expected)) == ROUNDS

    job = poisoning.Job(
        attack=poisoning.CLEAN, attackers=0, rule="fedavg", seed=SEED, members=MEMBERS,
        rounds=ROUNDS, epochs=EPOCHS, alpha=None, scale=4.0, noise_std=1.0,
    )  # fmt: skip
    assert poisoning.run_job(job).aggregates == expected

    bench = CompressionConfig(members=MEMBERS, rounds=ROUNDS, epochs=EPOCHS, sigmas=(), seed=SEED)
    (float32,) = [c for c in measure_compression(bench).cases if c.compression == "none"]
    assert float32.aggregates == expected
