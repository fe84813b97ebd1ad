"""The compiled loops of the aggregation rules (numba): tiles that stay in cache.

Each loop reads the ``n`` members' float32 rows tile by tile and does, per element, the
very IEEE operations of the rule's definition in :mod:`.kernels`, so the bytes are
bit-identical to a plain numpy evaluation on every CPU:

- ``fastmath=False``: LLVM may not reassociate, and numba marks no operation
  ``contract``, so no multiply and add are fused into an FMA (whose single rounding
  would differ from two); vectorising across elements only changes which elements are
  done together, never an element's own operations.
- ``error_model="numpy"``: a division never branches to raise, so loops vectorise.

``tests/learning/aggregation`` checks the bytes against the numpy definitions and the
golden digests, also with numba compiling for a generic x86-64 CPU (no AVX, no FMA).

Rows are passed as data addresses (an ``intp`` array) and viewed with ``carray``: one
compiled signature serves any number of members, with no typed-list machinery to build
per call. :mod:`.kernels` checks every row (C-contiguous float32, ``size`` elements,
kept alive for the call) before handing its address here.

The loops are compiled once and cached on disk, except :func:`unrolled_kept_mean`: its
source is generated for each member count, and compiled on first use in a process.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic
from numba.np.numpy_support import carray

from daofed.learning.aggregation.sorting import selection_network

_JIT: dict[str, Any] = {
    "cache": True,
    "nogil": True,
    "boundscheck": False,
    "fastmath": False,
    "error_model": "numpy",
}

TILE = 1024
"""Coordinates per tile of the sort: its ``2n`` float32 rows stay in L1/L2 cache."""
WIDE_TILE = 8192
"""Coordinates per tile of the weighted mean: one float64 row (64 KiB) stays in L2 cache;
longer runs per row keep the hardware prefetcher streaming."""
UNROLLED = 14
"""Most rows :func:`unrolled_kept_mean` takes: in its loop each row's pointer holds one of
x86-64's 16 general registers; from 15 rows on they spill, and it is slower than
:func:`kept_mean` (measured on Zen 3: 14 rows 2.3 times faster, 15 rows 1.2 times slower)."""
LANES = 16
"""Running sums per pair of :func:`pair_lane_sums`: four AVX2 vectors of float64."""
BLOCK = 8 * LANES
"""Elements per block of :func:`pair_lane_sums`: the ``n`` rows' blocks, widened to
float64 (1 KiB each), stay in L1 cache while every pair reads them. Measured on Zen 3,
8 elements per lane beat 4 and 16 (and 8 lanes do not vectorise)."""
_F32_MAX = np.float32(np.finfo(np.float32).max)
_F64_MAX = np.finfo(np.float64).max


def _address_to_pointer(typingctx: Any, address: Any) -> Any:
    """Type and generate ``(void *) address``: what ``carray`` takes."""
    signature = types.voidptr(types.intp)

    def codegen(context: Any, builder: Any, sig: Any, args: Any) -> ir.Value:
        return builder.inttoptr(args[0], cgutils.voidptr_t)

    return signature, codegen


_pointer: Any = intrinsic(_address_to_pointer)


@numba.njit(**_JIT)
def weighted_mean(addresses, weights, total, out):  # type: ignore[no-untyped-def]
    """``out[j] = f32(sum_i weights[i] * f64(row_i[j]) / total) + 0``, rows in order.

    Two rows per pass over the accumulator tile (``(acc + a) + b``: the same additions
    in the same order as one row per pass), so the tile is loaded and stored half as often.
    Returns whether every sum is finite: with weights below 2**53 no finite float32
    input overflows float64, so a non-finite sum means a non-finite input.
    """
    n = addresses.size
    size = out.size
    finite = True
    acc = np.empty(WIDE_TILE, np.float64)
    for start in range(0, size, WIDE_TILE):
        m = min(WIDE_TILE, size - start)
        acc[:m] = 0.0
        for i in range(0, n - 1, 2):
            first = carray(_pointer(addresses[i] + 4 * start), (m,), np.float32)
            second = carray(_pointer(addresses[i + 1] + 4 * start), (m,), np.float32)
            w0 = weights[i]
            w1 = weights[i + 1]
            for j in range(m):
                partial = acc[j] + w0 * np.float64(first[j])
                acc[j] = partial + w1 * np.float64(second[j])
        if n % 2:
            last = carray(_pointer(addresses[n - 1] + 4 * start), (m,), np.float32)
            w = weights[n - 1]
            for j in range(m):
                acc[j] += w * np.float64(last[j])
        for j in range(m):
            finite &= abs(acc[j]) <= _F64_MAX
            out[start + j] = np.float32(acc[j] / total) + np.float32(0.0)
    return finite


@numba.njit(**_JIT)
def kept_mean(addresses, network, leading, lo, hi, out):  # type: ignore[no-untyped-def]
    """Per coordinate: sort the ``n`` values by ``network``, average sorted ``lo..hi-1``.

    For more rows than :data:`UNROLLED`; :func:`unrolled_kept_mean` does fewer.

    The kept values are added in ascending order to ``+0.0`` in float64, divided once,
    rounded to float32, and ``+0.0`` is added (canonical sign of zero). Returns whether
    every input is finite (a NaN would sort anywhere).

    Each wire has two rows and a comparator writes the rows its inputs are not in:
    written in place, ``x[j] = min(x[j], y[j])`` becomes a masked store of the changed
    lanes, which costs tens of cycles on some CPUs. The first ``leading`` comparators
    touch each wire at most once, so they read the members' rows directly: the tile
    copy is their output, and only the wires they leave out are copied.
    """
    n = addresses.size
    size = out.size
    tiles = np.empty((2, n, TILE), np.float32)
    side = np.zeros(n, np.intp)
    copied = np.ones(n, np.bool_)
    for c in range(leading):
        copied[network[c, 0]] = False
        copied[network[c, 1]] = False
    acc = np.empty(TILE, np.float64)
    count = np.float64(hi - lo)
    finite = True
    for start in range(0, size, TILE):
        m = min(TILE, size - start)
        for c in range(leading):
            a = network[c, 0]
            b = network[c, 1]
            x = carray(_pointer(addresses[a] + 4 * start), (m,), np.float32)
            y = carray(_pointer(addresses[b] + 4 * start), (m,), np.float32)
            low = tiles[0, a]
            high = tiles[0, b]
            for j in range(m):
                u = x[j]
                v = y[j]
                finite &= (abs(u) <= _F32_MAX) & (abs(v) <= _F32_MAX)
                smaller = v < u
                low[j] = v if smaller else u
                high[j] = u if smaller else v
        for i in range(n):
            if copied[i]:
                row = carray(_pointer(addresses[i] + 4 * start), (m,), np.float32)
                copy = tiles[0, i]
                for j in range(m):
                    value = row[j]
                    finite &= abs(value) <= _F32_MAX
                    copy[j] = value
        side[:] = 0
        for c in range(leading, network.shape[0]):
            a = network[c, 0]
            b = network[c, 1]
            x = tiles[side[a], a]
            y = tiles[side[b], b]
            low = tiles[1 - side[a], a]
            high = tiles[1 - side[b], b]
            for j in range(m):
                u = x[j]
                v = y[j]
                smaller = v < u
                low[j] = v if smaller else u
                high[j] = u if smaller else v
            side[a] = 1 - side[a]
            side[b] = 1 - side[b]
        acc[:m] = 0.0
        for r in range(lo, hi):
            kept = tiles[side[r], r]
            for j in range(m):
                acc[j] += np.float64(kept[j])
        for j in range(m):
            out[start + j] = np.float32(acc[j] / count) + np.float32(0.0)
    return finite


def unrolled_kept_mean(n: int, lo: int, hi: int) -> Callable[..., bool]:
    """:func:`kept_mean` for ``n`` rows as straight-line code: the network in registers.

    The generated loop body loads one coordinate of each row into a variable per wire,
    does the comparators of :func:`.sorting.selection_network` as selects between
    variables, and adds the kept wires; nothing is stored between comparators, and LLVM
    vectorises the loop over coordinates (a comparator becomes one ``min`` and one
    ``max`` instruction on 8 coordinates). The rows are read once, in one pass.

    Called as ``loop(addresses, out) -> finite``, with the arithmetic of :func:`kept_mean`.
    Compiled on first use for each ``(n, lo, hi)`` and kept for the process: numba caches
    only functions whose source is in a file.
    """
    return _unrolled_kept_mean(n, lo, hi)


@cache
def _unrolled_kept_mean(n: int, lo: int, hi: int) -> Callable[..., bool]:
    wires = range(n)
    kept = "np.float64(0.0)"
    for r in range(lo, hi):
        kept = f"({kept} + np.float64(v{r}))"
    source = "\n".join(
        [
            "def kept_mean(addresses, out):",
            "    size = out.size",
            *(f"    row{i} = carray(_pointer(addresses[{i}]), (size,), np.float32)" for i in wires),
            "    finite = True",
            "    for j in range(size):",
            *(f"        v{i} = row{i}[j]" for i in wires),
            *(f"        finite &= abs(v{i}) <= _F32_MAX" for i in wires),
            *(
                f"        v{a}, v{b} = min(v{a}, v{b}), max(v{b}, v{a})"
                for a, b in selection_network(n, lo, hi).tolist()
            ),
            f"        out[j] = np.float32({kept} / {float(hi - lo)!r}) + np.float32(0.0)",
            "    return finite",
        ]
    )
    namespace = {"np": np, "carray": carray, "_pointer": _pointer, "_F32_MAX": _F32_MAX}
    exec(source, namespace)
    loop: Callable[..., bool] = numba.njit(**{**_JIT, "cache": False})(namespace["kept_mean"])
    return loop


@numba.njit(**_JIT)
def pair_lane_sums(addresses, blocks, first, second, lanes):  # type: ignore[no-untyped-def]
    """Add the squared differences of row pairs to their lane sums, block by block.

    Rows hold ``blocks`` whole blocks of :data:`BLOCK` elements. Element ``c`` of pair
    ``p`` adds ``(f64(x[c]) - f64(y[c]))**2`` to ``lanes[p, c % LANES]``, in order of
    ``c``: :data:`LANES` running sums, each in a fixed order on every CPU.

    Each block of every row is widened to float64 once (exactly: every float32 is a
    float64), in a buffer that stays in L1 cache while all pairs read it, so each row
    comes from memory once and each pair only subtracts, squares and adds. The loop over
    a block's lanes vectorises (four lanes per AVX2 instruction, two per SSE2 one: the
    same additions either way); the loop along a lane is unrolled, so its sum stays in a
    register through the block.
    """
    wide = np.empty((addresses.size, BLOCK), np.float64)
    for b in range(blocks):
        for r in range(addresses.size):
            row = carray(_pointer(addresses[r] + 4 * BLOCK * b), (BLOCK,), np.float32)
            widened = wide[r]
            for c in range(BLOCK):
                widened[c] = np.float64(row[c])
        for p in range(first.size):
            x = wide[first[p]]
            y = wide[second[p]]
            sums = lanes[p]
            for lane in range(LANES):
                s = sums[lane]
                for chunk in range(BLOCK // LANES):
                    c = chunk * LANES + lane
                    d = x[c] - y[c]
                    s += d * d
                sums[lane] = s
