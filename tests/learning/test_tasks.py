"""Built-in tasks, the classifier training step, and finding a task by name."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from daofed.errors import ConfigError, LearningError
from daofed.learning import (
    BUILTIN_TASKS,
    Dataset,
    TrainConfig,
    load_task,
    save_npz,
    split_federated,
)
from daofed.learning.builtin_tasks import ClassifierTask

DIGITS = load_task("digits-mlp")


@pytest.fixture(scope="module")
def member_and_test(digits: Dataset) -> tuple[Dataset, Dataset]:
    split = split_federated(digits, 5, alpha=None, seed=0)
    return split.members[0].train, split.test


def _same(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> bool:
    return a.keys() == b.keys() and all(a[k].tobytes() == b[k].tobytes() for k in a)


@pytest.mark.parametrize("name", sorted(BUILTIN_TASKS))
def test_every_builtin_task_learns_from_one_members_data(name: str) -> None:
    task = load_task(name)
    split = split_federated(task.dataset(), 5, alpha=None, seed=0)
    w0 = task.initial_weights(0)
    before = task.evaluate(w0, split.test)
    result = task.fit(w0, split.members[0].train, {"seed": 0, "round": 1})
    after = task.evaluate(result.weights, split.test)
    print(f"{name}: {before} -> {after}")
    assert result.num_examples == len(split.members[0].train)
    assert after["accuracy"] > before["accuracy"] + 0.2 and after["loss"] < before["loss"]
    assert all(a.dtype == np.float32 for a in result.weights.values())
    if name == "breast-cancer":
        assert 0.9 < after["roc_auc"] <= 1.0


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_training_is_deterministic_given_seed(
    member_and_test: tuple[Dataset, Dataset], optimizer: str
) -> None:
    train, _ = member_and_test
    config = {"epochs": 1, "optimizer": optimizer, "lr": 0.01}
    w0 = DIGITS.initial_weights(0)
    rng_before = torch.get_rng_state()
    a = DIGITS.fit(w0, train, {**config, "seed": 4}).weights
    b = DIGITS.fit(w0, train, {**config, "seed": 4}).weights
    c = DIGITS.fit(w0, train, {**config, "seed": 5}).weights
    assert torch.equal(rng_before, torch.get_rng_state())
    assert _same(a, b)
    assert not _same(a, c)
    assert _same(w0, DIGITS.initial_weights(0))  # inputs are not modified


def test_fit_config_overrides_the_tasks_training_settings() -> None:
    assert isinstance(DIGITS, ClassifierTask)
    assert DIGITS.training_for({"epochs": 2, "lr": 0.1, "seed": 3}) == TrainConfig(epochs=2, lr=0.1)
    with pytest.raises(ConfigError, match="bad training option"):
        DIGITS.training_for({"epochs": 0})


def test_training_and_evaluation_reject_bad_inputs(tmp_path: Path) -> None:
    w0 = DIGITS.initial_weights(0)
    empty = Dataset(x=np.zeros((0, 64), np.float32), y=np.zeros(0, np.int64))
    with pytest.raises(LearningError, match="no training data"):
        DIGITS.fit(w0, empty, {"seed": 0})
    with pytest.raises(LearningError, match="empty"):
        DIGITS.evaluate(w0, empty)
    narrow = Dataset(x=np.zeros((2, 8), np.float32), y=np.zeros(2, np.int64))
    with pytest.raises(ConfigError, match="takes 64 features per sample, but the training"):
        DIGITS.fit(w0, narrow, {"seed": 0})
    save_npz(tmp_path / "narrow.npz", narrow)
    with pytest.raises(ConfigError, match=r"narrow\.npz has 8"):
        DIGITS.load_data(tmp_path / "narrow.npz")
    with pytest.raises(LearningError, match="optimizer"):
        TrainConfig(optimizer="rmsprop")  # type: ignore[arg-type]


TASK_FILE = """
from daofed.learning import load_task

task = load_task("breast-cancer")

def make():
    return load_task("digits-cnn")

not_a_task = 42
"""


def test_tasks_are_found_by_name_module_or_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "my_task.py"
    path.write_text(TASK_FILE)
    assert load_task("digits-cnn").name == "digits-cnn"
    assert load_task(f"{path}:task").name == "breast-cancer"
    assert load_task(f"{path}:make").name == "digits-cnn"
    monkeypatch.syspath_prepend(str(tmp_path))
    assert load_task("my_task:task").name == "breast-cancer"


@pytest.mark.parametrize(
    ("spec", "said"),
    [
        ("resnet", "unknown task 'resnet': use a built-in task"),
        ("no.such.module:task", "cannot import task module 'no.such.module'"),
        ("{dir}/missing.py:task", "missing.py does not exist"),
        ("{dir}/my_task.py:nothing", "has no attribute 'nothing'"),
        ("{dir}/my_task.py:not_a_task", "is a int, not a daofed Task"),
        ("{dir}/broken.py:task", "failed to load: ZeroDivisionError"),
    ],
)
def test_a_bad_task_name_gets_one_clear_line(tmp_path: Path, spec: str, said: str) -> None:
    (tmp_path / "my_task.py").write_text(TASK_FILE)
    (tmp_path / "broken.py").write_text("task = 1 / 0\n")
    with pytest.raises(ConfigError) as raised:
        load_task(spec.format(dir=tmp_path))
    assert said in str(raised.value) and "\n" not in str(raised.value)
