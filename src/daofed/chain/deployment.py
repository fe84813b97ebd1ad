"""The deployment file: where a federation lives, read by every command after ``deploy``.

A small TOML file a member can commit, mail or diff: chain id, RPC URL, contract address,
the block it was deployed in (where event queries start), the ABI version (so a newer
daofed refuses a contract it does not speak) and the blob store the members share.
"""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import tomli_w

from daofed.errors import ConfigError

DEFAULT_DEPLOYMENT_FILE = Path("daofed.toml")


@dataclass(frozen=True)
class Deployment:
    """Everything a member or an auditor needs to find a federation."""

    chain_id: int
    rpc_url: str
    contract: str
    deploy_block: int
    abi_version: str
    store: str

    def with_rpc_url(self, rpc_url: str | None) -> Deployment:
        """Reach the same deployment through another RPC URL (e.g. a member's own node)."""
        return self if rpc_url is None else replace(self, rpc_url=rpc_url)

    def save(self, path: Path) -> None:
        """Write the file (atomically, so a crash never leaves half a deployment file)."""
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(tomli_w.dumps({"federation": asdict(self)}))
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> Deployment:
        """Read a deployment file, saying exactly what is missing or wrong."""
        try:
            table = tomllib.loads(path.read_text())["federation"]
        except FileNotFoundError:
            raise ConfigError(
                f"no deployment file at {path}: run `daofed deploy` first, pass --deployment "
                "FILE, or name any federation with --rpc-url URL --contract ADDRESS (audit, "
                "status, members, explorer)"
            ) from None
        except (tomllib.TOMLDecodeError, KeyError) as error:
            raise ConfigError(f"{path} is not a daofed deployment file ({error})") from None
        try:
            return cls(**table)
        except TypeError as error:
            raise ConfigError(f"{path}: {error}") from None
