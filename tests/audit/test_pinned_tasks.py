"""Federations whose genesis pins another task are audited with that task and its metrics."""

from __future__ import annotations

from pathlib import Path

import pytest

from daofed.audit import Verdict, run_audit
from daofed.chain import embedded_chain
from daofed.errors import ConfigError
from daofed.learning import ModelConfig, load_task, mlp_task

from .scenario import Scenario, build_scenario

FIRST_TENSOR = {  # the first tensor of each pinned model, as digits-mlp gets it wrong
    "digits-cnn": "tensor '1.weight' (expected float32[16, 1, 3, 3]) is missing",
    "breast-cancer": "tensor '0.weight' expected float32[32, 30], got float32[64, 64]",
}


@pytest.fixture(scope="module", params=sorted(FIRST_TENSOR))
def pinned(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    name = str(request.param)
    store_dir = tmp_path_factory.mktemp(name) / "blobs"
    return build_scenario(embedded_chain(), store_dir, load_task(name))


@pytest.fixture(scope="module")
def unshipped(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    """A federation training a task daofed does not ship (the digits MLP, named otherwise)."""
    task = mlp_task(ModelConfig(), name="my-digits")
    return build_scenario(embedded_chain(), tmp_path_factory.mktemp("my-digits") / "blobs", task)


def test_the_pinned_task_evaluates_with_its_own_metrics(pinned: Scenario, tmp_path: Path) -> None:
    name = pinned.task.name
    plot = tmp_path / "audit.png"
    report = run_audit(pinned.federation, pinned.store, verify=True, plot=plot)
    assert report.ok and report.verification is not None
    assert report.verification.task == name
    assert [r.verdict for r in report.verification.rounds] == [
        Verdict.VERIFIED,
        Verdict.VERIFIED,
        Verdict.CLOSED,
        Verdict.OPEN,
    ]
    evaluation = report.evaluation
    assert evaluation is not None and evaluation.task == name
    expected = ("accuracy", "loss", "roc_auc") if name == "breast-cancer" else ("accuracy", "loss")
    assert evaluation.metrics == expected and evaluation.headline == "accuracy"
    assert [r.round for r in evaluation.rounds] == [0, 1, 2, 3]
    for scores in evaluation.rounds:
        assert scores.metrics is not None and set(scores.metrics) == set(expected)
        assert all(value is not None for value in scores.metrics.values())
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_an_auditor_with_another_task_gets_one_line_naming_the_tensor(pinned: Scenario) -> None:
    with pytest.raises(ConfigError) as error:
        run_audit(pinned.federation, pinned.store, verify=True, task="digits-mlp")
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith(
        f"task 'digits-mlp' (the federation trains {pinned.task.name!r}) builds a different "
        f"model: {FIRST_TENSOR[pinned.task.name]}"
    )


def test_verifying_a_task_daofed_does_not_ship_skips_the_metrics_and_says_why(
    unshipped: Scenario,
) -> None:
    report = run_audit(unshipped.federation, unshipped.store, verify=True)
    assert report.ok and report.evaluation is None
    assert report.verification is not None and report.verification.task == "my-digits"
    assert report.unevaluated is not None
    assert "trains task 'my-digits', which is not built into daofed" in report.unevaluated
    with pytest.raises(ConfigError, match="not built into daofed: pass its code with --task"):
        run_audit(unshipped.federation, unshipped.store, evaluate=True)


def test_the_auditor_passes_the_unshipped_task(unshipped: Scenario) -> None:
    report = run_audit(unshipped.federation, unshipped.store, verify=True, task=unshipped.task)
    assert report.evaluation is not None and report.unevaluated is None
    assert report.evaluation.task == "my-digits"
    accuracy = [r.accuracy for r in report.evaluation.rounds]
    assert accuracy[0] is not None and accuracy[2] is not None and accuracy[2] > accuracy[0]
