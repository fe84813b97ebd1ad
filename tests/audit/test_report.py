"""run_audit: the whole audit in one call, as ``daofed audit`` runs it."""

from __future__ import annotations

from pathlib import Path

import pytest

from daofed.audit import History, run_audit
from daofed.errors import ConfigError

from .scenario import Scenario


def test_history_alone_needs_no_store(scenario: Scenario, history: History) -> None:
    report = run_audit(scenario.federation)
    assert report.ok and report.verification is None and report.accuracy is None
    assert report.history.rounds == history.rounds


def test_verify_evaluate_and_plot_together(scenario: Scenario, tmp_path: Path) -> None:
    plot = tmp_path / "audit.png"
    report = run_audit(scenario.federation, scenario.store, verify=True, plot=plot)
    assert report.ok and report.verification is not None
    assert report.accuracy is not None and len(report.accuracy) == 4
    assert report.plot == plot and plot.stat().st_size > 0


def test_verifying_without_a_store_says_how_to_give_one(scenario: Scenario) -> None:
    with pytest.raises(ConfigError, match="--store"):
        run_audit(scenario.federation, verify=True)
