from __future__ import annotations

import math

import numpy as np

from daofed.learning.aggregation import l2_norm, ordered_sum


def test_ordered_sum_is_a_fixed_pairwise_tree() -> None:
    assert ordered_sum([]) == 0.0
    assert ordered_sum([2.5]) == 2.5
    assert ordered_sum([1.0, 2.0, 3.0]) == 6.0
    # ((1e16 + 1) + (-1e16 + 1)): the tree keeps the pairs together; a running sum gives 1.0
    assert ordered_sum([1e16, 1.0, -1e16, 1.0]) == 0.0 + (1e16 + 1.0) + (-1e16 + 1.0)


def test_ordered_sum_is_accurate() -> None:
    values = np.random.default_rng(0).standard_normal(10_001)
    assert math.isclose(ordered_sum(values), math.fsum(values), rel_tol=1e-12, abs_tol=1e-9)


def test_l2_norm_over_all_tensors() -> None:
    weights = {"b": np.array([4.0], np.float32), "a": np.array([[3.0]], np.float32)}
    assert l2_norm(weights) == 5.0
    assert l2_norm({}) == 0.0
