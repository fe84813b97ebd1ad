"""Draw a federation's history: test accuracy per round above, participation below.

Uses matplotlib's object API with the Agg canvas (no pyplot, no display, no global
state), so it works on a headless server and inside tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from daofed.audit.accuracy import RoundAccuracy
from daofed.audit.records import History
from daofed.errors import ConfigError

_BAR = 0.38


def plot_history(
    history: History,
    accuracy: Sequence[RoundAccuracy],
    path: Path,
    *,
    title: str | None = None,
) -> Path:
    """Write a PNG of ``accuracy`` and of updates/votes/members per round to ``path``.

    Rounds closed without quorum keep their base model: they are drawn as hollow markers.
    """
    figure = Figure(figsize=(8, 6), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    figure.suptitle(title or _default_title(history), fontsize=12)

    known = [a for a in accuracy if a.accuracy is not None]
    top.plot(
        [a.round for a in known],
        [a.accuracy for a in known],
        color="tab:blue",
        marker="o",
        zorder=2,
        label="accepted model",
    )
    carried = [a for a in known if not a.accepted]
    if carried:
        top.scatter(
            [a.round for a in carried],
            [a.accuracy for a in carried],
            s=80,
            facecolors="white",
            edgecolors="tab:blue",
            zorder=3,
            label="closed without quorum (model unchanged)",
        )
        top.legend(loc="lower right")
    _mark_rules(top, history)
    top.set_ylabel("test accuracy")
    top.set_ylim(0.0, 1.02)
    top.grid(alpha=0.3)
    top.set_title("accuracy of the model each round accepted (round 0: genesis)", fontsize=10)

    numbers = [r.round for r in history.rounds]
    bottom.bar(
        [n - _BAR / 2 for n in numbers],
        [len(r.updates) for r in history.rounds],
        width=_BAR,
        color="tab:green",
        label="updates submitted",
    )
    bottom.bar(
        [n + _BAR / 2 for n in numbers],
        [len(r.votes) for r in history.rounds],
        width=_BAR,
        color="tab:orange",
        label="votes cast",
    )
    for values, style, label in (
        ([r.member_count for r in history.rounds], "--", "members"),
        ([r.quorum for r in history.rounds], ":", "quorum"),
    ):
        bottom.step(numbers, values, where="mid", color="black", linestyle=style, label=label)
    highest = max((max(r.member_count, len(r.updates)) for r in history.rounds), default=1)
    bottom.set_ylim(0, highest * 1.45 + 0.5)  # room for the legend above the bars
    bottom.set_xlabel("round")
    bottom.set_ylabel("count")
    bottom.set_title("participation", fontsize=10)
    bottom.xaxis.set_major_locator(MaxNLocator(integer=True))
    bottom.yaxis.set_major_locator(MaxNLocator(integer=True))
    bottom.legend(loc="upper left", ncol=4, fontsize=8)
    bottom.grid(axis="y", alpha=0.3)
    try:
        figure.savefig(path, format="png")
    except OSError as error:
        raise ConfigError(f"cannot write the plot to {path}: {error}") from None
    return path


def _mark_rules(axes: Axes, history: History) -> None:
    """Label where each aggregation rule took over, so a change in the curve has a cause."""
    previous = None
    for record in history.rounds:
        if record.rule != previous:
            axes.axvline(record.round - 0.5, color="grey", linestyle=":", linewidth=1)
            axes.text(
                record.round - 0.45, 0.04, f"rule: {record.rule}", color="dimgray", fontsize=8
            )
            previous = record.rule


def _default_title(history: History) -> str:
    address = history.contract
    return f"daofed audit of {address[:6]}..{address[-4:]} on chain {history.chain_id}"
