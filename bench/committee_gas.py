"""Gas of the committee design's new contract work, measured on a sketch of it.

The design of :mod:`bench.committee` needs three things the contracts do not do yet:
commit a member's piece digests, check a member's position in a piece's committee (the
Feistel permutation of :class:`bench.committee.Draw`), and finalize a round from the K
piece digests (check every aggregator's commitment, compute the model's Merkle root).
:data:`SKETCH` does exactly that work and nothing else (no membership or phase checks),
so its gas is a floor for the real calls: docs/scaling.md adds today's per-transaction
checks to it. It runs on the embedded chain; the gas is exact.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_utils.crypto import keccak
from web3 import EthereumTesterProvider, Web3

from bench.committee import Draw, merkle_root
from daofed.chain.compile import compile_sources

SKETCH = """
// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

contract CommitteeSketch {
    bytes32[] private _commitments; // per member index: keccak256 of its piece digests

    event PiecesCommitted(uint64 indexed round, uint256 indexed member, bytes32[] digests);
    event ModelRoot(uint64 indexed round, bytes32 root);
    event PositionChecked(uint256 slot, uint256 member);

    constructor(uint256 members) {
        for (uint256 i = 0; i < members; ++i) _commitments.push(bytes32(uint256(1)));
    }

    /// Set every member's commitment at once: sets up finalize, is not measured.
    function preset(bytes32[] calldata commitments) external {
        for (uint256 i = 0; i < commitments.length; ++i) _commitments[i] = commitments[i];
    }

    function commitPieces(uint64 round, uint256 member, bytes32[] calldata digests) external {
        _commitments[member] = keccak256(abi.encodePacked(digests));
        emit PiecesCommitted(round, member, digests);
    }

    /// The member index at `position` of the permutation of `n` members keyed by `seed`.
    function position(bytes32 seed, uint256 n, uint256 slot) public pure returns (uint256) {
        uint256 bits = 1;
        while ((n - 1) >> bits != 0) ++bits;
        uint256 half = (bits + 1) / 2;
        uint256 mask = (1 << half) - 1;
        uint256 x = _feistel(seed, half, mask, slot % n);
        while (x >= n) x = _feistel(seed, half, mask, x);
        return x;
    }

    /// Revert unless `member` sits at `slot`; a transaction, so that its gas is measured.
    function checkPosition(bytes32 seed, uint256 n, uint256 slot, uint256 member) external {
        require(position(seed, n, slot) == member, "not in committee");
        emit PositionChecked(slot, member);
    }

    function finalize(uint64 round, bytes32[] calldata digests) external {
        uint256 n = _commitments.length;
        for (uint256 i = 0; i < n; ++i) {
            uint256 first = (i + n - (round % n)) % n; // pieces k with (k + round) % n == i
            uint256 count = first < digests.length ? (digests.length - first + n - 1) / n : 0;
            bytes32[] memory mine = new bytes32[](count);
            for (uint256 j = 0; j < count; ++j) mine[j] = digests[first + j * n];
            require(keccak256(abi.encodePacked(mine)) == _commitments[i], "commitment");
        }
        emit ModelRoot(round, _merkleRoot(digests));
    }

    function _feistel(bytes32 seed, uint256 half, uint256 mask, uint256 x)
        private
        pure
        returns (uint256)
    {
        uint256 left = x >> half;
        uint256 right = x & mask;
        for (uint8 r = 0; r < 8; ++r) {
            uint256 f = uint256(keccak256(abi.encodePacked(seed, r, uint64(right)))) & mask;
            (left, right) = (right, left ^ f);
        }
        return (left << half) | right;
    }

    function _merkleRoot(bytes32[] calldata leaves) private pure returns (bytes32) {
        bytes32[] memory level = leaves;
        uint256 size = level.length;
        while (size > 1) {
            uint256 next = 0;
            for (uint256 i = 0; i + 1 < size; i += 2) {
                level[next++] = sha256(abi.encodePacked(bytes1(0x01), level[i], level[i + 1]));
            }
            if (size % 2 == 1) level[next++] = level[size - 1];
            size = next;
        }
        return level[0];
    }
}
"""


@dataclass(frozen=True)
class SketchGas:
    """Gas of the sketch's calls (receipts: a transaction's 21,000 included)."""

    commit: dict[int, int]  # digests committed in one call -> gas
    position: dict[int, int]  # members -> gas of one committee-position check
    finalize: dict[tuple[int, int], int]  # (members, pieces) -> gas
    positions_match: bool  # the contract's permutation is bench.committee.Draw
    roots_match: bool  # the contract's Merkle roots are bench.committee.merkle_root


def deploy(w3: Web3, members: int) -> Any:
    """Compile and deploy the sketch with ``members`` member slots."""
    artifact = compile_sources({"CommitteeSketch.sol": SKETCH}, ["CommitteeSketch"])[
        "CommitteeSketch"
    ]
    factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    receipt = w3.eth.wait_for_transaction_receipt(factory.constructor(members).transact())
    return w3.eth.contract(address=receipt["contractAddress"], abi=artifact.abi)


def _receipt(w3: Web3, call: Any) -> Any:
    return w3.eth.wait_for_transaction_receipt(call.transact({"gas": 30_000_000}))


def digests_for(pieces: int) -> list[bytes]:
    """Return ``pieces`` distinct 32-byte digests."""
    return [hashlib.sha256(k.to_bytes(4, "big")).digest() for k in range(pieces)]


def measure_sketch(
    members: Sequence[int] = (100, 1000),
    pieces: Sequence[int] = (77, 1527),
    commit_sizes: Sequence[int] = (1, 2, 16, 153),
    round_number: int = 7,
) -> SketchGas:
    """Deploy the sketch on the embedded chain and measure each call's gas."""
    w3 = Web3(EthereumTesterProvider())
    w3.eth.default_account = w3.eth.accounts[0]
    seed = hashlib.sha256(b"seed").digest()
    commit: dict[int, int] = {}
    position: dict[int, int] = {}
    finalize: dict[tuple[int, int], int] = {}
    positions_match = roots_match = True
    for n in members:
        sketch = deploy(w3, n)
        draw = Draw(seed, n)
        slots = range(0, 4 * n, max(1, n // 8))
        found = [sketch.functions.position(seed, n, slot).call() for slot in slots]
        positions_match &= found == [draw(slot) for slot in slots]
        slot = 3 * n // 4
        position[n] = _gas(_receipt(w3, sketch.functions.checkPosition(seed, n, slot, draw(slot))))
        for k in pieces:
            digests = digests_for(k)
            mine = [digests[(i - round_number) % n :: n] for i in range(n)]
            _receipt(w3, sketch.functions.preset([keccak(b"".join(d)) for d in mine]))
            receipt = _receipt(w3, sketch.functions.finalize(round_number, digests))
            finalize[n, k] = _gas(receipt)
            (event,) = sketch.events.ModelRoot().process_receipt(receipt)
            roots_match &= event["args"]["root"] == merkle_root(digests)
        for size in commit_sizes:
            call = sketch.functions.commitPieces(round_number, 0, digests_for(size))
            commit.setdefault(size, _gas(_receipt(w3, call)))
    return SketchGas(commit, position, finalize, positions_match, roots_match)


def _gas(receipt: Any) -> int:
    return int(receipt["gasUsed"])


def report(gas: SketchGas) -> str:
    """Tabulate the measured gas as Markdown, with the per-piece and per-member slopes."""
    lines = ["| call | size | gas |", "|---|---|---|"]
    lines += [
        f"| commitPieces | {k} digest{'' if k == 1 else 's'} | {g:,} |"
        for k, g in sorted(gas.commit.items())
    ]
    lines += [f"| checkPosition | {n} members | {g:,} |" for n, g in sorted(gas.position.items())]
    lines += [
        f"| finalize | {n} members, {k} pieces | {g:,} |"
        for (n, k), g in sorted(gas.finalize.items())
    ]
    (n0, n1), (k0, k1) = (sorted({key[i] for key in gas.finalize}) for i in (0, 1))
    per_member = (gas.finalize[n1, k0] - gas.finalize[n0, k0]) / (n1 - n0)
    per_piece = (gas.finalize[n0, k1] - gas.finalize[n0, k0]) / (k1 - k0)
    lines += [
        "",
        f"finalize: {per_member:,.0f} gas per member, {per_piece:,.0f} per piece. "
        f"Positions match bench.committee.Draw: {gas.positions_match}; "
        f"Merkle roots match bench.committee.merkle_root: {gas.roots_match}.",
    ]
    return "\n".join(lines)


def main() -> int:
    """Measure the sketch at the plan's sizes and print the table."""
    print(report(measure_sketch()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
