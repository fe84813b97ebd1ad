"""Check that the code at the audited address is the Federation this daofed ships.

Any contract can emit well-formed Federation events, so the events prove nothing until
the code that emitted them is known. The runtime code at the address (``eth_getCode`` at
the history's snapshot block) must equal the shipped artifact's ``deployedBytecode`` byte
for byte, except where the constructor wrote immutables (solc's ``immutableReferences``,
kept in the artifact). Each immutable must hold one value everywhere it is referenced, and
``_deploymentBlock`` must be the block the history's events were read from.

What this cannot see: the creation code that ran (it is not stored on chain), so the
initial members, config and genesis are known only from the events of the deployment
block; the round rules re-checked from the events (:mod:`.rules`) and the governance
re-check (:mod:`.governance`) cover what a different constructor could have set up. And
the node that answers ``eth_getCode`` is trusted as much as for the events: audit through
a node you run, or compare two.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_utils.address import to_checksum_address

from daofed.chain import Artifact, Federation, load_artifact
from daofed.chain.tx import rpc_errors

DEPLOYMENT_BLOCK = "_deploymentBlock"
"""The immutable holding the deploy block; ``deploymentBlock()`` returns it."""


@dataclass(frozen=True)
class CodeCheck:
    """The runtime code at ``address`` compared with the shipped artifact of ``contract``."""

    address: str
    block: int  # the code was read as of this block
    contract: str
    compiler: str  # solc version the artifact was compiled with, e.g. "0.8.37"
    source_hash: str  # sha256 over the contract sources, see daofed.chain.compile
    problem: str | None  # why the code is not the shipped contract; None: it is
    deployed_block: int | None  # the block its code says it was deployed in (if it is)
    history_block: int  # the block the audited history starts at

    @property
    def ok(self) -> bool:
        """Whether the code is the shipped contract, deployed where the history starts."""
        return self.problem is None and self.deployed_block == self.history_block

    @property
    def message(self) -> str:
        """One sentence saying what the code is, or why it is not the shipped contract."""
        if self.problem is not None:
            return (
                f"the code at {self.address} is not the daofed {self.contract} this version "
                f"ships: {self.problem}"
            )
        shipped = (
            f"runtime code at {self.address} is the shipped {self.contract} "
            f"(solc {self.compiler}, sources sha256 {self.source_hash})"
        )
        if self.ok:
            return shipped
        return (
            f"{shipped}, deployed in block {self.deployed_block}, but the history was read "
            f"from block {self.history_block} on: omit the deploy block (or correct the "
            "deployment file) to read it from the contract"
        )


def check_code(federation: Federation, block: int) -> CodeCheck:
    """Compare the code at ``federation``'s address as of ``block`` with the shipped artifact."""
    artifact = load_artifact("Federation")
    address = to_checksum_address(federation.address)
    with rpc_errors(federation.w3, f"reading the code at {address}"):
        code = bytes(federation.w3.eth.get_code(address, block))
    problem, immutables = compare_code(code, artifact)
    deployed = immutables.get(DEPLOYMENT_BLOCK)
    return CodeCheck(
        address=address,
        block=block,
        contract=artifact.contract_name,
        compiler=str(artifact.compiler["version"]).split("+")[0],
        source_hash=artifact.source_hash,
        problem=problem,
        deployed_block=None if deployed is None else int.from_bytes(deployed, "big"),
        history_block=federation.deploy_block,
    )


def compare_code(code: bytes, artifact: Artifact) -> tuple[str | None, dict[str, bytes]]:
    """Compare runtime ``code`` with ``artifact``'s, immutables masked.

    Returns why it differs (None: it does not) and, when it does not, each immutable's value.
    """
    expected = bytes.fromhex(artifact.deployed_bytecode.removeprefix("0x"))
    if not code:
        return "there is no contract code there", {}
    if len(code) != len(expected):
        return f"its runtime code is {len(code)} bytes long, the shipped one {len(expected)}", {}
    masked = bytearray(code)
    values: dict[str, set[bytes]] = {}
    for ref in artifact.immutable_references:
        end = ref.start + ref.length
        values.setdefault(ref.name, set()).add(code[ref.start : end])
        masked[ref.start : end] = expected[ref.start : end]
    if masked != expected:
        first = next(i for i, (a, b) in enumerate(zip(masked, expected, strict=True)) if a != b)
        return f"its runtime code differs from the shipped one from byte {first} on", {}
    for name, seen in values.items():
        if len(seen) > 1:
            return f"its immutable {name} holds {len(seen)} different values", {}
    return None, {name: seen.pop() for name, seen in values.items()}
