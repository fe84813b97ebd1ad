"""``daofed demo``: a whole federation on this machine, no services needed."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

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
from daofed.learning import TrainConfig


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
    epochs: Annotated[int, typer.Option(help="Local epochs per round.")] = TrainConfig().epochs,
    threads: Annotated[int, typer.Option(help="Torch threads for training.")] = 1,
    json_output: Annotated[bool, typer.Option("--json", help="Print a JSON report.")] = False,
) -> None:
    """Run a federation of MEMBERS agents for ROUNDS rounds and print what happened."""
    config = DemoConfig(
        members=members,
        rounds=rounds,
        alpha=alpha,
        seed=seed,
        chain=chain,  # type: ignore[arg-type]  # validated by run_demo
        rule=rule,
        quorum=quorum,
        training=TrainConfig(epochs=epochs),
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
        task = progress.add_task(f"{config.members} members training", total=config.rounds)
        return run_demo(
            config,
            on_round=lambda r: progress.update(
                task,
                advance=1,
                description=f"round {r.round} accepted, accuracy {r.test_accuracy:.3f}",
            ),
        )


def _print_report(report: DemoReport) -> None:
    table = Table(title=f"daofed demo: {report.members} members, rule {report.rule}")
    for column in ("round", "updates", "excluded", "votes", "accepted digest", "test accuracy"):
        table.add_column(column, justify="right" if column != "accepted digest" else "left")
    for r in report.rounds:
        table.add_row(
            str(r.round),
            str(r.updates),
            str(r.excluded),
            f"{r.votes} ({r.distinct_votes} digest{'s' if r.distinct_votes != 1 else ''})",
            short(r.accepted),
            f"{r.test_accuracy:.4f}",
        )
    console.print(table)
    console.print(f"chain: {report.chain}, contract {report.contract}, quorum {report.quorum}")
    console.print(
        f"federated test accuracy {report.final_accuracy:.4f} vs centralized "
        f"{report.centralized_accuracy:.4f} (same MLP, pooled member data)"
    )
    verdict = "[green]yes[/]" if report.digests_verified else "[red]NO[/]"
    console.print(f"accepted digests on-chain == sha256 of stored blobs: {verdict}")
    console.print(f"unanimous votes every round: {'yes' if report.unanimous else 'no'}")
    console.print(f"took {report.seconds:.1f} s")
