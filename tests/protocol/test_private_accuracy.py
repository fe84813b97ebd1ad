"""Private rounds train as well as plain FedAvg: within 0.5 accuracy points over 5 rounds.

A private round's model is byte for byte the fixed-point FedAvg of the plaintext updates
(tests/agent/test_private_rounds.py shows it with agents on a chain), which the rule
``fedavg:secagg=3`` computes in the clear; so the simulation (the same protocol core,
without a chain) gives the private rounds' models, and here they are compared with plain
FedAvg's on the same split, for an IID and a skewed (Dirichlet 0.5) split.
"""

from __future__ import annotations

import pytest
import torch

from daofed.learning import load_task, split_federated
from daofed.learning.aggregation import parse_rule
from daofed.protocol.simulation import SimulationConfig, members_of, simulate

MEMBERS = 5
ROUNDS = 5


@pytest.mark.parametrize("alpha", [None, 0.5], ids=["iid", "dirichlet-0.5"])
def test_five_private_rounds_end_within_half_a_point_of_plain_fedavg(alpha: float | None) -> None:
    torch.set_num_threads(1)
    task = load_task("digits-mlp")
    split = split_federated(task.dataset(), MEMBERS, alpha=alpha, seed=0)
    members = members_of(task, split)
    final = {}
    for spec in ("fedavg", "fedavg:secagg=3"):
        config = SimulationConfig(parse_rule(spec), ROUNDS)
        result = simulate(task, members, config, test=split.test)
        final[spec] = result.metrics[-1]["accuracy"]
    print(f"\nalpha={alpha}: final accuracy {final}")
    assert abs(final["fedavg"] - final["fedavg:secagg=3"]) <= 0.005
    assert final["fedavg:secagg=3"] > 0.8  # it learned: not two equally broken runs
