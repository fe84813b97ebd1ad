"""The task's metrics per round, on its held-out split or a test file; which task, and why."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from daofed.audit import History, audit_task, default_test_data, evaluate_history
from daofed.errors import ConfigError
from daofed.learning import (
    ClassifierTask,
    Dataset,
    ModelConfig,
    build_model,
    load_digits,
    load_task,
    mlp_task,
    save_npz,
    split_federated,
)
from daofed.protocol import fetch_genesis, fetch_model, genesis_blob
from daofed.storage import BlobRef, LocalStore, encode

from .scenario import Scenario


@pytest.mark.parametrize(("members", "alpha"), [(1, None), (3, None), (7, 0.5)])
def test_the_default_test_data_depends_on_the_seed_only(members: int, alpha: float | None) -> None:
    test = split_federated(load_digits(), members, alpha=alpha, seed=0).test
    task = load_task("digits-mlp")
    default = default_test_data(task)
    assert np.array_equal(test.x, default.x) and np.array_equal(test.y, default.y)
    assert len(default) == 359 and set(default.y.tolist()) == set(range(10))
    assert not np.array_equal(default_test_data(task, seed=1).y, default.y)


def test_every_finished_round_is_evaluated_with_the_pinned_task(
    scenario: Scenario, history: History
) -> None:
    evaluation = evaluate_history(history, scenario.store)
    assert (evaluation.task, evaluation.test_data, evaluation.test_seed) == ("digits-mlp", None, 0)
    assert evaluation.metrics == ("accuracy", "loss") and evaluation.headline == "accuracy"
    scores = evaluation.rounds
    assert [(s.round, s.accepted) for s in scores] == [(0, True), (1, True), (2, True), (3, False)]
    two = history.round(2)
    assert two.accepted_digest is not None
    genesis = fetch_genesis(scenario.store, BlobRef(history.genesis_digest, history.genesis_cid))
    model = fetch_model(scenario.store, BlobRef(two.accepted_digest, two.result_cid), genesis)
    task = load_task("digits-mlp")
    assert scores[2].metrics == task.evaluate(model, default_test_data(task))
    assert scores[3].metrics == scores[2].metrics  # closed: the model carried over
    assert scores[0].accuracy is not None and scores[0].accuracy < 0.3  # untrained genesis
    assert scores[2].accuracy is not None and scores[2].accuracy > 0.8
    assert evaluation.series("accuracy")[2] == (2, scores[2].accuracy)


def test_a_test_file_overrides_the_default(
    scenario: Scenario, history: History, tmp_path: Path
) -> None:
    task = load_task("digits-mlp")
    test = default_test_data(task)
    half = Dataset(x=test.x[:100], y=test.y[:100])
    save_npz(tmp_path / "test.npz", half)
    evaluation = evaluate_history(history, scenario.store, test_data=tmp_path / "test.npz")
    assert (evaluation.test_data, evaluation.test_seed) == (tmp_path / "test.npz", None)
    genesis = fetch_genesis(scenario.store, BlobRef(history.genesis_digest, history.genesis_cid))
    one = BlobRef(evaluation.rounds[1].digest, history.round(1).result_cid)
    model = fetch_model(scenario.store, one, genesis)
    assert evaluation.rounds[1].metrics == task.evaluate(model, half)


def test_test_data_of_another_task_is_refused(
    scenario: Scenario, history: History, tmp_path: Path
) -> None:
    save_npz(
        tmp_path / "narrow.npz", Dataset(x=np.zeros((5, 10), np.float32), y=np.zeros(5, np.int64))
    )
    with pytest.raises(ConfigError, match=r"takes 64 features per sample, but .*\.npz has 10"):
        evaluate_history(history, scenario.store, test_data=tmp_path / "narrow.npz")
    with pytest.raises(ConfigError, match=r"cannot use .*missing.npz as test data"):
        evaluate_history(history, scenario.store, test_data=tmp_path / "missing.npz")


def test_an_auditors_task_with_another_model_is_refused_in_one_line(
    scenario: Scenario, history: History
) -> None:
    with pytest.raises(ConfigError) as error:
        evaluate_history(history, scenario.store, "breast-cancer")
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith(
        "task 'breast-cancer' (the federation trains 'digits-mlp') builds a different model: "
        "tensor '0.weight' expected float32[64, 64], got float32[32, 30]"
    )


def test_an_auditors_own_task_with_the_same_model_is_used(
    scenario: Scenario, history: History
) -> None:
    mine = mlp_task(ModelConfig(), name="my-digits")
    evaluation = evaluate_history(history, scenario.store, mine)
    assert evaluation.task == "my-digits"
    assert evaluation.rounds == evaluate_history(history, scenario.store).rounds


def _with_genesis(history: History, store: LocalStore, blob: bytes) -> History:
    """``history`` as if its federation had been deployed with ``blob`` and run no round."""
    ref = store.put(blob)
    return dataclasses.replace(
        history, genesis_digest=ref.digest, genesis_cid=ref.locator, rounds=()
    )


def test_a_genesis_without_a_task_name_is_taken_for_digits_mlp(
    history: History, tmp_path: Path
) -> None:
    store = LocalStore(tmp_path / "blobs")
    old = _with_genesis(history, store, encode(load_task("digits-mlp").initial_weights(0)))
    evaluation = evaluate_history(old, store)
    assert evaluation.task == "digits-mlp" and [r.round for r in evaluation.rounds] == [0]

    cancer = load_task("breast-cancer")
    other = _with_genesis(history, store, encode(cancer.initial_weights(0)))
    with pytest.raises(ConfigError, match="task 'digits-mlp' builds a different model"):
        evaluate_history(other, store)
    assert "roc_auc" in evaluate_history(other, store, "breast-cancer").metrics


def test_a_task_daofed_does_not_ship_must_be_passed(history: History, tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "blobs")
    theirs = ClassifierTask(
        name="clinic-model",
        build=lambda: build_model(ModelConfig(input_dim=30, hidden=(8,), num_classes=2)),
        features=30,
        binary=True,
    )
    custom = _with_genesis(history, store, genesis_blob(theirs, 0))
    with pytest.raises(ConfigError, match="trains task 'clinic-model', which is not built into"):
        evaluate_history(custom, store)
    with pytest.raises(ConfigError, match=r"ships no test data of its own: .* --test-data FILE"):
        evaluate_history(custom, store, theirs)
    cancer = load_task("breast-cancer")
    assert isinstance(cancer, ClassifierTask) and cancer.ships is not None
    test = split_federated(cancer.ships(), 1, alpha=None, seed=0).test
    save_npz(tmp_path / "clinic-test.npz", test)
    evaluation = evaluate_history(custom, store, theirs, test_data=tmp_path / "clinic-test.npz")
    assert evaluation.task == "clinic-model"
    assert set(evaluation.metrics) == {"accuracy", "loss", "roc_auc"}


def test_a_task_file_spec_is_loaded_and_checked(history: History, tmp_path: Path) -> None:
    (tmp_path / "clinic.py").write_text(
        "from daofed.learning import ClassifierTask, ModelConfig, build_model, "
        "load_breast_cancer\n"
        "TASK = ClassifierTask(name='clinic-model', features=30, binary=True,\n"
        "    build=lambda: build_model(ModelConfig(input_dim=30, hidden=(8,), num_classes=2)),\n"
        "    ships=load_breast_cancer)\n"
    )
    spec = f"{tmp_path / 'clinic.py'}:TASK"
    task = load_task(spec)
    store = LocalStore(tmp_path / "blobs")
    custom = _with_genesis(history, store, genesis_blob(task, 3))
    evaluation = evaluate_history(custom, store, spec)
    assert evaluation.task == "clinic-model" and evaluation.test_seed == 0
    genesis = fetch_genesis(store, BlobRef(custom.genesis_digest, custom.genesis_cid))
    assert audit_task(genesis, spec).name == "clinic-model"
    expected = r"tensor '0\.weight' expected float32\[8, 30\], got float32\[32, 30\]"
    with pytest.raises(ConfigError, match=expected):
        audit_task(genesis, "breast-cancer")


def test_a_flower_client_evaluates_every_round(
    scenario: Scenario, history: History, tmp_path: Path
) -> None:
    """The Flower guide's promise: ``daofed audit --task task.py:task --test-data PATH``."""
    pytest.importorskip("flwr.client")
    from daofed.flower import FlowerTask
    from tests.flower import tutorial_client

    flower = FlowerTask("digits-flower", tutorial_client.client_fn, model=tutorial_client.Net)
    save_npz(tmp_path / "test.npz", default_test_data(load_task("digits-mlp")))
    evaluation = evaluate_history(history, scenario.store, flower, test_data=tmp_path / "test.npz")
    assert evaluation.task == "digits-flower" and evaluation.test_data == tmp_path / "test.npz"
    assert set(evaluation.metrics) == {"loss", "accuracy"}
    first, *_, last = evaluation.rounds
    assert first.accuracy is not None and last.accuracy is not None
    assert last.accuracy > first.accuracy
