"""The accuracy/participation plot is a real PNG (looked at while writing these tests)."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from daofed.audit import History, default_test_set, evaluate_history, plot_history
from daofed.errors import ConfigError

from .scenario import Scenario

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_the_plot_is_an_800_by_600_png(
    scenario: Scenario, history: History, tmp_path: Path
) -> None:
    scores = evaluate_history(history, scenario.store, default_test_set())
    path = plot_history(history, scores, tmp_path / "audit.png")
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC
    width, height = struct.unpack(">II", data[16:24])  # IHDR
    assert (width, height) == (800, 600)
    assert len(data) > 20_000  # two panels with text, lines and bars, not a blank canvas


def test_an_unwritable_plot_path_says_so(history: History, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot write the plot"):
        plot_history(history, (), tmp_path / "no-such-dir" / "audit.png")
