"""FedProx local training: the proximal term, its mu in TrainConfig and the fit config."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from daofed.errors import ConfigError, LearningError
from daofed.learning import Dataset, TrainConfig, Weights
from daofed.learning.builtin_tasks import BUILTIN_TASKS, ClassifierTask
from daofed.learning.task import ProximalTerm

# Two epochs on 200 digits: enough steps for mu to matter, fast enough for a unit test.
FIT = {"seed": 0, "round": 1, "epochs": 2}


@pytest.fixture(scope="module")
def task() -> ClassifierTask:
    return BUILTIN_TASKS["digits-mlp"]()


@pytest.fixture(scope="module")
def base(task: ClassifierTask) -> Weights:
    return task.initial_weights(0)


@pytest.fixture(scope="module")
def data(digits: Dataset) -> Dataset:
    return Dataset(x=digits.x[:200], y=digits.y[:200])


def _delta_norm(weights: Weights, base: Weights) -> float:
    return math.sqrt(
        sum(float(np.sum((weights[k].astype(np.float64) - base[k]) ** 2)) for k in base)
    )


def _same(a: Weights, b: Weights) -> bool:
    return a.keys() == b.keys() and all(a[k].tobytes() == b[k].tobytes() for k in a)


def test_mu_zero_is_plain_training(task: ClassifierTask, base: Weights, data: Dataset) -> None:
    without = task.fit(base, data, FIT).weights
    zero = task.fit(base, data, {**FIT, "proximal_mu": 0.0}).weights
    assert _same(without, zero)


def test_larger_mu_keeps_the_update_closer_to_the_base(
    task: ClassifierTask, base: Weights, data: Dataset
) -> None:
    norms = {
        mu: _delta_norm(task.fit(base, data, {**FIT, "proximal_mu": mu}).weights, base)
        for mu in (0.0, 0.3, 10.0)
    }
    print(f"delta L2 norm from the base by mu: {norms}")
    assert norms[0.0] > norms[0.3] > norms[10.0]
    assert norms[10.0] < norms[0.0] / 10


def test_the_fit_config_key_reaches_the_builtin_task(
    task: ClassifierTask, base: Weights, data: Dataset
) -> None:
    assert task.training_for({**FIT, "proximal_mu": 5.0}).proximal_mu == 5.0
    assert task.training_for(FIT).proximal_mu == 0.0
    plain = task.fit(base, data, FIT).weights
    prox = task.fit(base, data, {**FIT, "proximal_mu": 5.0}).weights
    assert not _same(plain, prox)


def test_proximal_term_is_half_mu_times_the_squared_displacement() -> None:
    torch.manual_seed(0)
    model = nn.Linear(3, 2)
    term = ProximalTerm(model, 0.7)
    assert term(model).item() == 0.0
    rng = np.random.default_rng(1)
    before = [p.detach().numpy().astype(np.float64) for p in model.parameters()]
    moves = [rng.normal(size=p.shape) for p in before]
    with torch.no_grad():
        for p, move in zip(model.parameters(), moves, strict=True):
            p.add_(torch.from_numpy(move).float())
    after = [p.detach().numpy().astype(np.float64) for p in model.parameters()]
    expected = (
        0.7 / 2 * sum(float(np.sum((a - b) ** 2)) for a, b in zip(after, before, strict=True))
    )
    value = term(model)
    assert value.item() == pytest.approx(expected, rel=1e-5)
    value.backward()  # the gradient is mu * (w - w_base): the base is a constant
    for p, a, b in zip(model.parameters(), after, before, strict=True):
        assert p.grad is not None
        np.testing.assert_allclose(p.grad.numpy(), 0.7 * (a - b), rtol=1e-5, atol=1e-6)


def test_proximal_term_wants_the_model_it_was_made_from() -> None:
    term = ProximalTerm(nn.Linear(3, 2), 1.0)
    with pytest.raises(LearningError, match="make the term from the model being trained"):
        term(nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 2)))


@pytest.mark.parametrize("mu", [-0.1, math.nan, math.inf, "0.5", True])
def test_bad_mu_is_rejected_in_one_line(task: ClassifierTask, mu: object) -> None:
    with pytest.raises(LearningError, match="proximal_mu must be a finite number >= 0") as raised:
        TrainConfig(proximal_mu=mu)  # type: ignore[arg-type]
    assert "\n" not in str(raised.value)
    with pytest.raises(ConfigError, match="bad training option: proximal_mu") as raised_config:
        task.training_for({"seed": 0, "proximal_mu": mu})  # type: ignore[dict-item]
    assert "\n" not in str(raised_config.value)
    with pytest.raises(LearningError, match="proximal_mu"):
        ProximalTerm(nn.Linear(1, 1), mu)  # type: ignore[arg-type]
