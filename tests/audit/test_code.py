"""check_code: the runtime code at the address must be the shipped Federation's."""

from __future__ import annotations

import dataclasses

from daofed.audit import check_code
from daofed.audit.code import DEPLOYMENT_BLOCK, compare_code
from daofed.chain import Federation, load_artifact

from .scenario import Scenario


def deployed_code(federation: Federation) -> bytes:
    return bytes(federation.w3.eth.get_code(federation.address))


def test_a_deployed_federation_is_the_shipped_one(scenario: Scenario) -> None:
    federation = scenario.federation
    check = check_code(federation, federation.w3.eth.block_number)
    assert check.ok and check.problem is None
    assert check.deployed_block == check.history_block == federation.deploy_block
    artifact = load_artifact("Federation")
    assert check.message == (
        f"runtime code at {federation.address} is the shipped Federation (solc 0.8.37, "
        f"sources sha256 {artifact.source_hash})"
    )


def test_only_the_immutables_may_differ_from_the_artifact(scenario: Scenario) -> None:
    artifact = load_artifact("Federation")
    (ref,) = artifact.immutable_references
    assert ref.name == DEPLOYMENT_BLOCK and ref.length == 32
    code = deployed_code(scenario.federation)
    assert code != bytes.fromhex(artifact.deployed_bytecode[2:])  # the constructor wrote there
    problem, immutables = compare_code(code, artifact)
    assert problem is None
    assert immutables == {DEPLOYMENT_BLOCK: scenario.federation.deploy_block.to_bytes(32, "big")}

    flipped = bytearray(code)
    flipped[ref.start - 1] ^= 0xFF
    assert compare_code(bytes(flipped), artifact) == (
        f"its runtime code differs from the shipped one from byte {ref.start - 1} on",
        {},
    )
    assert compare_code(code[:-1], artifact)[0] == (
        f"its runtime code is {len(code) - 1} bytes long, the shipped one {len(code)}"
    )
    assert compare_code(b"", artifact)[0] == "there is no contract code there"


def test_an_immutable_referenced_twice_must_hold_one_value(scenario: Scenario) -> None:
    """solc writes an immutable at each place that reads it: they cannot disagree."""
    artifact = load_artifact("Federation")
    (ref,) = artifact.immutable_references
    other = dataclasses.replace(ref, start=ref.start + 64)  # pretend a second reference
    code = bytearray(deployed_code(scenario.federation))
    code[other.start : other.start + 32] = (10**6).to_bytes(32, "big")
    pretended = dataclasses.replace(
        artifact,
        deployed_bytecode="0x" + bytes(code).hex(),
        immutable_references=(ref, other),
    )
    assert compare_code(bytes(code), pretended)[0] == (
        f"its immutable {DEPLOYMENT_BLOCK} holds 2 different values"
    )


def test_a_history_read_from_another_block_than_the_deployment_is_refused(
    scenario: Scenario,
) -> None:
    real = scenario.federation
    moved = Federation(real.w3, real.address, real.deploy_block + 1)
    check = check_code(moved, real.w3.eth.block_number)
    assert not check.ok and check.problem is None  # the code is right, the start is not
    assert check.message.endswith(
        f", deployed in block {real.deploy_block}, but the history was read from block "
        f"{real.deploy_block + 1} on: omit the deploy block (or correct the deployment file) "
        "to read it from the contract"
    )
