"""How every command talks to people and scripts.

Tables and progress go to stderr-friendly rich consoles; ``--json`` prints exactly one JSON
document on stdout. A :class:`~daofed.errors.DaofedError` becomes one red line (its message
already says what to do) and exit code 1, never a traceback.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from daofed.errors import DaofedError

console = Console()
err_console = Console(stderr=True)


def to_jsonable(value: Any) -> Any:
    """Dataclasses, enums, paths and bytes as plain JSON values (bytes as 0x-hex)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, Enum):
        return value.name.lower()
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, Path):
        return str(value)
    return value


def print_json(value: Any) -> None:
    """Print one JSON document on stdout."""
    sys.stdout.write(json.dumps(to_jsonable(value), indent=2, sort_keys=True) + "\n")


@contextmanager
def friendly_errors() -> Iterator[None]:
    """Turn daofed's own errors into one readable line and exit status 1."""
    try:
        yield
    except DaofedError as error:
        err_console.print(f"[bold red]error:[/] {error}", highlight=False)
        raise typer.Exit(1) from None


def short(hex_digest: str | None, length: int = 12) -> str:
    """Shorten a digest for tables; the full value is in ``--json``."""
    return "-" if hex_digest is None else hex_digest[:length]


def limit_torch_threads(threads: int) -> None:
    """Cap torch's intra-op threads for commands that train.

    The digits MLP trains about ten times faster on one thread than on two here: its
    matrices are too small for threading to pay. Done by the application, not the library.
    """
    import torch

    torch.set_num_threads(max(1, threads))
