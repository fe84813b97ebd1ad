"""The rules' arithmetic over members' rows: one compiled pass, bit-exact everywhere.

A member aggregates every round, reading all ``n`` updates; the rules run in compiled
loops (:mod:`._compiled`) that read each update once, tile by tile, instead of numpy
expressions that build float64 temporaries of every update. Each function here states
its result as plain IEEE operations in a fixed order; the loops do exactly those on
every element, so the bytes match the definition (and the golden digests of
``tests/learning/aggregation``) on every CPU.

A *row* is one tensor of one update; the functions take the ``n`` members' rows of the
same tensor (any shape, same size), in member order. They raise :class:`NonFiniteRows`
when a row holds NaN or infinity, found while computing instead of in a pass of its own.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from types import ModuleType

import numpy as np
import numpy.typing as npt

from daofed.learning.aggregation.numeric import F64
from daofed.learning.aggregation.sorting import leading_layer, selection_network

Row = npt.NDArray[np.float32]


@cache
def _loops() -> ModuleType:
    """Import the compiled loops on first use.

    Only a process that aggregates then pays for importing numba (about a second on a
    busy machine), not every CLI command.
    """
    from daofed.learning.aggregation import _compiled

    return _compiled


class NonFiniteRows(ValueError):
    """Some row holds NaN or infinity: the loops check as they read, not in a pass of their own."""


def weighted_mean(rows: Sequence[Row], weights: Sequence[float], total: float) -> Row:
    """``f32(sum_i weights[i] * f64(row_i) / total)`` per element, then ``+ 0.0``.

    The sum runs in row order from ``+0.0``; every product, addition and the division
    is one correctly rounded float64 operation, and ``+ 0.0`` makes the sign of zero
    canonical. Unit weights with ``total = m`` give the plain mean of ``m`` rows.
    """
    flats, addresses = _addresses(rows)
    out = np.empty(flats[0].size, np.float32)
    if not _loops().weighted_mean(addresses, np.asarray(weights, np.float64), float(total), out):
        raise NonFiniteRows
    return out.reshape(np.shape(rows[0]))


def kept_mean(rows: Sequence[Row], lo: int, hi: int) -> Row:
    """Per element, the mean of the sorted values at positions ``lo..hi-1``.

    The kept values are added in ascending order to ``+0.0`` in float64, divided by
    ``hi - lo`` and rounded to float32, plus ``0.0``. The sign of a zero among the
    inputs changes nothing in the result, so any correct sort gives the same bytes.
    """
    flats, addresses = _addresses(rows)
    if not 0 <= lo < hi <= len(flats):
        raise ValueError(f"kept positions {lo}..{hi - 1} are not within {len(flats)} rows")
    out = np.empty(flats[0].size, np.float32)
    if len(flats) <= _loops().UNROLLED:
        finite = _loops().unrolled_kept_mean(len(flats), lo, hi)(addresses, out)
    else:
        network = selection_network(len(flats), lo, hi)
        finite = _loops().kept_mean(addresses, network, leading_layer(network), lo, hi, out)
    if not finite:
        raise NonFiniteRows
    return out.reshape(np.shape(rows[0]))


def pair_distances(updates: Sequence[Sequence[Row]]) -> F64:
    """Squared Euclidean distances between updates: an ``(n, n)`` float64 matrix.

    ``updates[i]`` is update ``i``'s tensors in a fixed (sorted-name) order, taken as one
    flat vector ``v_i``. The distance of ``i`` and ``j`` adds the squares
    ``(f64(v_i[c]) - f64(v_j[c]))**2`` into ``_compiled.LANES`` running sums, element
    ``c`` into sum ``c % LANES`` in order of ``c`` (each from ``+0.0``), then adds the
    sums along :func:`.numeric.ordered_sum`'s tree. The order is fixed, so distances are
    bit-exact; it is the one whose loop vectorises without reordering anything
    (:func:`._compiled.pair_lane_sums`). Distances only decide which updates Multi-Krum
    keeps; this order replaced a pairwise tree over the whole vector (2026-11-30), which
    changed the scores' last bits, not the aggregates.

    Blocks of ``_compiled.BLOCK`` elements inside one tensor are read in place, a block
    across tensor boundaries (or the vector's end, zero-padded: adding ``+0.0`` changes
    no sum) is gathered first; blocks are added in order.

    The pairs are shared among the CPUs this process may use (:func:`_workers`), each
    thread walking every block for its own pairs: a pair's sums are the same additions
    in the same order whichever thread does them, so the bytes do not depend on the
    split. The loop is arithmetic-bound (``n(n-1)/2`` pairs per element), so a second
    core nearly halves its time.
    """
    n = len(updates)
    first, second = (np.array(side, np.intp) for side in np.triu_indices(n, 1))
    tensors = [[np.require(t, np.float32, ["C", "A"]).reshape(-1) for t in u] for u in updates]
    lanes = np.zeros((first.size, _loops().LANES), np.float64)
    groups = np.array_split(np.arange(first.size), min(_workers(), max(first.size, 1)))
    parts = [(first[g], second[g], lanes[g[0] : g[-1] + 1]) for g in groups if g.size]
    if len(parts) == 1:
        _add_pair_lanes(tensors, *parts[0])
    else:
        with ThreadPoolExecutor(len(parts)) as pool:
            for done in [pool.submit(_add_pair_lanes, tensors, *part) for part in parts]:
                done.result()
    if not np.isfinite(lanes).all():  # finite float32 inputs cannot overflow these sums
        raise NonFiniteRows
    while lanes.shape[1] > 1:
        lanes = lanes[:, 0::2] + lanes[:, 1::2]
    distances = np.zeros((n, n), np.float64)
    distances[first, second] = distances[second, first] = lanes[:, 0]
    return distances


def _add_pair_lanes(
    tensors: Sequence[Sequence[Row]],
    first: npt.NDArray[np.intp],
    second: npt.NDArray[np.intp],
    lanes: F64,
) -> None:
    """Add the squared differences of pair ``(first[p], second[p])`` into ``lanes[p]``."""
    sizes = [t.size for t in tensors[0]] if tensors else []
    loops = _loops()
    block = loops.BLOCK

    def add_gathered(blocks: range) -> None:
        for b in blocks:
            rows = [_gather(u, sizes, b * block, block) for u in tensors]
            addresses = np.array([row.ctypes.data for row in rows], np.intp)
            loops.pair_lane_sums(addresses, 1, first, second, lanes)

    done = start = 0
    for k, size in enumerate(sizes):
        inner_first, inner_stop = -(-start // block), (start + size) // block
        if inner_stop > inner_first:
            add_gathered(range(done, inner_first))
            offset = inner_first * block - start
            addresses = np.array([u[k][offset:].ctypes.data for u in tensors], np.intp)
            loops.pair_lane_sums(addresses, inner_stop - inner_first, first, second, lanes)
            done = inner_stop
        start += size
    add_gathered(range(done, -(-start // block)))


@cache
def _workers() -> int:
    """Count the CPUs this process may run on (its affinity mask where the OS has one)."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity else os.cpu_count() or 1


def _gather(tensors: Sequence[Row], sizes: Sequence[int], start: int, block: int) -> Row:
    """Leaves ``start..start+block-1`` of the tensors taken as one vector, zero past its end."""
    out = np.zeros(block, np.float32)
    offset = 0
    for tensor, size in zip(tensors, sizes, strict=True):
        low, high = max(start, offset), min(start + block, offset + size)
        if low < high:
            out[low - start : high - start] = tensor[low - offset : high - offset]
        offset += size
    return out


def _addresses(rows: Sequence[Row]) -> tuple[list[Row], npt.NDArray[np.intp]]:
    """Flat C-contiguous float32 views of ``rows`` and their data addresses.

    The caller keeps the views for as long as the compiled loop reads the addresses.
    """
    if not rows:
        raise ValueError("no rows to aggregate")
    flats = [np.require(row, np.float32, ["C", "A"]).reshape(-1) for row in rows]
    if len({flat.size for flat in flats}) != 1:
        raise ValueError("rows differ in size")
    return flats, np.array([flat.ctypes.data for flat in flats], np.intp)
