"""The built-in tasks federate as well as they train centrally: within 2 points.

Each case is ``daofed demo --task T --rounds R [--alpha 0.5]`` (5 members, seed 0)
reproduced in one process: the simulation's members carry the demo members' addresses,
so their updates and aggregates are the demo's byte for byte (the protocol core is the
same; ``test_one_core.py`` checks that), only without the chain.
"""

from __future__ import annotations

import pytest
import torch

from daofed.chain import dev_accounts
from daofed.demo import train_centralized
from daofed.learning import Dataset, load_task, split_federated
from daofed.learning.aggregation import FedAvg
from daofed.protocol.simulation import SimMember, SimulationConfig, simulate

MEMBERS = 5


@pytest.mark.slow
@pytest.mark.parametrize("alpha", [None, 0.5], ids=["iid", "dirichlet-0.5"])
@pytest.mark.parametrize(("name", "rounds"), [("digits-cnn", 10), ("breast-cancer", 20)])
def test_the_demo_federation_ends_within_two_points_of_centralized(
    name: str, rounds: int, alpha: float | None
) -> None:
    torch.set_num_threads(1)
    task = load_task(name)
    split = split_federated(task.dataset(), MEMBERS, alpha=alpha, seed=0)
    _, *accounts = dev_accounts(MEMBERS + 1)
    members = [SimMember(a.address, s.train) for a, s in zip(accounts, split.members, strict=True)]
    federated = simulate(task, members, SimulationConfig(FedAvg(), rounds), test=split.test)
    pooled = Dataset.concat([m.train for m in split.members])
    central = task.evaluate(train_centralized(task, pooled, rounds, 0, {}), split.test)
    final = federated.metrics[-1]
    print(f"\n{name} alpha={alpha} rounds={rounds}: federated {final}, centralized {central}")
    assert final["accuracy"] >= central["accuracy"] - 0.02
    if name == "breast-cancer":
        assert final["roc_auc"] > 0.98
