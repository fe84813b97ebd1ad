"""The ``daofed`` Typer application: one sub-module per command group."""

from __future__ import annotations

import typer

from daofed import __version__
from daofed.cli.account import account_app
from daofed.cli.agent import agent_app
from daofed.cli.audit import audit
from daofed.cli.chain import chain_app, deploy
from daofed.cli.data import data_app
from daofed.cli.demo import demo
from daofed.cli.explorer import explorer
from daofed.cli.governance import PROPOSE_HELP, execute, proposals, propose, vote_on_proposal
from daofed.cli.ipfs import ipfs_app
from daofed.cli.keys import keys_app
from daofed.cli.options import JsonOpt
from daofed.cli.output import print_json
from daofed.cli.status import members, status
from daofed.cli.vote import vote_app
from daofed.session import abi_version

app = typer.Typer(
    name="daofed",
    help="Federated learning governed by a DAO on an Ethereum chain.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command()(demo)
app.command()(deploy)
app.add_typer(account_app, name="account")
app.add_typer(agent_app, name="agent")
app.add_typer(chain_app, name="chain")
app.add_typer(data_app, name="data")
app.add_typer(ipfs_app, name="ipfs")
app.add_typer(keys_app, name="encryption-key")
app.add_typer(vote_app, name="vote")
app.command(help=PROPOSE_HELP)(propose)
app.command()(proposals)
app.command()(execute)
app.command()(status)
app.command()(members)
app.command()(audit)
app.command()(explorer)
vote_app.command("proposal")(vote_on_proposal)


@app.command()
def version(json_output: JsonOpt = False) -> None:
    """Print daofed's version (and, with --json, the contract ABI version it speaks)."""
    if json_output:
        print_json({"version": __version__, "abi_version": abi_version()})
    else:
        typer.echo(__version__)


def main() -> None:
    """Entry point of the ``daofed`` console script."""
    app()
