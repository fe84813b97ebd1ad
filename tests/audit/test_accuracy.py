"""Accuracy per round on the held-out test set, and where the model's shape comes from."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from daofed.audit import default_test_set, evaluate_history, load_test_set, model_config_of
from daofed.audit.records import History
from daofed.errors import ConfigError
from daofed.learning import (
    Dataset,
    ModelConfig,
    evaluate,
    load_digits,
    model_spec,
    save_npz,
    split_federated,
)
from daofed.storage import BlobRef, ModelSpec, TensorSpec, decode

from .scenario import Scenario


@pytest.mark.parametrize(("members", "alpha"), [(1, None), (3, None), (7, 0.5)])
def test_the_default_test_set_depends_on_the_seed_only(members: int, alpha: float | None) -> None:
    test = split_federated(load_digits(), members, alpha=alpha, seed=0).test
    default = default_test_set()
    assert np.array_equal(test.x, default.x) and np.array_equal(test.y, default.y)
    assert len(default) == 359 and set(default.y.tolist()) == set(range(10))
    assert not np.array_equal(default_test_set(seed=1).y, default.y)


def test_every_finished_round_is_evaluated(scenario: Scenario, history: History) -> None:
    test = default_test_set()
    scores = evaluate_history(history, scenario.store, test)
    assert [(s.round, s.accepted) for s in scores] == [(0, True), (1, True), (2, True), (3, False)]
    two = history.round(2)
    assert two.accepted_digest is not None
    model = decode(
        scenario.store.get(BlobRef.from_hex(two.accepted_digest)), model_spec(ModelConfig())
    )
    assert scores[2].accuracy == evaluate(ModelConfig(), model, test)
    assert scores[3].accuracy == scores[2].accuracy  # closed: the model carried over
    assert scores[0].accuracy is not None and scores[0].accuracy < 0.3  # untrained genesis
    assert scores[2].accuracy > 0.8


def test_a_test_file_overrides_the_default(
    scenario: Scenario, history: History, tmp_path: Path
) -> None:
    test = default_test_set()
    half = Dataset(x=test.x[:100], y=test.y[:100])
    save_npz(tmp_path / "test.npz", half)
    loaded = load_test_set(tmp_path / "test.npz")
    scores = evaluate_history(history, scenario.store, loaded)
    model = decode(
        scenario.store.get(BlobRef.from_hex(scores[1].digest)), model_spec(ModelConfig())
    )
    assert scores[1].accuracy == evaluate(ModelConfig(), model, half)


def test_test_data_of_another_task_is_refused(
    scenario: Scenario, history: History, tmp_path: Path
) -> None:
    wrong = Dataset(x=np.zeros((5, 10), np.float32), y=np.zeros(5, np.int64))
    with pytest.raises(ConfigError, match="10 features but the federation's model takes 64"):
        evaluate_history(history, scenario.store, wrong)
    with pytest.raises(ConfigError, match=r"cannot use .* as test data"):
        load_test_set(tmp_path / "missing.npz")


def test_the_mlp_is_recovered_from_its_tensors() -> None:
    config = ModelConfig(input_dim=64, hidden=(32, 16), num_classes=10)
    assert model_config_of(model_spec(config)) == config


def test_a_model_that_is_no_daofed_mlp_cannot_be_evaluated() -> None:
    conv = ModelSpec((TensorSpec("conv.weight", (8, 1, 3, 3), "float32"),))
    with pytest.raises(ConfigError, match="not a daofed MLP"):
        model_config_of(conv)
