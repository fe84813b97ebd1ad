from __future__ import annotations

import numpy as np

from daofed.learning.aggregation import MemberUpdate


def update(member: str, *values: float, n: int = 1, name: str = "w") -> MemberUpdate:
    """An update with one float32 vector tensor ``name`` holding ``values``."""
    return MemberUpdate(member=member, num_samples=n, delta={name: np.array(values, np.float32)})


def vec(weights: dict[str, np.ndarray], name: str = "w") -> list[float]:
    return [float(v) for v in weights[name]]
