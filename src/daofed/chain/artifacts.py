"""The compiled contracts daofed ships, so that running it never needs a Solidity compiler.

``python -m daofed.chain.compile`` writes them from ``contracts/``; a test checks that a
fresh compile still gives the committed bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

from daofed.errors import ConfigError


@dataclass(frozen=True)
class ImmutableReference:
    """A place in the runtime code that holds an immutable's value.

    solc leaves these ``length`` bytes at ``start`` blank in ``deployedBytecode``; the
    constructor writes the value there, so code read from the chain differs from the
    artifact exactly at these places (see :mod:`daofed.audit.code`).
    """

    name: str  # the immutable's name in the source, e.g. ``_deploymentBlock``
    start: int  # byte offset in the runtime code
    length: int  # bytes (32: a value is stored as one word)


@dataclass(frozen=True)
class Artifact:
    """ABI and bytecode of one contract, and what they were compiled from and with."""

    contract_name: str
    abi: list[dict[str, Any]]
    bytecode: str  # 0x-prefixed creation code
    deployed_bytecode: str  # 0x-prefixed runtime code, immutables left blank
    immutable_references: tuple[ImmutableReference, ...]  # in order of ``start``
    compiler: dict[str, Any]  # solc version and settings
    source_hash: str  # sha256 over the sources, see daofed.chain.compile.source_hash

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Artifact:
        """Read the artifact file format (Hardhat-like camelCase keys)."""
        return cls(
            contract_name=data["contractName"],
            abi=data["abi"],
            bytecode=data["bytecode"],
            deployed_bytecode=data["deployedBytecode"],
            immutable_references=tuple(
                ImmutableReference(ref["name"], ref["start"], ref["length"])
                for ref in data["immutableReferences"]
            ),
            compiler=data["compiler"],
            source_hash=data["sourceHash"],
        )

    def to_json(self) -> dict[str, Any]:
        """Write the artifact file format."""
        return {
            "contractName": self.contract_name,
            "abi": self.abi,
            "bytecode": self.bytecode,
            "deployedBytecode": self.deployed_bytecode,
            "immutableReferences": [
                {"name": ref.name, "start": ref.start, "length": ref.length}
                for ref in self.immutable_references
            ],
            "compiler": self.compiler,
            "sourceHash": self.source_hash,
        }


def load_artifact(name: str = "Federation") -> Artifact:
    """Load the committed artifact of contract ``name`` from the package data."""
    resource = resources.files("daofed.chain") / "artifacts" / f"{name}.json"
    try:
        return Artifact.from_json(json.loads(resource.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise ConfigError(
            f"no compiled contract {name!r} in the daofed package: "
            "run `python -m daofed.chain.compile` in a source checkout, or reinstall daofed"
        ) from None
