"""Members with other tasks: a mismatched model stops before training; a misbehaving task
costs its member the round, with one clear line, and the federation goes on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from daofed.agent import AgentEvent, MemberAgent, MemberSettings, Step
from daofed.chain import Phase, advance_time, dev_accounts, embedded_chain
from daofed.errors import ConfigError
from daofed.learning import Dataset, FitResult, ModelConfig, Task, load_digits, mlp_task
from daofed.learning.task import FitConfig, Metrics
from daofed.storage import LocalStore, Weights
from tests.federations import DIGITS, deploy

WINDOW = 600
SETTINGS = MemberSettings(options={"epochs": 1})


class Misbehaving(Task[Dataset]):
    """The digits task, except that ``fit`` goes wrong in the way ``mode`` names."""

    name = "misbehaving"

    def __init__(self, mode: str) -> None:
        self.mode = mode

    def initial_weights(self, seed: int) -> Weights:
        return DIGITS.initial_weights(seed)

    def load_data(self, path: Path) -> Dataset:
        return DIGITS.load_data(path)

    def evaluate(self, weights: Weights, data: Dataset) -> Metrics:
        return DIGITS.evaluate(weights, data)

    def fit(self, weights: Weights, data: Dataset, config: FitConfig) -> FitResult:
        if self.mode == "raises":
            raise RuntimeError("CUDA out of memory")
        trained = DIGITS.fit(weights, data, config).weights
        if self.mode == "nan":
            trained["0.weight"][0, 0] = np.nan
        elif self.mode == "inf":
            trained["2.bias"][:] = np.inf
        elif self.mode == "shape":
            trained["0.bias"] = np.zeros(3, dtype=np.float32)
        elif self.mode == "dtype":
            trained["0.bias"] = trained["0.bias"].astype(np.float64)
        elif self.mode == "missing":
            del trained["2.weight"]
        return FitResult(trained, len(data))


@pytest.fixture(scope="module")
def shares() -> list[Dataset]:
    data = load_digits()
    return [data.subset(np.arange(i, len(data), 3)[:200]) for i in range(3)]


def federation_of(
    tmp_path: Path, tasks: list[Task[Any]], shares: list[Dataset], events: list[AgentEvent]
) -> list[MemberAgent]:
    store = LocalStore(tmp_path / "blobs")
    deployer, *members = dev_accounts(4)
    federation = deploy(embedded_chain(), store, deployer, members, window=WINDOW)
    return [
        MemberAgent(federation, store, account, task, data, SETTINGS, events.append)
        for account, task, data in zip(members, tasks, shares, strict=True)
    ]


def test_a_member_whose_task_builds_another_model_stops_before_training(
    tmp_path: Path, shares: list[Dataset]
) -> None:
    wider = mlp_task(ModelConfig(hidden=(32,)))
    agents = federation_of(tmp_path, [wider, DIGITS, DIGITS], shares, [])
    with pytest.raises(ConfigError) as raised:
        agents[0].step()
    message = str(raised.value)
    assert "tensor '0.weight' expected float32[64, 64], got float32[32, 64]" in message
    assert not agents[0].federation.has_submitted(1, agents[0].address)


@pytest.mark.parametrize(
    ("mode", "said"),
    [
        ("raises", "failed to train: RuntimeError: CUDA out of memory"),
        ("nan", "NaN or infinity in tensor '0.weight'"),
        ("inf", "NaN or infinity in tensor '2.bias'"),
        ("shape", "tensor '0.bias' of shape [3], the federation's model needs [64]"),
        ("dtype", "tensor '0.bias' as float64, the federation's model needs float32"),
        ("missing", "returned no tensor '2.weight'"),
    ],
)
def test_a_misbehaving_task_sits_the_round_out_and_the_round_goes_on(
    tmp_path: Path, shares: list[Dataset], mode: str, said: str
) -> None:
    events: list[AgentEvent] = []
    agents = federation_of(tmp_path, [Misbehaving(mode), DIGITS, DIGITS], shares, events)
    bad, *good = agents
    sat_out = bad.step()
    assert sat_out.step is Step.WAITING and said in sat_out.message
    errors = [e for e in events if e.step is Step.ERROR]
    assert len(errors) == 1 and errors[0].message.startswith("task 'misbehaving'")
    assert said in errors[0].message and "\n" not in errors[0].message
    assert bad.step().step is Step.WAITING  # no retraining, no second error
    assert len([e for e in events if e.step is Step.ERROR]) == 1
    assert [a.step().step for a in good] == [Step.SUBMITTED] * 2
    federation = bad.federation
    assert federation.updates(1) and not federation.has_submitted(1, bad.address)
    advance_time(federation.w3, WINDOW + 1)
    voted = [a.step() for a in agents]
    assert [e.step for e in voted] == [Step.VOTED] * 3  # it still aggregates and votes
    assert len({e.detail["digest"] for e in voted}) == 1
    assert federation.phase(1) is Phase.ACCEPTED


def test_the_agent_keeps_only_the_current_rounds_work(
    tmp_path: Path, shares: list[Dataset]
) -> None:
    agents = federation_of(tmp_path, [DIGITS] * 3, shares, [])
    for _ in range(3):  # three rounds: submit, vote
        for _ in range(2):
            for agent in agents:
                agent.step()
    assert agents[0].federation.current_round() == 4
    kept = [value for value in vars(agents[0]).values() if isinstance(value, dict)]
    assert kept == []  # no per-round caches that grow
    agents[0].step()
    assert agents[0]._work.round == 4  # only the open round's work
