"""run_audit: the whole audit in one call, as ``daofed audit`` runs it."""

from __future__ import annotations

from pathlib import Path

import pytest

from daofed.audit import History, run_audit
from daofed.errors import ConfigError

from .scenario import Scenario


def test_history_alone_needs_no_store_and_checks_nothing(
    scenario: Scenario, history: History
) -> None:
    report = run_audit(scenario.federation)
    assert report.ok is None and not report.verified  # reading events proves nothing
    assert report.code is None and report.verification is None and report.evaluation is None
    assert report.history.rounds == history.rounds


def test_verify_evaluate_and_plot_together(scenario: Scenario, tmp_path: Path) -> None:
    plot = tmp_path / "audit.png"
    report = run_audit(scenario.federation, scenario.store, verify=True, plot=plot)
    assert report.ok is True and report.verified and report.verification is not None
    assert report.code is not None and report.code.ok
    assert report.code.message.startswith(
        f"runtime code at {scenario.federation.address} is the shipped Federation (solc 0.8.37, "
        "sources sha256 "
    )
    assert report.evaluation is not None and len(report.evaluation.rounds) == 4
    assert report.evaluation.task == "digits-mlp" and report.unevaluated is None
    assert report.plot == plot and plot.stat().st_size > 0


def test_verifying_evaluates_the_pinned_task_too(scenario: Scenario) -> None:
    report = run_audit(scenario.federation, scenario.store, verify=True)
    assert report.evaluation is not None
    assert report.evaluation.metrics == ("accuracy", "loss")


def test_verifying_without_a_store_says_how_to_give_one(scenario: Scenario) -> None:
    with pytest.raises(ConfigError, match="--store"):
        run_audit(scenario.federation, verify=True)


def test_an_auditors_task_that_does_not_fit_stops_the_audit(scenario: Scenario) -> None:
    with pytest.raises(ConfigError, match=r"builds a different model: tensor '0\.weight'"):
        run_audit(scenario.federation, scenario.store, verify=True, task="breast-cancer")
