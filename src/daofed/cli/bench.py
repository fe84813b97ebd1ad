"""``daofed bench``: issue 6's benchmarks, the same as ``python scripts/bench.py``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from daofed.bench import PARTS, BenchConfig, print_report, run_bench, write_json
from daofed.cli.output import console, err_console, friendly_errors


def bench(
    quick: Annotated[bool, typer.Option(help="Small sizes: about a minute (CI).")] = False,
    json_file: Annotated[
        Path | None, typer.Option("--json", help="Also write every number to this file.")
    ] = None,
    only: Annotated[
        str | None, typer.Option(help=f"Comma-separated parts to run: {','.join(PARTS)}.")
    ] = None,
) -> None:
    """Measure gas, round overhead, aggregation, blob stores, scale and compression; print tables.

    Starts its own anvil and IPFS node on loopback and stops them at the end.
    """
    with friendly_errors():
        config = BenchConfig.quick_preset() if quick else BenchConfig.full()
        if only:
            config = config.only(tuple(part.strip() for part in only.split(",")))
        report = run_bench(config, progress=lambda m: err_console.print(f"[cyan]bench[/] {m}"))
        print_report(report, console)
        if json_file is not None:
            write_json(report, json_file)
