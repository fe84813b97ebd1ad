"""Run daofed's benchmarks from the checkout: ``python -m bench [--quick] [--json FILE]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console

from bench import PARTS, BenchConfig, print_report, run_bench, write_json


def main() -> int:
    """Parse the options, run the parts asked for, print the tables (and write JSON)."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes (about a minute)")
    parser.add_argument("--json", type=Path, help="also write every number to this file")
    parser.add_argument(
        "--only", help=f"comma-separated parts to run (default all: {','.join(PARTS)})"
    )
    args = parser.parse_args()
    config = BenchConfig.quick_preset() if args.quick else BenchConfig.full()
    if args.only:
        config = config.only(tuple(part.strip() for part in args.only.split(",")))
    err = Console(stderr=True)
    report = run_bench(config, progress=lambda message: err.print(f"[cyan]bench[/] {message}"))
    print_report(report, Console(width=160))
    if args.json:
        write_json(report, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
