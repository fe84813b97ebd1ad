"""What one round costs each member at 10 to 1,000 members: ``python -m bench.scaling``.

Measures the unit costs on this machine (the aggregation rules through their public API
on N updates of one piece's length, the canonical codec, sha256), then computes from
them, per member and round, the bytes moved, the CPU seconds and the gas of

- *full replication*, today's protocol: every member fetches, checks and aggregates all
  N updates and votes for the aggregate;
- *committees*, the design of :mod:`bench.committee`: a member aggregates about K/N of
  the K pieces and checks about cK/N more, each from N members' pieces.

It also prints the chance that a wrong piece is accepted (every member of its committee
colluding), exactly and by Monte Carlo over the real committee draw. ``--quick`` uses
small sizes; docs/scaling.md quotes a full run.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import math
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from bench.committee import (
    Draw,
    all_colluding,
    decode_piece,
    encode_piece,
    majority_colluding,
    piece_length,
    union_bound,
)
from bench.machine import Machine, describe_machine
from bench.models import LARGE, SMALL, parameter_count, synthetic_delta
from daofed.learning.aggregation import AggregationRule, MemberUpdate, parse_rule
from daofed.learning.model import ModelConfig

T = TypeVar("T")

MODELS = {"5M": 5_007_210, "100M": 100_000_000}
"""Parameters of the two model sizes planned for (5M: the benchmarks' MLP)."""

MEMBERS = (10, 100, 1000)
RULES = ("fedavg", "median", "trimmed-mean:beta=0.2", "multi-krum:f=1,m=3")
COORDINATE_WISE = RULES[:3]
"""Rules whose output at one coordinate depends only on the updates at that coordinate."""

COMMITTEES = (5, 10, 20, 40)
PROBABILITY_MEMBERS = (100, 1000)
COLLUDING = (0.10, 0.20, 0.33)
PLAN_COMMITTEES = (20, 40)
"""The committee sizes the cost tables use (see the probability tables for why)."""

GRINDING_SEEDS = 2**16
"""Seeds an adversary is assumed able to choose among when biasing the draw (see the doc)."""

LINK_BITS_PER_S = 1e9
"""A 1 Gbit/s link, to turn bytes into seconds for scale."""

# Gas measured on anvil (docs/benchmarks.md), independent of N.
SUBMIT_GAS = 41_265
VOTE_GAS = 41_195  # a later vote for a (digest, CID) pair
FIRST_VOTE_GAS = 58_295  # the first vote for a pair
FINAL_VOTE_GAS = 145_106  # the vote that reaches quorum and opens the next round

# The committee design's new calls, from the work measured on the contract sketch of
# bench.committee_gas (python -m bench.committee_gas; the embedded chain, exact gas) plus
# the membership and phase checks today's calls pay. Committing adds 790 to 1,210 gas per
# digest (calldata, the event, hashing into the member's commitment; more per digest as
# memory grows), on top of a transaction like a later vote. Finalizing costs 3,217 per
# member (rehashing its pieces against its stored commitment) and 2,034 per piece
# (calldata, the sha256 Merkle root) on top of today's finalizing vote, which opens the
# next round. An attestation is an event with one hash after the usual checks.
PIECE_COMMIT_GAS = 1_200
ATTEST_GAS = 30_000
FINALIZE_PIECE_GAS = 2_000
FINALIZE_MEMBER_GAS = 3_300


@dataclass(frozen=True)
class UnitCosts:
    """CPU costs measured on this machine, in seconds (process CPU time, best of repeats)."""

    machine: Machine
    date: str  # when the measurement began, UTC
    piece_length: int  # float32 values per piece
    piece_bytes: int  # an encoded full piece
    sha256_per_byte: float
    encode_per_byte: float
    decode_per_byte: float  # strict decode: parse, layout checks, finiteness
    aggregate: dict[tuple[str, int], float]  # (rule, N) -> seconds for N pieces
    extrapolated: frozenset[tuple[str, int]]  # entries scaled from a smaller N, not run

    def per_value_ns(self, rule: str, n: int) -> float:
        """Return aggregation nanoseconds per input value (N values per coordinate)."""
        return self.aggregate[rule, n] / (n * self.piece_length) * 1e9


def cpu_best(call: Callable[[], T], repeats: int) -> tuple[float, T]:
    """Least process CPU time of ``repeats`` calls (noise only adds), and the last result."""
    best = math.inf
    result: T
    for _ in range(max(1, repeats)):
        start = time.process_time()
        result = call()
        best = min(best, time.process_time() - start)
    return best, result


def piece_updates(n: int, length: int, seed: int = 0) -> list[MemberUpdate]:
    """``n`` members' pieces of ``length`` random float32 values (cost ignores the values)."""
    rng = np.random.default_rng(seed)
    return [
        MemberUpdate(
            f"0x{i + 1:040x}",
            100 + i,
            {"piece": rng.standard_normal(length, dtype=np.float32) * np.float32(0.01)},
        )
        for i in range(n)
    ]


def measure_unit_costs(
    members: Sequence[int],
    length: int,
    repeats: int,
    rules: Sequence[str] = RULES,
    pairwise_limit: int = 100,
    progress: Callable[[str], None] = lambda _m: None,
) -> UnitCosts:
    """Time the codec, sha256 and every rule on N pieces of ``length`` values.

    Multi-Krum compares every pair of updates: above ``pairwise_limit`` members it is not
    run but scaled from the largest N run by the number of pairs, and marked so.
    """
    date = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    sample = piece_updates(64, length, seed=1)
    arrays = [u.delta["piece"] for u in sample]
    encode_s, blobs = cpu_best(lambda: [encode_piece(a) for a in arrays], repeats)
    total = sum(len(b) for b in blobs)
    sha_s, _ = cpu_best(lambda: [hashlib.sha256(b).digest() for b in blobs], repeats)
    decode_s, _ = cpu_best(lambda: [decode_piece(b, length) for b in blobs], repeats)
    for spec in rules:  # compiled kernels compile on their first call: not a round's cost
        rule = parse_rule(spec)
        rule.aggregate(piece_updates(max(rule.min_updates, 2), 64))
    aggregate: dict[tuple[str, int], float] = {}
    extrapolated: set[tuple[str, int]] = set()
    for n in sorted(members):
        updates = piece_updates(n, length)
        for spec in rules:
            pairwise = spec.startswith(("krum", "multi-krum"))
            if pairwise and n > pairwise_limit:
                ran = max(m for (s, m) in aggregate if s == spec)
                aggregate[spec, n] = aggregate[spec, ran] * (n * (n - 1)) / (ran * (ran - 1))
                extrapolated.add((spec, n))
                continue
            progress(f"{spec} on {n} pieces of {length} values")
            aggregate[spec, n] = _aggregate_seconds(parse_rule(spec), updates, repeats)
        del updates  # free the N pieces before building the next N
    return UnitCosts(
        describe_machine(),
        date,
        length,
        len(blobs[0]),
        sha_s / total,
        encode_s / total,
        decode_s / total,
        aggregate,
        frozenset(extrapolated),
    )


def _aggregate_seconds(rule: AggregationRule, updates: list[MemberUpdate], repeats: int) -> float:
    seconds, _ = cpu_best(lambda: rule.aggregate(updates), repeats)
    return seconds


@dataclass(frozen=True)
class WholeModelCheck:
    """A rule on N whole updates of a real model, against the cost the pieces predict."""

    rule: str
    members: int
    parameters: int
    measured_s: float
    predicted_s: float  # pieces of the model x the rule's cost on one piece


def check_whole_model(
    units: UnitCosts, cfg: ModelConfig, members: int, repeats: int, rules: Sequence[str] = RULES
) -> tuple[WholeModelCheck, ...]:
    """Run each rule on ``members`` whole updates of the MLP ``cfg``, to test the piece model.

    The cost tables scale the cost of one piece by the number of pieces; this measures
    how far that is from aggregating the whole model at once, as members do today.
    """
    updates = [
        MemberUpdate(f"0x{i + 1:040x}", 100 + i, synthetic_delta(cfg, seed=i))
        for i in range(members)
    ]
    params = parameter_count(cfg)
    return tuple(
        WholeModelCheck(
            spec,
            members,
            params,
            _aggregate_seconds(parse_rule(spec), updates, repeats),
            math.ceil(params / units.piece_length) * units.aggregate[spec, members],
        )
        for spec in rules
    )


@dataclass(frozen=True)
class MemberRound:
    """One member's cost in one round (averaged over members where roles differ)."""

    committee: int | None  # members checking each piece; None: full replication
    model: str
    members: int
    rule: str
    down_bytes: float
    up_bytes: float
    verify_s: float  # sha256 and strict decoding of what was fetched
    aggregate_s: float
    encode_s: float
    held_bytes: float  # inputs held at once to aggregate
    gas: float
    estimated: bool  # any figure rests on an extrapolated or estimated unit cost

    @property
    def cpu_s(self) -> float:
        """CPU seconds the round costs the member, training aside."""
        return self.verify_s + self.aggregate_s + self.encode_s

    @property
    def link_s(self) -> float:
        """Seconds to move the bytes over one :data:`LINK_BITS_PER_S` link."""
        return (self.down_bytes + self.up_bytes) * 8 / LINK_BITS_PER_S


def pieces(units: UnitCosts, params: int) -> int:
    """How many pieces a model of ``params`` values is cut into."""
    return math.ceil(params / units.piece_length)


def full_replication(units: UnitCosts, model: str, n: int, rule: str) -> MemberRound:
    """Today: fetch and check the other N-1 updates, aggregate all N, upload, vote."""
    params = MODELS[model]
    update = 4 * params  # encoded size, headers aside
    k = pieces(units, params)
    fetched = (n - 1) * update
    return MemberRound(
        committee=None,
        model=model,
        members=n,
        rule=rule,
        down_bytes=fetched,
        up_bytes=2 * update,  # its update and the aggregate
        verify_s=fetched * (units.sha256_per_byte + units.decode_per_byte),
        aggregate_s=k * units.aggregate[rule, n],
        encode_s=2 * update * (units.encode_per_byte + units.sha256_per_byte),
        held_bytes=n * update,
        gas=SUBMIT_GAS + VOTE_GAS + (FIRST_VOTE_GAS + FINAL_VOTE_GAS - 2 * VOTE_GAS) / n,
        estimated=(rule, n) in units.extrapolated,
    )


def committee_round(units: UnitCosts, model: str, n: int, rule: str, committee: int) -> MemberRound:
    """Cost the committee design: aggregate K/N pieces, check cK/N, fetch the new model.

    Every piece handled (aggregated or checked) means fetching, verifying and decoding N
    members' pieces; the digest lists of all N members (32 bytes a piece) are fetched once.
    """
    if rule not in COORDINATE_WISE:
        raise ValueError(
            f"{rule} is not coordinate-wise: committees cannot check it piece by piece"
        )
    k = pieces(units, MODELS[model])
    piece = units.piece_bytes
    c = min(committee, n)
    aggregated = k / n
    handled = (1 + c) * k / n
    fetched = handled * n * piece + n * k * 32 + k * piece  # inputs, digest lists, new model
    return MemberRound(
        committee=c,
        model=model,
        members=n,
        rule=rule,
        down_bytes=fetched,
        up_bytes=k * piece + aggregated * piece,
        verify_s=(handled * n + k) * piece * (units.sha256_per_byte + units.decode_per_byte),
        aggregate_s=handled * units.aggregate[rule, n],
        encode_s=(k + handled) * piece * (units.encode_per_byte + units.sha256_per_byte),
        held_bytes=n * piece,
        gas=SUBMIT_GAS
        + min(1.0, aggregated) * VOTE_GAS
        + aggregated * PIECE_COMMIT_GAS
        + min(1.0, c * k / n) * ATTEST_GAS
        + (FINAL_VOTE_GAS + FINALIZE_PIECE_GAS * k) / n
        + FINALIZE_MEMBER_GAS,
        estimated=True,
    )


def monte_carlo_all_colluding(n: int, f: int, c: int, draws: int, seed: int = 0) -> float:
    """Fraction of committees drawn by :class:`Draw` (fresh seed each) that are all colluders.

    The colluders are a random f of the n members, so a draw cannot favour them by index.
    """
    rng = random.Random(seed)
    hits = 0
    for _ in range(draws):
        colluders = set(rng.sample(range(n), f))
        members = Draw(rng.randbytes(32), n).committee(0, c)
        hits += all(m in colluders for m in members)
    return hits / draws


# ---------------------------------------------------------------------------- printing


def _gb(value: float) -> str:
    if value < 1e8:
        return f"{value / 1e9:.3f}"
    return f"{value / 1e9:,.2f}" if value < 1e11 else f"{value / 1e9:,.0f}"


def _s(value: float) -> str:
    return f"{value:,.2f}" if value < 100 else f"{value:,.0f}"


def _p(value: float) -> str:
    if value == 0:
        return "0"
    return "1" if value >= 1 else f"{value:.1e}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def unit_table(units: UnitCosts, members: Sequence[int], rules: Sequence[str]) -> str:
    """Tabulate aggregation CPU per piece and per value read, for every rule and N."""
    rows = []
    for rule in rules:
        for n in members:
            mark = " (scaled)" if (rule, n) in units.extrapolated else ""
            rows.append(
                [
                    rule,
                    str(n),
                    f"{units.aggregate[rule, n] * 1e3:,.2f}{mark}",
                    f"{units.per_value_ns(rule, n):.2f}",
                ]
            )
    return _table(["rule", "N", "ms per piece (N inputs)", "ns per value read"], rows)


def cost_table(rounds: Sequence[MemberRound]) -> str:
    """One row per (model, N, rule): what a round costs one member."""
    rows = [
        [
            r.model,
            str(r.members),
            "all" if r.committee is None else str(r.committee),
            r.rule + (" *" if r.estimated and r.committee is None else ""),
            _gb(r.down_bytes),
            _gb(r.up_bytes),
            _s(r.link_s),
            _s(r.verify_s),
            _s(r.aggregate_s),
            _s(r.cpu_s),
            _gb(r.held_bytes),
            f"{r.gas:,.0f}",
        ]
        for r in rounds
    ]
    header = [
        "model",
        "N",
        "c",
        "rule",
        "down GB",
        "up GB",
        "link s @1 Gbit/s",
        "verify CPU s",
        "aggregate CPU s",
        "total CPU s",
        "held GB",
        "gas",
    ]
    return _table(header, rows)


def probability_table(members: int, pieces_per_model: dict[str, int]) -> str:
    """Chance a committee is all colluders, and the union bound over a model's pieces."""
    rows = []
    for share in COLLUDING:
        f = round(share * members)
        for c in COMMITTEES:
            p = all_colluding(members, f, c)
            row = [f"{share:.0%} ({f})", str(c), _p(p), _p(majority_colluding(members, f, c))]
            for k in pieces_per_model.values():
                row += [_p(union_bound(p, k)), _p(union_bound(p, k, GRINDING_SEEDS))]
            rows.append(row)
    header = ["colluders", "c", "one piece: all colluding", "one piece: half colluding"]
    for name, k in pieces_per_model.items():
        header += [f"{name}, any of {k:,}", f"{name}, any, 2^16 seeds"]
    return _table(header, rows)


def whole_table(checks: Sequence[WholeModelCheck]) -> str:
    """Tabulate the whole-model cross-check."""
    rows = [
        [
            c.rule,
            str(c.members),
            f"{c.parameters:,}",
            f"{c.measured_s:.3f}",
            f"{c.predicted_s:.3f}",
            f"{c.measured_s / c.predicted_s:.2f}",
        ]
        for c in checks
    ]
    header = ["rule", "N", "parameters", "whole model CPU s", "from pieces CPU s", "ratio"]
    return _table(header, rows)


def report(
    units: UnitCosts,
    members: Sequence[int],
    rules: Sequence[str],
    checks: int,
    whole: Sequence[WholeModelCheck] = (),
) -> str:
    """Build every table of docs/scaling.md, as Markdown."""
    m = units.machine
    k = {name: pieces(units, params) for name, params in MODELS.items()}
    out = [
        f"- Run: {units.date}.",
        f"- Machine: {m.cpus} CPUs ({m.cpu_model}), {m.memory_gib} GiB, Python {m.python}, "
        f"load average {m.load_average[0]:.1f} at the start.",
        f"- Piece: {units.piece_length:,} float32 values, {units.piece_bytes:,} bytes encoded; "
        + ", ".join(f"{name} model: {n:,} pieces" for name, n in k.items())
        + ".",
        f"- Throughput in CPU time: sha256 {1 / units.sha256_per_byte / 1e6:,.0f} MB/s, encode "
        f"{1 / units.encode_per_byte / 1e6:,.0f} MB/s, strict decode "
        f"{1 / units.decode_per_byte / 1e6:,.0f} MB/s.",
        "",
        "### Aggregation on one piece",
        "",
        unit_table(units, members, rules),
        "",
        "### The whole model at once, against its pieces",
        "",
        whole_table(whole),
        "",
        "### Full replication, per member and round",
        "",
        cost_table(
            [
                full_replication(units, model, n, rule)
                for model in MODELS
                for n in members
                for rule in rules
            ]
        ),
        "",
        "### Committees, per member and round",
        "",
        cost_table(
            [
                committee_round(units, model, n, rule, c)
                for model in MODELS
                for n in members
                for c in PLAN_COMMITTEES
                for rule in rules
                if rule in COORDINATE_WISE and (c < n or c == PLAN_COMMITTEES[0])
            ]
        ),
    ]
    for n in PROBABILITY_MEMBERS:
        out += ["", f"### A wrong piece accepted, N = {n}", "", probability_table(n, k)]
    n, f, c = 60, 20, 3
    estimate = monte_carlo_all_colluding(n, f, c, checks)
    exact = all_colluding(n, f, c)
    out += [
        "",
        f"Draw check: {checks:,} committees of {c} drawn by the Feistel permutation from {n} "
        f"members with {f} colluders: all colluding {estimate:.4f}, exact "
        f"{exact:.4f} (standard error {math.sqrt(exact * (1 - exact) / checks):.4f}).",
    ]
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    """Measure, compute, print Markdown tables."""
    parser = argparse.ArgumentParser(prog="python -m bench.scaling", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes (seconds)")
    args = parser.parse_args(argv)
    members = (6, 12) if args.quick else MEMBERS
    length = 4096 if args.quick else piece_length()
    repeats = 1 if args.quick else 2

    def progress(message: str) -> None:
        print(f"scaling: {message}", file=sys.stderr)

    units = measure_unit_costs(members, length, repeats, progress=progress)
    progress(f"every rule on {members[0]} whole updates")
    whole = check_whole_model(units, SMALL if args.quick else LARGE, members[0], repeats)
    print(report(units, members, RULES, 2_000 if args.quick else 50_000, whole))
    return 0


if __name__ == "__main__":
    sys.exit(main())
