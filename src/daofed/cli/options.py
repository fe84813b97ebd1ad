"""Options shared by the commands that act on a deployed federation, and key unlocking."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from eth_account.signers.local import LocalAccount

from daofed.chain import dev_account
from daofed.chain.deployment import DEFAULT_DEPLOYMENT_FILE
from daofed.chain.keystore import PASSWORD_ENV, load_keystore, read_password
from daofed.errors import ConfigError
from daofed.learning.task import Scalar
from daofed.session import FederationSession, open_session

DeploymentOpt = Annotated[
    Path, typer.Option("--deployment", "-d", help="Deployment file written by `daofed deploy`.")
]
RpcUrlOpt = Annotated[
    str | None, typer.Option(help="Reach the chain through this JSON-RPC URL instead.")
]
StoreOpt = Annotated[
    str | None,
    typer.Option(help="Use this blob store instead: local:/dir or ipfs:http://host:5001."),
]
KeystoreOpt = Annotated[
    Path | None, typer.Option(help="Encrypted keystore file of the member's key.")
]
PasswordFileOpt = Annotated[
    Path | None,
    typer.Option(
        help="Read the keystore password from this file (else $DAOFED_PASSWORD, else a "
        "prompt on the terminal)."
    ),
]
DevKeyOpt = Annotated[
    int | None,
    typer.Option(
        "--dev", help="Use anvil's public dev key N instead of a keystore (local chains only)."
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]

DEFAULT_DEPLOYMENT = DEFAULT_DEPLOYMENT_FILE


def unlock(keystore: Path | None, password_file: Path | None, dev: int | None) -> LocalAccount:
    """Load the signing account: a keystore (password from file, env or prompt) or a dev key."""
    if dev is not None:
        if keystore is not None:
            raise ConfigError("give either --keystore or --dev, not both")
        return dev_account(dev)
    if keystore is None:
        raise ConfigError(
            "no key given: pass --keystore FILE (see `daofed account new`), "
            "or --dev N on a local test chain"
        )
    password = read_password(password_file)
    if password is not None:
        source = f"from {password_file}" if password_file else f"from ${PASSWORD_ENV}"
        return load_keystore(keystore, password, source)
    typed = ask_secret(f"Password for {keystore}", f"the password of {keystore}")
    return load_keystore(keystore, typed, "typed at the prompt")


PASSWORD_ADVICE = f"set ${PASSWORD_ENV} or pass --password-file FILE"


def ask_secret(
    prompt: str, what: str, *, advice: str = PASSWORD_ADVICE, confirm: bool = False
) -> str:
    """Ask for ``what`` without echo; ConfigError (saying ``advice``) if no one can answer.

    A command run in the background (``daofed agent run … &``), by a service manager or
    in a pipeline has no terminal to type in: asking there stops the job ("Stopped (tty
    input)") or waits forever. It fails at once instead.
    """
    if not _interactive():
        raise ConfigError(
            f"{what} is needed and this command has no terminal to ask on (it runs in the "
            f"background or without a tty): {advice}"
        )
    return str(typer.prompt(prompt, hide_input=True, confirmation_prompt=confirm))


def _interactive() -> bool:
    """Whether a person can answer a prompt: stdin is a terminal this process owns."""
    try:
        fd = sys.stdin.fileno()
        return os.isatty(fd) and os.getpgrp() == os.tcgetpgrp(fd)
    except (OSError, ValueError, AttributeError):  # no real stdin (a test runner's)
        return False


def session(deployment: Path, rpc_url: str | None, store: str | None) -> FederationSession:
    """Open the deployed federation the command acts on."""
    return open_session(deployment, rpc_url=rpc_url, store=store)


TaskOpt = Annotated[
    str,
    typer.Option(
        help="What the federation trains: a built-in task (digits-mlp, digits-cnn, "
        "breast-cancer), package.module:attr or path/to/file.py:attr."
    ),
]
FitConfigOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--fit-config",
        help="KEY=VALUE given to the task's fit each round (repeat), e.g. lr=0.01.",
    ),
]


def fit_options(pairs: list[str] | None, **given: Scalar | None) -> dict[str, Scalar]:
    """Parse ``--fit-config KEY=VALUE`` pairs (numbers and true/false typed) plus options given.

    ``given`` are named command options (``epochs=3``); those left at None are not passed.
    """
    options: dict[str, Scalar] = {key: value for key, value in given.items() if value is not None}
    for pair in pairs or ():
        key, sep, text = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--fit-config {pair!r}: write KEY=VALUE, e.g. lr=0.01")
        options[key.strip()] = _scalar(text.strip())
    return options


def _scalar(text: str) -> Scalar:
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text
