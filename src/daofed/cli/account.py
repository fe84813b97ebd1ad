"""``daofed account new|list|import``: encrypted keystores for member keys."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from eth_account import Account
from eth_account.signers.local import LocalAccount
from rich.table import Table

from daofed.chain import dev_account
from daofed.chain.keystore import (
    default_keystore_dir,
    list_keystores,
    read_password,
    write_keystore,
)
from daofed.cli.options import ask_secret
from daofed.cli.output import console, friendly_errors, print_json
from daofed.errors import ConfigError

account_app = typer.Typer(help="Create, import and list member keys (encrypted keystores).")

KeystoreDir = Annotated[
    Path,
    typer.Option(
        "--keystore-dir",
        help="Where keystore files live.",
        default_factory=default_keystore_dir,
        show_default="$DAOFED_HOME/keystore, else ~/.daofed/keystore",
    ),
]
PasswordFile = Annotated[
    Path | None,
    typer.Option(
        help="Read the password from this file (else $DAOFED_PASSWORD, else a prompt on the "
        "terminal)."
    ),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _new_password(password_file: Path | None) -> str:
    password = read_password(password_file)
    if password is None:
        password = ask_secret(
            "Password for the new keystore", "a password for the new keystore", confirm=True
        )
    return password


def _save(
    account: LocalAccount, directory: Path, password_file: Path | None, as_json: bool
) -> None:
    entry = write_keystore(account, _new_password(password_file), directory)
    if as_json:
        print_json(entry)
    else:
        console.print(f"{entry.address}  ->  {entry.path} (mode 0600)")


@account_app.command("new")
def new(
    keystore_dir: KeystoreDir,
    password_file: PasswordFile = None,
    json_output: JsonFlag = False,
) -> None:
    """Create a fresh random key and store it encrypted."""
    with friendly_errors():
        _save(Account.create(), keystore_dir, password_file, json_output)


@account_app.command("import")
def import_(
    keystore_dir: KeystoreDir,
    dev: Annotated[
        int | None,
        typer.Option(
            help="Import anvil's well-known dev key N instead. Public key: test chains only!"
        ),
    ] = None,
    password_file: PasswordFile = None,
    json_output: JsonFlag = False,
) -> None:
    """Import an existing private key (asked for without echo) into an encrypted keystore."""
    with friendly_errors():
        if dev is not None:
            account = dev_account(dev)
        else:
            secret = ask_secret(
                "Private key (hex)",
                "the private key to import",
                advice="run `daofed account import` in a terminal",
            )
            try:
                account = Account.from_key(secret.strip())
            except (ValueError, TypeError) as error:
                raise ConfigError(f"not a private key: {error}") from None
        _save(account, keystore_dir, password_file, json_output)


@account_app.command("list")
def list_(keystore_dir: KeystoreDir, json_output: JsonFlag = False) -> None:
    """List the keystores in the keystore directory (no password needed)."""
    entries = list_keystores(keystore_dir)
    if json_output:
        print_json(entries)
        return
    table = Table("address", "keystore file")
    for entry in entries:
        table.add_row(entry.address, str(entry.path))
    console.print(table if entries else f"no keystores in {keystore_dir}")
