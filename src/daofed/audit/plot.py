"""Draw a federation's history: the task's test metric per round above, participation below.

The metric is accuracy when the task reports it, else the task's first metric (or the one
asked for).

Uses matplotlib's object API with the Agg canvas (no pyplot, no display, no global
state), so it works on a headless server and inside tests. matplotlib is the ``plot``
extra: a member does not draw, so it is imported only when a plot is asked for.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from daofed.audit.evaluation import BOUNDED_METRICS, Evaluation
from daofed.audit.records import History, Outcome
from daofed.errors import ConfigError
from daofed.extras import require

if TYPE_CHECKING:
    from matplotlib.axes import Axes

_BAR = 0.38


def plot_history(
    history: History,
    evaluation: Evaluation,
    path: Path,
    *,
    metric: str | None = None,
    title: str | None = None,
) -> Path:
    """Write a PNG of one test metric and of updates/votes/members per round to ``path``.

    ``metric`` defaults to the evaluation's headline (accuracy if the task reports it).
    Rounds closed without quorum keep their base model: they are drawn as hollow markers.
    """
    metric = metric or evaluation.headline
    if metric is not None and metric not in evaluation.metrics:
        raise ConfigError(
            f"task {evaluation.task!r} reports no metric {metric!r}: it reports "
            f"{', '.join(evaluation.metrics) or 'none'}"
        )
    agg = require("matplotlib.backends.backend_agg", "plot", "drawing the audit's plot")
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(8, 6), dpi=100, layout="constrained")
    agg.FigureCanvasAgg(figure)
    top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    figure.suptitle(title or _default_title(history), fontsize=12)

    series = evaluation.series(metric) if metric is not None else ()
    # the untrained genesis (accuracy ~0.1) would squash every trained round into one line:
    # it is stated in words, and the axis fits the rounds that trained
    genesis = next((v for n, v in series if n == 0), None)
    points = [(n, v) for n, v in series if n > 0] or list(series)
    top.plot(
        [n for n, _ in points],
        [v for _, v in points],
        color="tab:blue",
        marker="o",
        zorder=2,
        label="accepted model",
    )
    closed = {r.round for r in evaluation.rounds if not r.accepted}
    carried = [(n, v) for n, v in points if n in closed]
    if carried:
        top.scatter(
            [n for n, _ in carried],
            [v for _, v in carried],
            s=80,
            facecolors="white",
            edgecolors="tab:blue",
            zorder=3,
            label="closed without quorum (model unchanged)",
        )
        top.legend(loc="best")  # clear of the curve, rising (accuracy) or falling (loss)
    label = (metric or "metric").replace("_", " ")
    _fit_axis(top, [v for _, v in points], bounded=metric in BOUNDED_METRICS)
    if genesis is not None and len(points) < len(series):
        top.text(
            0.01, 0.97, f"genesis model: {label} {genesis:.4f}", transform=top.transAxes,
            fontsize=8, color="dimgray", verticalalignment="top",
        )  # fmt: skip
    _mark_rules(top, history)
    _mark_open_round(top, history)
    top.set_ylabel(f"test {label}")
    top.grid(alpha=0.3)
    top.set_title(
        f"{label} of the model each round accepted (round 0: genesis; task {evaluation.task})",
        fontsize=10,
    )

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
    edges = [n - 0.5 for n in numbers] + [numbers[-1] + 0.5] if numbers else [0.0]
    for values, style, label in (
        ([r.member_count for r in history.rounds], "--", "members"),
        ([r.quorum for r in history.rounds], ":", "quorum"),
    ):  # across each round's whole width, bars included
        bottom.stairs(values, edges, baseline=None, color="black", linestyle=style, label=label)
    _mark_open_round(bottom, history, label="open round (still running)")
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


def _fit_axis(axes: Axes, values: list[float], *, bounded: bool) -> None:
    """Fit the y axis to ``values`` with a margin; a metric in [0, 1] stays inside it."""
    if not values:
        return
    low, high = min(values), max(values)
    margin = max((high - low) * 0.15, 0.01)
    low, high = low - margin, high + margin
    if bounded or (min(values) >= 0.0 and max(values) <= 1.0):
        low, high = max(low, 0.0), min(high, 1.0)
    elif min(values) >= 0.0:
        low = max(low, 0.0)
    axes.set_ylim(low, high)


def _mark_open_round(axes: Axes, history: History, label: str | None = None) -> None:
    """Shade a round still running: its bars can still grow and it has no model yet."""
    for record in history.rounds:
        if record.outcome is Outcome.OPEN:
            axes.axvspan(
                record.round - 0.5, record.round + 0.5, color="tab:blue", alpha=0.08, label=label
            )


def _mark_rules(axes: Axes, history: History) -> None:
    """Label where each aggregation rule took over, so a change in the curve has a cause."""
    previous = None
    for record in history.rounds:
        if record.rule != previous:
            axes.axvline(record.round - 0.5, color="grey", linestyle=":", linewidth=1)
            axes.text(
                record.round - 0.45,
                0.04,  # of the axis' height, whatever the metric's range
                f"rule: {record.rule}",
                color="dimgray",
                fontsize=8,
                transform=axes.get_xaxis_transform(),
            )
            previous = record.rule


def _default_title(history: History) -> str:
    address = history.contract
    return f"daofed audit of {address[:6]}..{address[-4:]} on chain {history.chain_id}"
