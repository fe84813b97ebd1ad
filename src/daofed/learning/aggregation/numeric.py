"""Order-fixed float arithmetic: the reason aggregates are bit-identical everywhere.

Every honest member must compute the *same bytes* for a round's aggregate, or their
votes split over different digests. Elementwise IEEE-754 operations (``+ - * /`` and
``sqrt`` on matching elements) are correctly rounded, so they give the same bits on
every CPU. Reductions are not safe: ``np.sum``, ``np.dot`` and BLAS pick blocking and
SIMD widths from the CPU they run on, which changes the order of additions and hence
the last bits. This module therefore only offers reductions whose order is spelled out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]


def ordered_sum(values: npt.ArrayLike) -> float:
    """Sum ``values`` (as float64) along a fixed binary tree, the same on every machine.

    The input is zero-padded to a power of two and halved with ``a[0::2] + a[1::2]``
    until one value remains: each step is elementwise, so the order of additions
    depends only on the length. (Pairwise summation is also more accurate than a
    running sum.)
    """
    flat = np.asarray(values, dtype=np.float64).ravel()
    if flat.size == 0:
        return 0.0
    buf = np.zeros(1 << (flat.size - 1).bit_length(), dtype=np.float64)
    buf[: flat.size] = flat
    while buf.size > 1:
        buf = buf[0::2] + buf[1::2]
    return float(buf[0])


def flatten(weights: Mapping[str, npt.NDArray[Any]]) -> F64:
    """All tensors as one float64 vector, in sorted name order (a fixed layout)."""
    if not weights:
        return np.zeros(0, dtype=np.float64)
    return np.concatenate(
        [np.asarray(weights[name], dtype=np.float64).ravel() for name in sorted(weights)]
    )


def l2_norm(weights: Mapping[str, npt.NDArray[Any]]) -> float:
    """Euclidean norm of all tensors together, computed in a fixed order (bit-exact)."""
    flat = flatten(weights)
    return float(np.sqrt(ordered_sum(flat * flat)))
