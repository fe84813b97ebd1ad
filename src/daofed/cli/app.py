"""The ``daofed`` Typer application: one sub-module per command group."""

from __future__ import annotations

import typer

from daofed import __version__
from daofed.cli.account import account_app
from daofed.cli.demo import demo

app = typer.Typer(
    name="daofed",
    help="Federated learning governed by a DAO on an Ethereum chain.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command()(demo)
app.add_typer(account_app, name="account")


@app.command()
def version() -> None:
    """Print daofed's version."""
    typer.echo(__version__)


def main() -> None:
    """Entry point of the ``daofed`` console script."""
    app()
