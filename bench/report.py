"""Show a benchmark run as tables (rich) and write it as JSON.

The tables are what a person reads (and what docs/benchmarks.md copies); the JSON holds
every measured number, including the derived ratios, for scripts and later comparison.
"""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.compression import compression_table, sizes_table
from bench.goals import GoalCheck, check_goals
from bench.memory import memory_table, summary
from bench.runner import BenchReport
from bench.secagg import PLAIN_STEPS, PRIVATE_STEPS
from bench.timeline import KINDS
from daofed.jsonable import to_jsonable


def _gas_table(report: BenchReport) -> Table | None:
    if report.gas is None:
        return None
    sizes = sorted({row.members for row in report.gas.rows})
    table = Table(title="Gas per transaction (median; min-max when they differ)")
    table.add_column("transaction")
    for members in sizes:
        table.add_column(f"{members} members", justify="right")
    table.add_column("goal", justify="right")
    table.add_column("worst vs goal", justify="right")
    actions = list(dict.fromkeys(row.action for row in report.gas.rows))
    for action in actions:
        rows = {r.members: r for r in report.gas.rows if r.action == action}
        cells = []
        for members in sizes:
            row = rows.get(members)
            if row is None:
                cells.append("-")
            elif row.gas.low == row.gas.high:
                cells.append(f"{row.gas.median:,.0f}")
            else:
                cells.append(f"{row.gas.median:,.0f} ({row.gas.low:,.0f}-{row.gas.high:,.0f})")
        goal_row = rows[sizes[-1]] if sizes[-1] in rows else next(iter(rows.values()))
        goal = f"{goal_row.goal:,}" if goal_row.goal else ""
        gap = "" if goal_row.gap is None else f"{goal_row.gap:+.1%}"
        table.add_row(action, *cells, goal, gap)
    return table


def _overhead_tables(report: BenchReport) -> list[Table]:
    if not report.overhead:
        return []
    table = Table(title="Round overhead: daofed round vs the same work in one process")
    for column in ("model", "params", "members", "store", "daofed s", "baseline s", "ratio",
                   "overhead", "CPU ratio"):  # fmt: skip
        table.add_column(column, justify="left" if column == "model" else "right")
    where = Table(
        title="Member cost account, measured round (CPU s per member, mean; member overhead"
        " = (member CPU - training CPU) / training CPU; wall ratio = daofed wall / baseline wall)"
    )
    for column in ("model", "members", "store", *KINDS, "other", "CPU s", "MB up", "MB down",
                   "RPCs", "member overhead", "wall ratio", "anvil CPU", "IPFS CPU"):  # fmt: skip
        where.add_column(column, justify="left" if column == "model" else "right")
    for case in report.overhead:
        m = case.measured
        table.add_row(
            case.model, f"{case.parameters:,}", str(case.members), case.store, f"{m.seconds:.2f}",
            f"{m.baseline_seconds:.2f}", f"{m.ratio:.2f}", f"{case.overhead:+.0%}",
            f"{m.cpu_ratio:.2f}",
        )  # fmt: skip
        n = len(m.accounts)
        where.add_row(
            case.model,
            str(case.members),
            case.store,
            *(f"{sum(a.cpu[k] for a in m.accounts) / n:.3f}" for k in KINDS),
            f"{sum(a.unaccounted for a in m.accounts) / n:.3f}",
            f"{sum(a.cpu_total for a in m.accounts) / n:.2f}",
            f"{sum(a.uploaded for a in m.accounts) / n / 1e6:.1f}",
            f"{sum(a.downloaded for a in m.accounts) / n / 1e6:.1f}",
            f"{sum(sum(a.requests.values()) for a in m.accounts) / n:.0f}",
            f"{m.member_overhead:+.1%}",
            f"{m.ratio:.2f}",
            f"{m.cpu_seconds['anvil']:.2f}",
            f"{m.cpu_seconds['ipfs']:.2f}",
        )
    return [table, where]


def _aggregation_table(report: BenchReport) -> Table | None:
    result = report.aggregation
    if result is None:
        return None
    table = Table(
        title=f"Aggregation of {result.members} updates x {result.parameters:,} parameters "
        f"({result.update_bytes / 1e6:.0f} MB read); copy floor {result.floor_gb_per_s:.2f} GB/s"
    )
    for column in ("rule", "seconds", "GB/s", "of floor", "goal", "gap"):
        table.add_column(column, justify="left" if column == "rule" else "right")
    for rule in result.rules:
        gap = "" if rule.meets_goal else f"{0.5 / rule.fraction_of_floor:.1f}x too slow"
        table.add_row(
            rule.rule,
            f"{rule.seconds.best:.3f}",
            f"{rule.gb_per_s:.2f}",
            f"{rule.fraction_of_floor:.1%}",
            ">= 50%",
            gap,
        )
    return table


def _store_table(report: BenchReport) -> Table | None:
    if report.store is None:
        return None
    table = Table(title="Blob stores (1 MB = 10^6 bytes); copies held at peak, goal <= 2")
    for column in ("backend", "MB", "put MB/s", "get MB/s", "sha256 MB/s",
                   "put copies", "get copies"):  # fmt: skip
        table.add_column(column, justify="left" if column == "backend" else "right")
    for row in report.store.rows:
        table.add_row(
            row.backend, str(row.size_mb), f"{row.put_mb_s:.0f}", f"{row.get_mb_s:.0f}",
            f"{row.sha256_mb_s:.0f}", f"{row.put_copies:.2f}", f"{row.get_copies:.2f}",
        )  # fmt: skip
    return table


def _scale_table(report: BenchReport) -> Table | None:
    if not report.scale:
        return None
    table = Table(title="Scale: one round, members sharing a process (submit + vote each)")
    for column in ("members", "deploy s", "submits s", "votes s", "s / member",
                   "gas / member", "accepted"):  # fmt: skip
        table.add_column(column, justify="right")
    for row in report.scale:
        table.add_row(
            str(row.members), f"{row.deploy_seconds:.2f}", f"{row.submit_seconds:.2f}",
            f"{row.vote_seconds:.2f}", f"{row.seconds_per_member:.3f}",
            f"{row.gas_per_member:,.0f}", "yes" if row.accepted else "NO",
        )  # fmt: skip
    return table


def _secagg_tables(report: BenchReport) -> list[Table]:
    result = report.secagg
    if result is None:
        return []
    repeats = result.config.repeats
    table = Table(
        title="Private (fedavg:secagg=t, t = n//2 + 1) vs plain (fedavg) round, one member of n",
        caption="MB up: its own messages (private: setup + masked update + recovery; plain: its "
        "update). MB down: the other n-1 members' messages. The model it makes is not sent. "
        f"1 MB = 10^6 bytes; CPU s = process time, best of {repeats}.",
    )
    for column in ("model", "params", "members", "t", "plain MB up", "plain MB down",
                   "private MB up", "private MB down", "bytes x", "plain CPU s",
                   "private CPU s", "CPU x"):  # fmt: skip
        table.add_column(column, justify="left" if column == "model" else "right")
    steps = Table(
        title=f"CPU s per step, one member: private round, then plain (best of {repeats})",
        caption="A step includes encoding what it builds; 'read' decodes the others' messages.",
    )
    for column in ("model", "members", *PRIVATE_STEPS, *(f"plain {s}" for s in PLAIN_STEPS)):
        steps.add_column(column, justify="left" if column == "model" else "right")
    for case in result.cases:
        table.add_row(
            case.model, f"{case.parameters:,}", str(case.members), str(case.threshold),
            f"{case.plain_up / 1e6:.1f}", f"{case.plain_down / 1e6:.1f}",
            f"{case.private_up / 1e6:.1f}", f"{case.private_down / 1e6:.1f}",
            f"{case.bytes_ratio:.2f}", f"{case.plain_cpu:.3f}", f"{case.private_cpu:.3f}",
            f"{case.cpu_ratio:.1f}",
        )  # fmt: skip
        steps.add_row(
            case.model,
            str(case.members),
            *(f"{case.private_steps[s]:.3f}" for s in PRIVATE_STEPS),
            *(f"{case.plain_steps[s]:.3f}" for s in PLAIN_STEPS),
        )
    return [table, steps]


def _goal_table(checks: tuple[GoalCheck, ...]) -> Table:
    table = Table(title="Goals")
    for column in ("goal", "measured", "met", "gap"):
        table.add_column(column)
    for check in checks:
        met = "[green]yes[/]" if check.met else "[red]no[/]"
        table.add_row(check.goal, check.measured, met, check.gap)
    return table


def print_report(report: BenchReport, console: Console) -> None:
    """Print every table of the run, then the goals."""
    m = report.machine
    console.print(
        f"daofed benchmark{' (quick)' if report.quick else ''}, {report.date}: "
        f"{m.cpus} CPUs ({m.cpu_model}), {m.memory_gib} GiB RAM, Python {m.python}, "
        f"load average {m.load_average[0]:.1f} at start; took {report.seconds:.0f} s"
    )
    tables = [
        _gas_table(report), *_overhead_tables(report), _aggregation_table(report),
        _store_table(report), _scale_table(report),
        *((compression_table(report.compression), sizes_table(report.compression))
          if report.compression is not None else ()),
        memory_table(report.memory) if report.memory is not None else None,
        *_secagg_tables(report),
    ]  # fmt: skip
    for table in tables:
        if table is not None:
            console.print(table)
    if report.memory is not None:
        console.print(summary(report.memory))
    console.print(_goal_table(check_goals(report)))


def write_json(report: BenchReport, path: Path) -> None:
    """Write the run and its goal checks to ``path``."""
    document = {
        "report": to_jsonable(report, properties=True),
        "goals": to_jsonable(check_goals(report), properties=True),
    }
    path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
