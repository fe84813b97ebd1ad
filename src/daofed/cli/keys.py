"""``daofed encryption-key``: the X25519 key other members encrypt private rounds' shares to.

An agent registers its key by itself while a private rule (``fedavg:secagg=T``) is in
force or coming; these commands let a member register ahead of time, rotate the key
(say, after a machine that ran the agent was lost), and see which key is registered.
Keys are derived from the account's key (generation 0, 1, ...): nothing else to back up.
"""

from __future__ import annotations

import typer

from daofed.agent.private import MemberKeys
from daofed.cli.options import (
    DEFAULT_DEPLOYMENT,
    DeploymentOpt,
    DevKeyOpt,
    JsonOpt,
    KeystoreOpt,
    PasswordFileOpt,
    RpcUrlOpt,
    session,
    unlock,
)
from daofed.cli.output import console, friendly_errors, print_json

keys_app = typer.Typer(
    help="The encryption key of this member for private rounds (secure aggregation).",
    no_args_is_help=True,
)


@keys_app.command("register")
def register(
    deployment: DeploymentOpt = DEFAULT_DEPLOYMENT,
    rpc_url: RpcUrlOpt = None,
    keystore: KeystoreOpt = None,
    password_file: PasswordFileOpt = None,
    dev: DevKeyOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Register this member's encryption key, unless one is registered already."""
    with friendly_errors():
        account = unlock(keystore, password_file, dev)
        federation = session(deployment, rpc_url, None).federation
        sent = MemberKeys(federation, account).register()
        key = federation.encryption_key(account.address)
    _report(account.address, key, "registered" if sent else "already registered", json_output)


@keys_app.command("rotate")
def rotate(
    deployment: DeploymentOpt = DEFAULT_DEPLOYMENT,
    rpc_url: RpcUrlOpt = None,
    keystore: KeystoreOpt = None,
    password_file: PasswordFileOpt = None,
    dev: DevKeyOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Register the next generation of this member's key; it counts from the next round."""
    with friendly_errors():
        account = unlock(keystore, password_file, dev)
        federation = session(deployment, rpc_url, None).federation
        generation = MemberKeys(federation, account).rotate()
        key = federation.encryption_key(account.address)
    _report(account.address, key, f"rotated to generation {generation}", json_output)


def _report(address: str, key: bytes | None, what: str, json_output: bool) -> None:
    if json_output:
        print_json({"account": address, "encryption_key": key, "status": what})
        return
    shown = "none" if key is None else "0x" + key.hex()
    console.print(f"{address}: encryption key {shown} ({what}); it counts from the next round")
