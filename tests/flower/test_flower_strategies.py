"""daofed's server optimisers against Flower's strategies of the same names, step by step.

Flower aggregates members' *weights* with float32 numpy and keeps its state in memory;
daofed aggregates *deltas* in float64 and carries its state in the model blob. Over three
rounds on the same updates the models must still agree to float32 rounding. FedAdam
differs on purpose by Adam's bias correction, which Flower applies to its rate: once that
factor is divided out, the two agree too.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import pytest

pytest.importorskip("flwr.server")

from flwr.common import Code, FitRes, Status, ndarrays_to_parameters, parameters_to_ndarrays
from flwr.server.client_proxy import ClientProxy
from flwr.server.strategy import FedAdagrad, FedAdam, FedAvgM, FedYogi, Strategy

from daofed.learning.aggregation import MemberUpdate, parse_rule
from daofed.storage import Weights

NAMES = ("a.weight", "a.bias")
SHAPES = {"a.weight": (6, 4), "a.bias": (6,)}
SAMPLES = (30, 50, 20)
ROUNDS = 3


def _base() -> Weights:
    rng = np.random.default_rng(1)
    return {name: rng.standard_normal(SHAPES[name]).astype(np.float32) for name in NAMES}


def _deltas(round_number: int) -> list[Weights]:
    rng = np.random.default_rng(100 + round_number)
    return [
        {name: (rng.standard_normal(SHAPES[name]) * 0.1).astype(np.float32) for name in NAMES}
        for _ in SAMPLES
    ]


def _flower_rounds(strategy: Strategy, base: Weights) -> list[Weights]:
    """Feed Flower the members' weights (base + delta) round after round; its models."""
    models = []
    current = base
    for r in range(1, ROUNDS + 1):
        results = [
            (
                cast(ClientProxy, None),  # aggregate_fit never looks at the proxy
                FitRes(
                    Status(Code.OK, ""),
                    ndarrays_to_parameters([current[name] + delta[name] for name in NAMES]),
                    samples,
                    {},
                ),
            )
            for delta, samples in zip(_deltas(r), SAMPLES, strict=True)
        ]
        parameters, _ = strategy.aggregate_fit(r, results, [])
        assert parameters is not None
        arrays = parameters_to_ndarrays(parameters)
        current = {
            name: np.asarray(array, np.float32) for name, array in zip(NAMES, arrays, strict=True)
        }
        models.append(current)
    return models


def _daofed_rounds(spec: str, base: Weights) -> list[Weights]:
    rule = parse_rule(spec)
    models = []
    model, state = base, {}
    for r in range(1, ROUNDS + 1):
        updates = [
            MemberUpdate(f"0x{i:040x}", samples, delta)
            for i, (delta, samples) in enumerate(zip(_deltas(r), SAMPLES, strict=True))
        ]
        model, state = rule.server_step(model, state, rule.aggregate(updates))
        models.append(model)
    return models


def _initial(base: Weights) -> Any:
    return ndarrays_to_parameters([base[name] for name in NAMES])


@pytest.mark.parametrize(
    ("spec", "flower"),
    [
        (
            "fedavgm:lr=0.8,momentum=0.9",
            lambda p: FedAvgM(initial_parameters=p, server_learning_rate=0.8, server_momentum=0.9),
        ),
        (
            "fedyogi:lr=0.05,beta1=0.9,beta2=0.99,tau=0.01",
            lambda p: FedYogi(initial_parameters=p, eta=0.05, beta_1=0.9, beta_2=0.99, tau=0.01),
        ),
        (
            "fedadagrad:lr=0.05,tau=0.01",
            lambda p: FedAdagrad(initial_parameters=p, eta=0.05, tau=0.01),
        ),
    ],
)
def test_the_server_optimisers_step_as_flowers(spec: str, flower: Any) -> None:
    base = _base()
    theirs = _flower_rounds(flower(_initial(base)), base)
    ours = _daofed_rounds(spec, base)
    for r, (mine, flowers) in enumerate(zip(ours, theirs, strict=True), start=1):
        moved = {name: mine[name] - base[name] for name in NAMES}
        assert max(float(np.abs(m).max()) for m in moved.values()) > 1e-3, f"round {r}"
        for name in NAMES:
            np.testing.assert_allclose(mine[name], flowers[name], rtol=1e-5, atol=1e-6)


def test_fedadam_is_flowers_without_its_bias_correction() -> None:
    lr, beta1, beta2, tau = 0.05, 0.9, 0.99, 0.01
    base = _base()
    flower = FedAdam(initial_parameters=_initial(base), eta=lr, beta_1=beta1, beta_2=beta2, tau=tau)
    theirs = _flower_rounds(flower, base)
    ours = _daofed_rounds(f"fedadam:lr={lr},beta1={beta1},beta2={beta2},tau={tau}", base)
    mine_before, theirs_before = base, base
    for r in range(1, ROUNDS + 1):
        correction = np.sqrt(1 - beta2 ** (r + 1.0)) / (1 - beta1 ** (r + 1.0))
        assert abs(correction - 1) > 0.01  # the difference is real in these rounds
        for name in NAMES:
            step = ours[r - 1][name].astype(np.float64) - mine_before[name]
            expected = theirs[r - 1][name].astype(np.float64) - theirs_before[name]
            np.testing.assert_allclose(step * correction, expected, rtol=1e-4, atol=1e-6)
        mine_before, theirs_before = ours[r - 1], theirs[r - 1]
