"""Sorting networks: a fixed list of compare-exchanges that sorts any ``n`` values.

Order statistics (median, trimmed mean) need each coordinate's ``n`` values in order. A
network does the same compare-exchanges whatever the values, so a compiled loop does
each one on many coordinates at once (branch-free min/max, vectorised), where a
comparison sort would branch per coordinate. Min and max are exact, so any
correct network gives the same sorted values, and the same aggregate bytes.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import numpy.typing as npt


def batcher_network(n: int) -> list[tuple[int, int]]:
    """Batcher's odd-even merge sort for ``n`` wires: pairs ``(i, j)``, ``i < j``.

    Built for the next power of two; comparators that touch a wire ``>= n`` are dropped,
    which is the same as padding with ``+inf`` values that never move.
    """
    size = 1 << max(0, (n - 1).bit_length())
    pairs: list[tuple[int, int]] = []
    p = 1
    while p < size:
        k = p
        while k >= 1:
            for j in range(k % p, size - k, 2 * k):
                for i in range(min(k, size - j - k)):
                    low, high = i + j, i + j + k
                    if low // (2 * p) == high // (2 * p) and high < n:
                        pairs.append((low, high))
            k //= 2
        p *= 2
    return pairs


@cache
def selection_network(n: int, lo: int, hi: int) -> npt.NDArray[np.intp]:
    """Keep the comparators of :func:`batcher_network` that decide positions ``lo..hi-1``.

    Walking back from the output, a comparator matters when it writes a wire that
    matters, and then both its inputs matter; the rest are dropped (a median needs 29 of
    the 32 comparators for ``n = 10``). Returned as an ``(m, 2)`` array for the kernel.
    """
    live = set(range(lo, hi))
    kept: list[tuple[int, int]] = []
    for low, high in reversed(batcher_network(n)):
        if low in live or high in live:
            live.update((low, high))
            kept.append((low, high))
    network = np.array(kept[::-1], dtype=np.intp).reshape(-1, 2)
    network.flags.writeable = False
    return network


def leading_layer(network: npt.NDArray[np.intp]) -> int:
    """Count the comparators at the start of ``network`` that touch each wire at most once.

    They can read their inputs straight from the members' rows.
    """
    touched: set[int] = set()
    for count, (low, high) in enumerate(network.tolist()):
        if low in touched or high in touched:
            return count
        touched.update((low, high))
    return len(network)
