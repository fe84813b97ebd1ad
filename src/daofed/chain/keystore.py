"""Encrypted keystore files (Web3 Secret Storage, as geth and eth-account write them).

A member's key never sits in plaintext on disk or in a config file: it lives in a keystore
JSON file readable only by its owner (mode 0600), unlocked with a password that comes from
a prompt, an environment variable or a password file.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from daofed.errors import ConfigError

PASSWORD_ENV = "DAOFED_PASSWORD"
"""Environment variable read for a keystore password when no file is given."""


@dataclass(frozen=True)
class KeystoreEntry:
    """One keystore file and the address it holds (readable without the password)."""

    address: str
    path: Path


def default_keystore_dir() -> Path:
    """``$DAOFED_HOME/keystore``, by default ``~/.daofed/keystore``."""
    home = Path(os.environ.get("DAOFED_HOME", Path.home() / ".daofed"))
    return home / "keystore"


def write_keystore(account: LocalAccount, password: str, directory: Path) -> KeystoreEntry:
    """Encrypt ``account`` with ``password`` into ``directory/<address>.json`` (mode 0600).

    The file is created exclusively (an existing key is never overwritten) and with its
    final permissions from the start, so the secret is never readable by others.
    """
    if not password:
        raise ConfigError("refusing to write a keystore with an empty password")
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = directory / f"{account.address}.json"
    encrypted = Account.encrypt(account.key, password)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ConfigError(f"a keystore for {account.address} already exists at {path}") from None
    with os.fdopen(fd, "w") as handle:
        json.dump(encrypted, handle)
    return KeystoreEntry(address=str(account.address), path=path)


def list_keystores(directory: Path) -> list[KeystoreEntry]:
    """Every keystore file in ``directory``, sorted by address."""
    entries = []
    for path in sorted(directory.glob("*.json")) if directory.is_dir() else []:
        try:
            address = json.loads(path.read_text())["address"]
        except (ValueError, KeyError, TypeError):
            continue  # not a keystore file: ignore, as geth does
        entries.append(KeystoreEntry(address=_checksum(address), path=path))
    return sorted(entries, key=lambda entry: entry.address.lower())


def load_keystore(path: Path, password: str, source: str = "given") -> LocalAccount:
    """Decrypt a keystore file; a wrong password or a damaged file is a ConfigError.

    ``source`` says where the password came from ("typed at the prompt", "from
    $DAOFED_PASSWORD"): a wrong one is fixed where it came from.
    """
    try:
        keyfile = json.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"no keystore at {path}: create one with `daofed account new`") from None
    except ValueError as error:
        raise ConfigError(f"{path} is not a keystore JSON file ({error})") from None
    try:
        key = Account.decrypt(keyfile, password)
    except ValueError:
        raise ConfigError(f"cannot unlock {path}: wrong password ({source})") from None
    account: LocalAccount = Account.from_key(key)
    return account


def read_password(password_file: Path | None) -> str | None:
    """Read the password from ``password_file`` or ``$DAOFED_PASSWORD``; None: prompt."""
    if password_file is not None:
        try:
            return password_file.read_text().rstrip("\r\n")
        except OSError as error:
            raise ConfigError(f"cannot read password file {password_file}: {error}") from None
    return os.environ.get(PASSWORD_ENV)


def _checksum(address: str) -> str:
    return str(Web3.to_checksum_address(address if address.startswith("0x") else "0x" + address))
