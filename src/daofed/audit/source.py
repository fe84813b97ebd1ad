"""Find the federation to audit: a deployment file, or just an RPC URL and an address.

An auditor who is not a member has no deployment file; the contract address and any node
serving the chain are enough to read the history (the deploy block is read from the
contract). The blob store is only needed to verify, evaluate and plot.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from daofed.chain import Federation, connect
from daofed.chain.checks import check_address
from daofed.chain.deployment import DEFAULT_DEPLOYMENT_FILE
from daofed.errors import ConfigError
from daofed.session import open_session
from daofed.storage import BlobStore, open_store


@dataclass(frozen=True)
class AuditSource:
    """The federation's contract and, when known, the blob store its members use."""

    federation: Federation
    store: BlobStore | None

    def require_store(self, why: str) -> BlobStore:
        """Return the store, or say how to name one (``why``: what needs it)."""
        if self.store is None:
            raise ConfigError(
                f"{why} needs the federation's blob store: pass --store local:DIR or "
                "--store ipfs:URL (or a deployment file that names it)"
            )
        return self.store


def open_source(
    *,
    deployment: Path | None = None,
    rpc_url: str | None = None,
    contract: str | None = None,
    store: str | None = None,
) -> AuditSource:
    """Open the federation at ``contract`` via ``rpc_url``, else the one ``deployment`` names.

    With ``contract`` no deployment file is read (a chain this daofed did not write);
    without it ``deployment`` (default ``daofed.toml``) is, and ``rpc_url``/``store``
    override what it says.
    """
    if contract is not None:
        if rpc_url is None:
            raise ConfigError(
                "--contract needs --rpc-url: the JSON-RPC URL of a node serving that chain"
            )
        address = check_address(contract, "a contract address")  # before a slow connect
        federation = Federation.at(connect(rpc_url), address)
        return AuditSource(federation, open_store(store) if store is not None else None)
    session = open_session(deployment or DEFAULT_DEPLOYMENT_FILE, rpc_url=rpc_url, store=store)
    return AuditSource(session.federation, session.store)
