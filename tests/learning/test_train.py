from __future__ import annotations

import numpy as np
import pytest
import torch

from daofed.errors import LearningError
from daofed.learning import (
    Dataset,
    ModelConfig,
    TrainConfig,
    evaluate,
    initial_weights,
    split_federated,
    train_centralized,
    train_local,
)

CFG = ModelConfig()


@pytest.fixture(scope="module")
def member_and_test(digits: Dataset) -> tuple[Dataset, Dataset]:
    split = split_federated(digits, 5, alpha=None, seed=0)
    return split.members[0].train, split.test


def _same(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> bool:
    return a.keys() == b.keys() and all(a[k].tobytes() == b[k].tobytes() for k in a)


def test_local_training_improves_accuracy(member_and_test: tuple[Dataset, Dataset]) -> None:
    train, test = member_and_test
    w0 = initial_weights(CFG, 0)
    before = evaluate(CFG, w0, test)
    after = evaluate(CFG, train_local(CFG, w0, train, train=TrainConfig(), seed=0), test)
    print(f"one member ({len(train)} samples), 5 epochs: test accuracy {before:.3f} -> {after:.3f}")
    assert before < 0.3
    assert after > 0.8


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_training_is_deterministic_given_seed(
    member_and_test: tuple[Dataset, Dataset], optimizer: str
) -> None:
    train, _ = member_and_test
    tc = TrainConfig(epochs=1, optimizer=optimizer, lr=0.01)  # type: ignore[arg-type]
    w0 = initial_weights(CFG, 0)
    rng_before = torch.get_rng_state()
    a = train_local(CFG, w0, train, train=tc, seed=4)
    b = train_local(CFG, w0, train, train=tc, seed=4)
    c = train_local(CFG, w0, train, train=tc, seed=5)
    assert torch.equal(rng_before, torch.get_rng_state())
    assert _same(a, b)
    assert not _same(a, c)
    assert _same(w0, initial_weights(CFG, 0))  # inputs are not modified


def test_centralized_spends_rounds_times_epochs(member_and_test: tuple[Dataset, Dataset]) -> None:
    train, _ = member_and_test
    tc = TrainConfig(epochs=1)
    central = train_centralized(CFG, train, train=tc, rounds=2, seed=3)
    direct = train_local(CFG, initial_weights(CFG, 3), train, train=TrainConfig(epochs=2), seed=3)
    assert _same(central, direct)


def test_training_and_evaluation_reject_bad_inputs(
    member_and_test: tuple[Dataset, Dataset],
) -> None:
    w0 = initial_weights(CFG, 0)
    empty = Dataset(x=np.zeros((0, 64), np.float32), y=np.zeros(0, np.int64))
    with pytest.raises(LearningError, match="no training data"):
        train_local(CFG, w0, empty, train=TrainConfig(), seed=0)
    with pytest.raises(LearningError, match="empty"):
        evaluate(CFG, w0, empty)
    narrow = Dataset(x=np.zeros((2, 8), np.float32), y=np.zeros(2, np.int64))
    with pytest.raises(LearningError, match="features"):
        train_local(CFG, w0, narrow, train=TrainConfig(), seed=0)
    wrong_label = Dataset(x=np.zeros((2, 64), np.float32), y=np.array([0, 10]))
    with pytest.raises(LearningError, match="out of range"):
        train_local(CFG, w0, wrong_label, train=TrainConfig(), seed=0)
    with pytest.raises(LearningError, match="optimizer"):
        TrainConfig(optimizer="rmsprop")  # type: ignore[arg-type]
