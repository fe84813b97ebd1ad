"""Updates are deltas: ``local - base`` out of training, ``base + delta`` into the next model.

Publishing deltas rather than weights makes robust rules and norm bounds meaningful (a
delta's size is how far a member moves the model) and keeps the arithmetic elementwise.
"""

from __future__ import annotations

import numpy as np

from daofed.errors import LearningError
from daofed.learning.weights import Weights, check_layout


def compute_delta(base: Weights, local: Weights) -> Weights:
    """Return ``local - base`` per tensor, float32 (one correctly rounded subtraction each)."""
    check_layout(base, local, "local weights")
    return {name: np.subtract(local[name], base[name], dtype=np.float32) for name in sorted(base)}


def apply_delta(base: Weights, delta: Weights) -> Weights:
    """Add ``delta`` to ``base`` per tensor in float32, giving the next global model.

    Raises :class:`LearningError` if the sum overflows float32 (a delta no training
    produces); an accepted model must stay finite.
    """
    check_layout(base, delta, "aggregated delta")
    result: Weights = {}
    for name in sorted(base):
        with np.errstate(over="ignore"):  # reported below, with advice
            out = np.add(base[name], delta[name], dtype=np.float32)
        if not np.isfinite(out).all():
            raise LearningError(
                f"base + delta overflows in tensor {name!r}; the delta is far too large, "
                "reject it (bound update norms, e.g. clip=<norm>)"
            )
        result[name] = out
    return result
