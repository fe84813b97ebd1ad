"""The scale plan's simulation at tiny sizes: its pieces, draws, odds and costs agree.

No timing is asserted: the unit costs are measured, but only their consistency is checked.
"""

from __future__ import annotations

import hashlib
import math

import numpy as np
import pytest

from bench import committee_gas, scaling
from bench.committee import (
    Draw,
    all_colluding,
    decode_piece,
    encode_piece,
    flatten,
    majority_colluding,
    merkle_root,
    piece_length,
    piece_spec,
    run_round,
    unflatten,
)
from daofed.errors import InvalidBlob
from daofed.learning.aggregation import MemberUpdate, parse_rule
from daofed.storage import encode


def updates(n: int, seed: int = 0) -> list[MemberUpdate]:
    """``n`` members' updates of a two-tensor model (113 values), with distinct weights."""
    rng = np.random.default_rng(seed)
    return [
        MemberUpdate(
            f"0x{i + 1:040x}",
            10 + i,
            {
                "b": rng.standard_normal(50, dtype=np.float32),
                "w": rng.standard_normal((7, 9), dtype=np.float32),
            },
        )
        for i in range(n)
    ]


def test_a_full_piece_is_one_ipfs_block() -> None:
    length = piece_length()
    assert piece_spec(length).encoded_size <= 256 * 1024 < piece_spec(length + 16).encoded_size
    values = np.arange(length, dtype=np.float32)
    assert len(encode_piece(values)) == piece_spec(length).encoded_size
    assert np.array_equal(decode_piece(encode_piece(values), length), values)
    with pytest.raises(InvalidBlob):
        decode_piece(encode_piece(values), length - 16)


@pytest.mark.parametrize("spec", scaling.COORDINATE_WISE)
def test_joined_pieces_are_the_whole_aggregate_bit_for_bit(spec: str) -> None:
    rule = parse_rule(spec)
    members = updates(8)
    result = run_round(rule, members, length=16, committee_size=3, seed=b"round")
    whole = rule.aggregate(members)
    assert encode(unflatten(result.aggregate, whole)) == encode(whole)
    assert result.disputed == () and result.wrong_accepted == ()


def test_at_the_real_piece_length_too() -> None:
    rng = np.random.default_rng(1)
    members = [
        MemberUpdate(
            f"0x{i + 1:040x}",
            5 + i,
            {
                "a": rng.standard_normal((300, 400), dtype=np.float32),
                "b": rng.standard_normal(20_000, dtype=np.float32),
            },
        )
        for i in range(5)
    ]  # 140,000 values: two full pieces and a short one
    for spec in scaling.COORDINATE_WISE:
        rule = parse_rule(spec)
        result = run_round(rule, members, piece_length(), committee_size=2, seed=b"real")
        whole = rule.aggregate(members)
        assert encode(unflatten(result.aggregate, whole)) == encode(whole), spec


def test_flatten_and_unflatten_are_inverse() -> None:
    delta = updates(1)[0].delta
    back = unflatten(flatten(delta), delta)
    assert all(np.array_equal(back[name], delta[name]) for name in delta)


def test_a_wrong_piece_passes_only_an_all_colluding_committee() -> None:
    colluders = frozenset(range(5))  # 5 of 7 members, committees of 2: some all colluding
    result = run_round(parse_rule("median"), updates(7), 16, 2, b"seed", colluders)
    lied = {k for k, who in enumerate(result.aggregators) if who in colluders}
    captured = {k for k in lied if set(result.committees[k]) <= colluders}
    assert set(result.wrong_accepted) == captured
    assert set(result.disputed) == lied - captured
    assert captured and result.disputed  # both cases occur with this seed
    honest = [ledger for i, ledger in enumerate(result.ledgers) if i not in colluders]
    assert all(ledger.pieces_aggregated >= len(result.disputed) for ledger in honest)


def test_the_draw_is_a_balanced_permutation_of_distinct_committees() -> None:
    n = 37
    draw = Draw(b"seed", n)
    assert sorted(draw(p) for p in range(n)) == list(range(n))
    committees = [draw.committee(k, 5) for k in range(20)]
    assert all(len(set(c)) == 5 for c in committees)
    load = np.bincount([m for c in committees for m in c], minlength=n)
    assert load.max() - load.min() <= 1  # 100 seats over 37 members: 2 or 3 each
    assert Draw(b"other", n).committee(0, 5) != draw.committee(0, 5)


def test_the_draw_matches_the_hypergeometric_odds() -> None:
    n, f, c, draws = 40, 16, 3, 6_000
    exact = all_colluding(n, f, c)
    assert exact == math.comb(f, c) / math.comb(n, c)
    estimate = scaling.monte_carlo_all_colluding(n, f, c, draws)
    sigma = math.sqrt(exact * (1 - exact) / draws)
    assert abs(estimate - exact) < 4 * sigma


def test_odds_fall_with_the_committee_and_rise_with_colluders() -> None:
    assert all_colluding(100, 5, 6) == 0.0
    assert all_colluding(100, 100, 20) == 1.0
    odds = [all_colluding(1000, 330, c) for c in scaling.COMMITTEES]
    assert odds == sorted(odds, reverse=True)
    assert all_colluding(1000, 100, 10) < all_colluding(1000, 200, 10)
    assert all(
        all_colluding(1000, 200, c) <= majority_colluding(1000, 200, c) for c in scaling.COMMITTEES
    )


def test_merkle_root_binds_every_leaf_and_its_place() -> None:
    leaves = [hashlib.sha256(bytes([i])).digest() for i in range(5)]
    root = merkle_root(leaves)
    assert merkle_root(leaves[::-1]) != root
    assert merkle_root([*leaves[:4], leaves[0]]) != root
    assert merkle_root(leaves[:1]) == leaves[0]


def test_a_member_handles_the_same_pieces_whatever_the_federation_size() -> None:
    rule = parse_rule("fedavg")
    fetched = {}
    for n in (8, 16):
        result = run_round(rule, updates(n), length=16, committee_size=3, seed=b"s")
        pieces = len(result.aggregators)
        # each of the pieces is aggregated once and checked 3 times, from n inputs
        assert sum(ledger.pieces_aggregated for ledger in result.ledgers) == 4 * pieces
        fetched[n] = sum(ledger.bytes_fetched for ledger in result.ledgers) / n
    # twice the inputs per piece, spread over twice the members: the same bytes each
    assert fetched[16] == fetched[8] == 4 * sum(len(b) for b in pieces_of_one_update())


def pieces_of_one_update() -> list[bytes]:
    flat = flatten(updates(1)[0].delta)
    return [encode_piece(flat[start : start + 16]) for start in range(0, flat.size, 16)]


@pytest.fixture(scope="module")
def units() -> scaling.UnitCosts:
    return scaling.measure_unit_costs((6, 12), length=1024, repeats=1, pairwise_limit=6)


def test_unit_costs_cover_every_rule_and_scale_krum_by_pairs(units: scaling.UnitCosts) -> None:
    assert set(units.aggregate) == {(r, n) for r in scaling.RULES for n in (6, 12)}
    assert all(seconds >= 0 for seconds in units.aggregate.values())
    assert units.extrapolated == {("multi-krum:f=1,m=3", 12)}
    krum = "multi-krum:f=1,m=3"
    assert units.aggregate[krum, 12] == pytest.approx(units.aggregate[krum, 6] * 132 / 30)
    assert units.piece_bytes == piece_spec(1024).encoded_size


def test_full_replication_grows_with_n_and_committees_do_not(units: scaling.UnitCosts) -> None:
    model = "5M"
    update = 4 * scaling.MODELS[model]
    small, large = (scaling.full_replication(units, model, n, "median") for n in (6, 12))
    assert small.down_bytes == 5 * update and large.down_bytes == 11 * update
    assert large.held_bytes == 2 * small.held_bytes
    c = 3
    a, b = (scaling.committee_round(units, model, n, "median", committee=c) for n in (6, 12))
    pieces = scaling.pieces(units, scaling.MODELS[model])
    inputs = (1 + c) * pieces * units.piece_bytes  # every piece handled, from n members
    assert a.down_bytes - 6 * pieces * 32 == pytest.approx(inputs + pieces * units.piece_bytes)
    assert b.down_bytes - 12 * pieces * 32 == pytest.approx(a.down_bytes - 6 * pieces * 32)
    with pytest.raises(ValueError, match="coordinate-wise"):
        scaling.committee_round(units, model, 12, "multi-krum:f=1,m=3", committee=3)


def test_the_report_prints_every_table(units: scaling.UnitCosts) -> None:
    text = scaling.report(units, (6, 12), scaling.RULES, checks=200)
    assert text.count("\n| model | N |") == 2
    assert "A wrong piece accepted, N = 1000" in text
    assert "Draw check: 200 committees" in text


def test_the_contract_sketch_draws_and_roots_like_the_simulation() -> None:
    gas = committee_gas.measure_sketch(members=(10,), pieces=(5, 23), commit_sizes=(1, 2))
    assert gas.positions_match and gas.roots_match
    assert gas.commit[2] > gas.commit[1] > 21_000
    assert gas.finalize[10, 23] > gas.finalize[10, 5] > gas.position[10] > 21_000
