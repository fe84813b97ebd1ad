"""``daofed audit`` of a federation pinning a task other than the default (breast-cancer)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from daofed.chain import AnvilNode
from daofed.learning import load_task
from tests.audit.scenario import build_scenario

from .test_audit_cli import app, flat, runner


@pytest.fixture(scope="module")
def cli_cancer(own_anvil: AnvilNode, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """The options naming a federation pinning breast-cancer and its store.

    Building it moves the clock past two windows: on `own_anvil`, so that the move is undone
    before the CLI's other federations are read.
    """
    store_dir: Path = tmp_path_factory.mktemp("cli-cancer") / "blobs"
    scenario = build_scenario(own_anvil.web3(), store_dir, load_task("breast-cancer"))
    address = scenario.federation.address
    return ["--rpc-url", own_anvil.url, "--contract", address, "--store", f"local:{store_dir}"]


def test_a_pinned_task_is_audited_with_its_metrics(cli_cancer: list[str]) -> None:
    result = runner.invoke(app, ["audit", *cli_cancer, "--verify", "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["verification"]["task"] == "breast-cancer"
    evaluation = document["evaluation"]
    assert evaluation["task"] == "breast-cancer"
    assert evaluation["metrics"] == ["accuracy", "loss", "roc_auc"]
    assert all(0.0 <= r["metrics"]["roc_auc"] <= 1.0 for r in evaluation["rounds"])

    table = runner.invoke(app, ["audit", *cli_cancer, "--verify"])
    assert table.exit_code == 0, table.output
    output = flat(table.stdout)
    for text in ("(task breast-cancer)", "metrics of task breast-cancer", "roc auc"):
        assert text in output


def test_an_auditors_task_that_does_not_fit_is_one_clear_line(cli_cancer: list[str]) -> None:
    result = runner.invoke(app, ["audit", *cli_cancer, "--verify", "--task", "digits-mlp"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert flat(result.output) == (
        "error: task 'digits-mlp' (the federation trains 'breast-cancer') builds a different "
        "model: tensor '0.weight' expected float32[32, 30], got float32[64, 64]; use the "
        "federation's task"
    )
