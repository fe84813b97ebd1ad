"""``daofed demo``: a whole federation on this machine, no services needed."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from daofed.cli.options import FitConfigOpt, TaskOpt, fit_options
from daofed.cli.output import (
    console,
    err_console,
    friendly_errors,
    limit_torch_threads,
    print_json,
    short,
)
from daofed.demo import DemoConfig, DemoReport, run_demo
from daofed.jsonable import to_jsonable
from daofed.learning import DEFAULT_TASK


def demo(
    members: Annotated[int, typer.Option(help="Number of member organisations.")] = 5,
    rounds: Annotated[int, typer.Option(help="Rounds to train.")] = 5,
    alpha: Annotated[
        float | None,
        typer.Option(help="Dirichlet label-skew concentration; omit for IID data."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed for data split, init and training.")] = 0,
    chain: Annotated[
        str, typer.Option(help="'embedded' (in-process py-evm) or 'anvil' (started for you).")
    ] = "embedded",
    rule: Annotated[str, typer.Option(help="Aggregation rule, e.g. fedavg, median.")] = "fedavg",
    quorum: Annotated[
        int | None, typer.Option(help="Votes needed to accept a model (default: all).")
    ] = None,
    task: TaskOpt = DEFAULT_TASK,
    epochs: Annotated[
        int | None, typer.Option(help="Local epochs per round (default: the task's).")
    ] = None,
    fit_config: FitConfigOpt = None,
    threads: Annotated[int, typer.Option(help="Torch threads for training.")] = 1,
    json_output: Annotated[bool, typer.Option("--json", help="Print a JSON report.")] = False,
) -> None:
    """Run a federation of MEMBERS agents for ROUNDS rounds and print what happened."""
    with friendly_errors():
        options = fit_options(fit_config, epochs=epochs)
    config = DemoConfig(
        members=members,
        rounds=rounds,
        alpha=alpha,
        seed=seed,
        chain=chain,  # type: ignore[arg-type]  # validated by run_demo
        rule=rule,
        quorum=quorum,
        task=task,
        options=options,
    )
    limit_torch_threads(threads)
    with friendly_errors():
        report = _run_with_progress(config, quiet=json_output)
    if json_output:
        print_json(to_jsonable(report, properties=True))
    else:
        _print_report(report)


def _run_with_progress(config: DemoConfig, *, quiet: bool) -> DemoReport:
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        disable=quiet,
        transient=True,
    )
    with progress:
        bar = progress.add_task(f"{config.members} members training", total=config.rounds)
        return run_demo(
            config,
            on_round=lambda r: progress.update(
                bar, advance=1, description=f"round {r.round} accepted, {_metrics(r.metrics)}"
            ),
        )


def _metrics(metrics: dict[str, float]) -> str:
    return ", ".join(f"{name} {value:.4f}" for name, value in metrics.items())


def _print_report(report: DemoReport) -> None:
    table = Table(
        title=f"daofed demo: task {report.task}, {report.members} members, rule {report.rule}"
    )
    names = list(report.centralized)
    for column in ("round", "updates", "excluded", "votes", "accepted digest", *names):
        table.add_column(column, justify="right" if column != "accepted digest" else "left")
    for r in report.rounds:
        table.add_row(
            str(r.round),
            str(r.updates),
            str(r.excluded),
            f"{r.votes} ({r.distinct_votes} digest{'s' if r.distinct_votes != 1 else ''})",
            short(r.accepted),
            *(f"{r.metrics.get(name, float('nan')):.4f}" for name in names),
        )
    console.print(table)
    console.print(f"chain: {report.chain}, contract {report.contract}, quorum {report.quorum}")
    final = report.rounds[-1].metrics if report.rounds else {}
    console.print(
        f"federated: {_metrics(final)}\ncentralized (same model, pooled member data): "
        f"{_metrics(report.centralized)}"
    )
    verdict = "[green]yes[/]" if report.digests_verified else "[red]NO[/]"
    console.print(f"accepted digests on-chain == sha256 of stored blobs: {verdict}")
    console.print(f"unanimous votes every round: {'yes' if report.unanimous else 'no'}")
    console.print(f"took {report.seconds:.1f} s")
