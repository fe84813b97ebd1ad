"""A deployed federation, opened: the chain contract and the blob store it names.

Every command after ``daofed deploy`` starts from the deployment file; this is the one
place that turns it into live objects, checking that the contract is the one this daofed
speaks before anything is sent to it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from daofed.chain import Federation, connect, load_artifact
from daofed.chain.deployment import Deployment
from daofed.errors import ConfigError
from daofed.storage import BlobStore, open_store


@dataclass(frozen=True)
class FederationSession:
    """The deployment, its contract wrapper and its blob store."""

    deployment: Deployment
    federation: Federation
    store: BlobStore


def abi_version() -> str:
    """Identify the contract ABI this daofed speaks: a hash of the canonical ABI JSON.

    Hashing the ABI rather than the sources means a comment or an internal change keeps
    existing deployments usable, while any change a client could notice does not.
    """
    canonical = json.dumps(load_artifact().abi, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def open_session(
    deployment_file: Path, *, rpc_url: str | None = None, store: str | None = None
) -> FederationSession:
    """Open the federation a deployment file describes (optionally via another RPC/store)."""
    deployment = Deployment.load(deployment_file).with_rpc_url(rpc_url)
    if deployment.abi_version != abi_version():
        raise ConfigError(
            f"{deployment_file} was deployed with contract ABI {deployment.abi_version}, this "
            f"daofed speaks {abi_version()}: use the daofed version that deployed it"
        )
    w3 = connect(deployment.rpc_url)
    if w3.eth.chain_id != deployment.chain_id:
        raise ConfigError(
            f"{deployment.rpc_url} serves chain id {w3.eth.chain_id}, but {deployment_file} "
            f"is for chain id {deployment.chain_id}: check the RPC URL"
        )
    federation = Federation.at(w3, deployment.contract, deployment.deploy_block)
    return FederationSession(deployment, federation, open_store(store or deployment.store))
