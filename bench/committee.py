"""Chunked updates checked by small committees: the design of docs/scaling.md, run for real.

Today every member fetches and aggregates all N updates, so its cost grows with N. For a
coordinate-wise rule (FedAvg, median, trimmed mean) coordinate j of the aggregate depends
only on coordinate j of the updates, so the model can be cut into pieces that are
aggregated and checked independently:

1. Every member flattens its update (tensors in name order, C order), cuts it into pieces
   of :func:`piece_length` values, encodes each piece with the canonical codec and puts
   it in the store. It submits the Merkle root of the pieces' sha256 digests
   (:func:`merkle_root`) where it submits its update's digest today.
2. Piece k of round r's aggregate is computed by member (k + r) mod N
   (:func:`aggregator`), which commits the piece's digest on chain.
3. Once every aggregate piece is committed, a second seed draws a committee of c members
   per piece. Each recomputes its pieces from the N members' pieces (each verified
   against the member's root) and disputes any piece whose digest differs. A disputed
   piece goes to a vote of every member, as a whole aggregate does today.

A wrong piece is accepted only if its aggregator and its whole committee collude:
:func:`all_colluding` gives the chance that a committee is all colluders.
:func:`run_round` plays one such round on real updates with the real codec and rules.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
from eth_utils.crypto import keccak
from numpy.typing import NDArray

from daofed.learning.aggregation import AggregationRule, MemberUpdate
from daofed.storage import ModelSpec, TensorSpec, Weights, decode, encode

PIECE = "piece"
"""The one tensor a piece blob holds."""

IPFS_BLOCK = 256 * 1024
"""A blob of at most this many bytes is one raw IPFS block: its CID is its sha256."""

_ALIGN = 16
_ROUNDS = 8


def piece_spec(length: int) -> ModelSpec:
    """Describe the layout a piece of ``length`` float32 values must have to be accepted."""
    return ModelSpec((TensorSpec(PIECE, (length,), "float32"),))


def piece_length(limit: int = IPFS_BLOCK) -> int:
    """Count the float32 values (a multiple of 16) whose encoded piece fits ``limit`` bytes.

    With the default, every piece is one IPFS block, so its CID follows from its digest
    and a member's list of piece digests is all anyone needs to fetch its pieces.
    """
    length = (limit // 4) // _ALIGN * _ALIGN
    while piece_spec(length).encoded_size > limit:
        length -= _ALIGN
    return length


def flatten(weights: Mapping[str, NDArray[Any]]) -> NDArray[np.float32]:
    """All tensors as one float32 vector: names sorted, each in C order."""
    return np.concatenate(
        [np.asarray(weights[name], np.float32).ravel() for name in sorted(weights)]
    )


def unflatten(flat: NDArray[np.float32], like: Mapping[str, NDArray[Any]]) -> Weights:
    """Cut ``flat`` back into tensors shaped like ``like`` (the inverse of :func:`flatten`)."""
    result: Weights = {}
    offset = 0
    for name in sorted(like):
        shape = np.shape(like[name])
        size = math.prod(shape)
        result[name] = flat[offset : offset + size].reshape(shape)
        offset += size
    return result


def pieces_of(flat: NDArray[np.float32], length: int) -> list[NDArray[np.float32]]:
    """Consecutive slices of ``length`` values; the last one may be shorter."""
    return [flat[start : start + length] for start in range(0, flat.size, length)]


def encode_piece(values: NDArray[np.float32]) -> bytes:
    """Canonical safetensors bytes of one piece."""
    return encode({PIECE: values})


def decode_piece(blob: bytes, length: int) -> NDArray[np.float32]:
    """Decode and validate one piece of ``length`` values (strict, like any update)."""
    return decode(blob, piece_spec(length))[PIECE]


def merkle_root(leaves: Sequence[bytes]) -> bytes:
    """sha256 Merkle root of ``leaves`` (digests), with a proof of log2(len) nodes per leaf.

    Interior nodes hash ``0x01 || left || right`` so that no node can pass for a leaf
    digest; a level's odd last node moves up unchanged.
    """
    if not leaves:
        raise ValueError("a Merkle tree needs at least one leaf")
    level = list(leaves)
    while len(level) > 1:
        pairs = [b"\x01" + level[i] + level[i + 1] for i in range(0, len(level) - 1, 2)]
        carry = [level[-1]] if len(level) % 2 else []
        level = [hashlib.sha256(pair).digest() for pair in pairs] + carry
    return level[0]


class Draw:
    """A keyed pseudo-random permutation of the member indices ``0 .. n-1``.

    An 8-round Feistel network on the smallest even number of bits that holds n, with
    keccak256(seed, round as one byte, half as uint64) as round function (what a contract
    computes cheapest), walking the cycle until the value falls below n. A contract
    checks one position with 8 to about 32 hashes on average, whatever n;
    consecutive positions name distinct members, and every member gets the same number
    of positions (to within one) in any n consecutive ones.
    """

    def __init__(self, seed: bytes, n: int) -> None:
        if n < 1:
            raise ValueError("a draw needs at least one member")
        self._seed = seed
        self._n = n
        self._half = max(1, math.ceil(max(1, (n - 1).bit_length()) / 2))
        self._mask = (1 << self._half) - 1

    def _round(self, index: int, value: int) -> int:
        data = self._seed + bytes([index]) + value.to_bytes(8, "big")
        return int.from_bytes(keccak(data), "big") & self._mask

    def _feistel(self, x: int) -> int:
        left, right = x >> self._half, x & self._mask
        for index in range(_ROUNDS):
            left, right = right, left ^ self._round(index, right)
        return (left << self._half) | right

    def __call__(self, position: int) -> int:
        """Return the member index at ``position`` (taken modulo n)."""
        x = self._feistel(position % self._n)
        while x >= self._n:
            x = self._feistel(x)
        return x

    def committee(self, piece: int, size: int) -> tuple[int, ...]:
        """Return the ``size`` distinct members at positions ``piece*size`` onwards."""
        if not 1 <= size <= self._n:
            raise ValueError(f"a committee of {size} needs 1 to {self._n} members")
        return tuple(self(piece * size + j) for j in range(size))


def all_colluding(n: int, f: int, c: int) -> float:
    """Chance that c members drawn without replacement from n are all among f colluders.

    Hypergeometric: C(f, c) / C(n, c), exactly, in rational arithmetic.
    """
    _check_draw(n, f, c)
    return float(Fraction(math.comb(f, c), math.comb(n, c)))


def majority_colluding(n: int, f: int, c: int) -> float:
    """Chance that at least half of c members drawn from n are colluders (no dispute path)."""
    _check_draw(n, f, c)
    total = math.comb(n, c)
    hits = sum(math.comb(f, k) * math.comb(n - f, c - k) for k in range(math.ceil(c / 2), c + 1))
    return float(Fraction(hits, total))


def _check_draw(n: int, f: int, c: int) -> None:
    if not (0 <= f <= n and 1 <= c <= n):
        raise ValueError(f"need 0 <= f <= n and 1 <= c <= n, got n={n}, f={f}, c={c}")


def union_bound(p: float, pieces: int, seeds: int = 1) -> float:
    """Bound on any of ``pieces`` being accepted wrong, when one of ``seeds`` may be chosen."""
    return min(1.0, p * pieces * seeds)


@dataclass(frozen=True)
class Submission:
    """One member's chunked update: pieces in the store, the root on chain."""

    member: str
    num_samples: int
    size: int  # values in the whole update
    blobs: tuple[bytes, ...]
    digests: tuple[bytes, ...]
    root: bytes


def submit(update: MemberUpdate, length: int) -> Submission:
    """Cut, encode and hash ``update`` the way a member would before submitting."""
    flat = flatten(update.delta)
    blobs = tuple(encode_piece(p) for p in pieces_of(flat, length))
    digests = tuple(hashlib.sha256(blob).digest() for blob in blobs)
    root = merkle_root(digests)
    return Submission(update.member, update.num_samples, flat.size, blobs, digests, root)


@dataclass
class Ledger:
    """What one member fetched and computed in a round."""

    pieces_fetched: int = 0
    bytes_fetched: int = 0
    pieces_aggregated: int = 0


def aggregate_piece(
    rule: AggregationRule,
    submissions: Sequence[Submission],
    piece: int,
    length: int,
    ledger: Ledger,
) -> bytes:
    """Fetch piece ``piece`` of every submission, verify and decode it, aggregate, encode.

    Each fetched piece is checked against its digest in the member's manifest (whose
    root :func:`check_manifests` checked), as a verifier must before trusting it.
    """
    updates = []
    for sub in submissions:
        blob = sub.blobs[piece]
        if hashlib.sha256(blob).digest() != sub.digests[piece]:
            raise ValueError(f"piece {piece} of {sub.member} does not match its digest")
        values = decode_piece(blob, min(length, sub.size - piece * length))
        updates.append(MemberUpdate(sub.member, sub.num_samples, {PIECE: values}))
        ledger.pieces_fetched += 1
        ledger.bytes_fetched += len(blob)
    ledger.pieces_aggregated += 1
    return encode_piece(rule.aggregate(updates)[PIECE])


def check_manifests(submissions: Sequence[Submission]) -> None:
    """Check every member's list of piece digests against the root it submitted."""
    for sub in submissions:
        if merkle_root(sub.digests) != sub.root:
            raise ValueError(f"the piece digests of {sub.member} do not match its root")


def _piece_size(blob: bytes) -> int:
    """Values in a canonical piece blob: what follows its header, in float32."""
    header = int.from_bytes(blob[:8], "little")
    return (len(blob) - 8 - header) // 4


@dataclass(frozen=True)
class RoundResult:
    """What a chunked round accepted and what it cost each member."""

    aggregate: NDArray[np.float32]  # the accepted pieces joined
    aggregators: tuple[int, ...]  # member index per piece
    committees: tuple[tuple[int, ...], ...]  # member indices per piece
    disputed: tuple[int, ...]  # pieces an honest committee member disputed
    wrong_accepted: tuple[int, ...]  # pieces accepted with a digest the rule does not give
    ledgers: tuple[Ledger, ...]  # per member, in member order


def aggregator(piece: int, round_number: int, n: int) -> int:
    """Return the member index that aggregates ``piece`` in round ``round_number``.

    A rotation, not a draw: knowing in advance which pieces it aggregates gains a
    colluder nothing, since the committee that checks them is drawn after it commits.
    """
    return (piece + round_number) % n


def run_round(
    rule: AggregationRule,
    updates: Sequence[MemberUpdate],
    length: int,
    committee_size: int,
    seed: bytes,
    colluders: frozenset[int] = frozenset(),
    round_number: int = 1,
) -> RoundResult:
    """Play one chunked round: submit, aggregate per piece, draw committees, check, dispute.

    Members are indexed in sorted-address order. A colluding aggregator commits a wrong
    piece (every one it aggregates); colluding committee members never dispute; every
    honest committee member recomputes its pieces and disputes a mismatch. A disputed
    piece is settled by every member recomputing it (the whole federation's vote).
    """
    ordered = sorted(updates, key=lambda u: u.member.lower())
    n = len(ordered)
    submissions = [submit(u, length) for u in ordered]
    check_manifests(submissions)
    pieces = len(submissions[0].blobs)
    ledgers = tuple(Ledger() for _ in range(n))
    aggregators = tuple(aggregator(k, round_number, n) for k in range(pieces))
    committed: list[bytes] = []
    correct: list[bytes] = []
    for k in range(pieces):
        who = aggregators[k]
        blob = aggregate_piece(rule, submissions, k, length, ledgers[who])
        correct.append(blob)
        committed.append(_tampered(blob) if who in colluders else blob)
    # The committees' seed is fixed only after every aggregate piece is committed.
    commitment = merkle_root([hashlib.sha256(blob).digest() for blob in committed])
    draw = Draw(hashlib.sha256(seed + commitment).digest(), n)
    committees = tuple(draw.committee(k, min(committee_size, n)) for k in range(pieces))
    disputed = []
    accepted = list(committed)
    for k, members in enumerate(committees):
        honest = [m for m in members if m not in colluders]
        checks = [aggregate_piece(rule, submissions, k, length, ledgers[m]) for m in honest]
        if any(check != committed[k] for check in checks):
            disputed.append(k)
            for m in range(n):  # the dispute: every other honest member recomputes it too
                if m not in colluders and m not in honest:
                    aggregate_piece(rule, submissions, k, length, ledgers[m])
            accepted[k] = checks[0]  # the honest digest, which an honest quorum votes for
    wrong = tuple(k for k in range(pieces) if accepted[k] != correct[k])
    joined = np.concatenate([decode_piece(b, _piece_size(b)) for b in accepted])
    return RoundResult(joined, aggregators, committees, tuple(disputed), wrong, ledgers)


def _tampered(blob: bytes) -> bytes:
    """Nudge a piece's first value: still well-formed, but not the rule's output."""
    values = decode_piece(blob, _piece_size(blob)).copy()
    values[0] = np.nextafter(values[0], np.float32(np.inf))
    return encode_piece(values)
