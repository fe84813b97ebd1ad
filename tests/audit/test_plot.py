"""The metric/participation plot is a real PNG (looked at while writing these tests)."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from daofed.audit import Evaluation, History, evaluate_history, plot_history
from daofed.errors import ConfigError

from .scenario import Scenario

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC
    width, height = struct.unpack(">II", data[16:24])  # IHDR
    return int(width), int(height)


def test_the_plot_is_an_800_by_600_png(
    scenario: Scenario, history: History, tmp_path: Path
) -> None:
    evaluation = evaluate_history(history, scenario.store)
    path = plot_history(history, evaluation, tmp_path / "audit.png")
    assert _png_size(path) == (800, 600)
    assert path.stat().st_size > 20_000  # two panels with text, lines and bars, not blank


def test_any_metric_the_task_reports_can_be_plotted(
    scenario: Scenario, history: History, tmp_path: Path
) -> None:
    evaluation = evaluate_history(history, scenario.store)
    path = plot_history(history, evaluation, tmp_path / "loss.png", metric="loss")
    assert _png_size(path) == (800, 600)
    with pytest.raises(ConfigError, match="reports no metric 'f1': it reports accuracy, loss"):
        plot_history(history, evaluation, tmp_path / "f1.png", metric="f1")


def test_an_unwritable_plot_path_says_so(history: History, tmp_path: Path) -> None:
    nothing = Evaluation(task="digits-mlp", test_data=None, test_seed=0, metrics=(), rounds=())
    with pytest.raises(ConfigError, match="cannot write the plot"):
        plot_history(history, nothing, tmp_path / "no-such-dir" / "audit.png")
