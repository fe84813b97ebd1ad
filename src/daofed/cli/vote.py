"""``daofed vote aggregate``: a person casts a member's vote for a round's model."""

from __future__ import annotations

from typing import Annotated

import typer

from daofed.cli.options import (
    DEFAULT_DEPLOYMENT,
    DeploymentOpt,
    DevKeyOpt,
    JsonOpt,
    KeystoreOpt,
    PasswordFileOpt,
    RpcUrlOpt,
    StoreOpt,
    session,
    unlock,
)
from daofed.cli.output import console, friendly_errors, print_json
from daofed.errors import ConfigError
from daofed.storage import BlobRef

vote_app = typer.Typer(help="Vote as a member: on a round's aggregate, or on a proposal.")


@vote_app.command("aggregate")
def aggregate(
    round_number: Annotated[int, typer.Argument(metavar="ROUND", help="The round.")],
    digest: Annotated[str, typer.Argument(help="sha256 (hex) of the aggregate to accept.")],
    cid: Annotated[
        str | None, typer.Option(help="Where the blob is (default: taken from the store).")
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    deployment: DeploymentOpt = DEFAULT_DEPLOYMENT,
    keystore: KeystoreOpt = None,
    password_file: PasswordFileOpt = None,
    dev: DevKeyOpt = None,
    rpc_url: RpcUrlOpt = None,
    store: StoreOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Vote for DIGEST as ROUND's new model, after showing what it is and who backs it.

    The blob is fetched and verified first: nobody should vote for bytes they cannot get.
    """
    with friendly_errors():
        opened = session(deployment, rpc_url, store)
        federation = opened.federation
        ref = BlobRef.from_hex(digest, cid)
        size = len(opened.store.get(ref))
        info = federation.round_info(round_number)
        tally = federation.tally(round_number, ref)
        console.print(
            f"round {round_number} ({info.phase.name.lower()} phase): vote for model "
            f"{ref.hex} ({size} bytes, verified), which has {tally}/{info.quorum} votes"
        )
        if not yes and not typer.confirm("Cast this vote?"):
            raise ConfigError("vote not cast")
        account = unlock(keystore, password_file, dev)
        result = federation.vote_aggregate(account, round_number, ref)
    if json_output:
        print_json(result)
    else:
        console.print(f"voted in tx {result.tx_hash} (block {result.block_number})")
