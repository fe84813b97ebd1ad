"""How every command talks to people and scripts.

Tables and progress go to stderr-friendly rich consoles; ``--json`` prints exactly one JSON
document on stdout. A :class:`~daofed.errors.DaofedError` becomes one red line (its message
already says what to do) and exit code 1, never a traceback.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

from daofed.errors import DaofedError
from daofed.jsonable import to_jsonable

# Piped into a file or another program, a sentence is one line, not cut at 80 columns.
console = Console(soft_wrap=not sys.stdout.isatty())
err_console = Console(stderr=True, soft_wrap=not sys.stderr.isatty())


def print_json(value: Any) -> None:
    """Print one JSON document on stdout."""
    sys.stdout.write(json.dumps(to_jsonable(value), indent=2, sort_keys=True) + "\n")


@contextmanager
def friendly_errors() -> Iterator[None]:
    """Turn daofed's own errors into one readable line and exit status 1."""
    try:
        yield
    except DaofedError as error:
        # the message quotes user input and chain data: "[...]" in it is text, not markup
        err_console.print(
            f"[bold red]error:[/] {escape(str(error))}", highlight=False, soft_wrap=True
        )
        raise typer.Exit(1) from None


def digest_text(digest: bytes | None, length: int = 64) -> str:
    """Show a digest in a table by its first ``length`` hex digits; ``--json`` has it whole."""
    return "-" if digest is None else digest.hex()[:length]


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
