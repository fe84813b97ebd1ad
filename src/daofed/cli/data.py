"""``daofed data split``: per-member data files from a built-in task's data, for trials."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from daofed.cli.options import JsonOpt, TaskOpt
from daofed.cli.output import console, friendly_errors, print_json
from daofed.errors import ConfigError, LearningError
from daofed.learning import DEFAULT_TASK, Dataset, load_task, save_member_file, split_federated

data_app = typer.Typer(help="Prepare member data files.")


@data_app.command("split")
def split(
    members: Annotated[int, typer.Option(help="Number of member files.", min=1)],
    out_dir: Annotated[Path, typer.Option(help="Directory for the files.")] = Path("data"),
    alpha: Annotated[
        float | None,
        typer.Option(help="Dirichlet label skew (> 0; smaller is more skewed); omit for IID."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the split.")] = 0,
    fmt: Annotated[str, typer.Option("--format", help="npz or csv.")] = "npz",
    task: TaskOpt = DEFAULT_TASK,
    json_output: JsonOpt = False,
) -> None:
    """Write member-1..N files (all of each member's data) and test.FORMAT (held out)."""
    with friendly_errors():
        if alpha is not None and not alpha > 0:  # NaN too
            raise ConfigError(f"--alpha must be a positive number, got {alpha}")
        data = load_task(task).dataset()
        try:
            parts = split_federated(data, members, alpha=alpha, seed=seed)
        except LearningError:  # its message names the library's parameters, not options
            raise ConfigError(
                f"cannot split the {len(data)} samples of task {task} among --members "
                f"{members}"
                + (f" with --alpha {alpha}" if alpha is not None else "")
                + ": a fifth is held out for testing and each member needs at least 10 "
                "samples; use fewer members"
                + (" or a larger --alpha (less skew)" if alpha is not None else "")
            ) from None
        out_dir.mkdir(parents=True, exist_ok=True)
        written = {}
        for index, member in enumerate(parts.members, start=1):
            path = out_dir / f"member-{index}.{fmt}"
            own = Dataset.concat([member.train, member.val])
            save_member_file(path, own)
            written[path.name] = len(own)
        save_member_file(out_dir / f"test.{fmt}", parts.test)
        written[f"test.{fmt}"] = len(parts.test)
    if json_output:
        print_json({"directory": out_dir, "files": written})
        return
    for name, count in written.items():
        console.print(f"{out_dir / name}: {count} samples")
