"""The compiled loops compute exactly their numpy definitions, bit for bit.

Each reference below is the plain numpy statement of a kernel's arithmetic (float64
operations in a fixed order); the compiled loop must give the same bytes on tensors that
are smaller than, equal to and larger than its tiles, and for any number of members.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from daofed.learning.aggregation import kernels, ordered_sum
from daofed.learning.aggregation._compiled import LANES
from daofed.learning.aggregation.sorting import (
    batcher_network,
    leading_layer,
    selection_network,
)

Rows = list[np.ndarray]


def _rows(seed: int, n: int, shape: tuple[int, ...]) -> Rows:
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        row = rng.standard_normal(shape) * 10.0 ** rng.uniform(-4, 2)
        row[rng.random(shape) < 0.05] = 0.0
        row[rng.random(shape) < 0.02] = -0.0
        rows.append(row.astype(np.float32))
    if n > 2:
        rows[1] = rows[0].copy()  # ties
    return rows


def _canonical(acc: np.ndarray) -> np.ndarray:
    out = acc.astype(np.float32)
    out += np.float32(0.0)
    return out


def _weighted_reference(rows: Rows, weights: list[float], total: float) -> np.ndarray:
    acc = np.zeros(rows[0].shape, np.float64)
    for row, weight in zip(rows, weights, strict=True):
        acc += weight * row.astype(np.float64)
    return _canonical(acc / total)


def _kept_reference(rows: Rows, lo: int, hi: int) -> np.ndarray:
    ordered = np.sort(np.stack([row.astype(np.float64) for row in rows]), axis=0)
    acc = np.zeros(rows[0].shape, np.float64)
    for row in ordered[lo:hi]:
        acc += row
    return _canonical(acc / float(hi - lo))


SHAPES = [(1,), (7, 3), (1024,), (8193,), (3, 5000)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("n", [1, 2, 5, 10])
def test_weighted_mean_is_its_definition(n: int, shape: tuple[int, ...]) -> None:
    rows = _rows(n, n, shape)
    weights = [float(10 + 37 * i) for i in range(n)]
    got = kernels.weighted_mean(rows, weights, sum(weights))
    assert got.shape == shape
    assert got.tobytes() == _weighted_reference(rows, weights, sum(weights)).tobytes()


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("n", [1, 2, 3, 8, 10, 13, 16])  # 16: above UNROLLED, the tiled loop
def test_kept_mean_is_its_definition_for_every_trim(n: int, shape: tuple[int, ...]) -> None:
    rows = _rows(100 + n, n, shape)
    for lo in range((n + 1) // 2):
        got = kernels.kept_mean(rows, lo, n - lo)
        assert got.tobytes() == _kept_reference(rows, lo, n - lo).tobytes(), (n, lo)


@pytest.mark.parametrize(
    "shapes",
    [
        [(5,)],
        [(64, 64), (64,), (10, 64), (10,)],  # blocks straddle tensors
        [(1024,), (2048,)],  # tensors end on block boundaries
        [(3, 7), (1,), (5000,), (1024,), (3000,)],
    ],
)
@pytest.mark.parametrize("n", [2, 3, 6])
@pytest.mark.parametrize("workers", [1, 2, 4])
def test_pair_distances_add_in_lanes(
    n: int, shapes: list[tuple[int, ...]], workers: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever the threads, each pair's sum is the same additions in the same order."""
    monkeypatch.setattr(kernels, "_workers", lambda: workers)
    rng = np.random.default_rng(n)
    updates = [
        [(rng.standard_normal(s) * 10.0 ** rng.uniform(-3, 1)).astype(np.float32) for s in shapes]
        for _ in range(n)
    ]
    flat = [np.concatenate([t.astype(np.float64).ravel() for t in u]) for u in updates]
    got = kernels.pair_distances(updates)
    for i, j in itertools.product(range(n), repeat=2):
        expected = 0.0 if i == j else _lane_sum((flat[i] - flat[j]) ** 2)
        assert got[i, j] == expected, (i, j)


def _lane_sum(squares: np.ndarray) -> float:
    """Element ``c`` into running sum ``c % LANES``, in order; the sums by ordered_sum."""
    padded = np.zeros(-(-squares.size // LANES) * LANES)
    padded[: squares.size] = squares
    lanes = np.zeros(LANES)
    for row in padded.reshape(-1, LANES):
        lanes += row
    return ordered_sum(lanes)


@pytest.mark.parametrize("n", range(1, 13))
def test_batcher_network_sorts_every_zero_one_input(n: int) -> None:
    """The zero-one principle: a network that sorts all 0/1 inputs sorts everything."""
    network = batcher_network(n)
    for bits in itertools.product((0, 1), repeat=n):
        wires = list(bits)
        for low, high in network:
            wires[low], wires[high] = min(wires[low], wires[high]), max(wires[low], wires[high])
        assert wires == sorted(bits)


@pytest.mark.parametrize("n", range(1, 13))
def test_selection_network_decides_the_kept_positions(n: int) -> None:
    for lo in range((n + 1) // 2):
        hi = n - lo
        network = selection_network(n, lo, hi)
        assert len(network) <= len(batcher_network(n))
        for bits in itertools.product((0, 1), repeat=n):
            wires = list(bits)
            for low, high in network:
                wires[low], wires[high] = min(wires[low], wires[high]), max(wires[low], wires[high])
            assert wires[lo:hi] == sorted(bits)[lo:hi]


@pytest.mark.parametrize("n", range(1, 17))
def test_leading_layer_touches_each_wire_once(n: int) -> None:
    network = selection_network(n, (n - 1) // 2, n - (n - 1) // 2)
    count = leading_layer(network)
    wires = network[:count].ravel().tolist()
    assert len(wires) == len(set(wires))
    if count < len(network):
        assert set(network[count].tolist()) & set(wires)


def test_rows_must_agree_in_size() -> None:
    with pytest.raises(ValueError, match="differ in size"):
        kernels.weighted_mean([np.zeros(3, np.float32), np.zeros(4, np.float32)], [1, 1], 2)
    with pytest.raises(ValueError, match="not within"):
        kernels.kept_mean([np.zeros(3, np.float32)] * 2, 1, 3)
