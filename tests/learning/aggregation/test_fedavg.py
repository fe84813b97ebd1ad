from __future__ import annotations

import numpy as np

from daofed.learning.aggregation import FedAvg, MemberUpdate, fedavg

from .helpers import update, vec


def test_weighted_by_samples() -> None:
    out = fedavg([update("0xa", 1.0, 2.0, n=1), update("0xb", 5.0, 6.0, n=3)])
    assert vec(out) == [4.0, 5.0]  # (1 + 15) / 4, (2 + 18) / 4
    assert out["w"].dtype == np.float32


def test_equal_samples_give_the_mean_and_one_update_is_itself() -> None:
    assert vec(fedavg([update("0xa", 1.0, n=2), update("0xb", 2.0, n=2)])) == [1.5]
    assert vec(fedavg([update("0xa", 0.1, -3.0, n=7)])) == [np.float32(0.1), -3.0]


def test_every_tensor_is_averaged() -> None:
    a = MemberUpdate("0xa", 1, {"x": np.ones((2, 2), np.float32), "y": np.zeros(3, np.float32)})
    b = MemberUpdate("0xb", 1, {"x": np.zeros((2, 2), np.float32), "y": np.ones(3, np.float32)})
    out = FedAvg().aggregate([a, b])
    assert out.keys() == {"x", "y"}
    assert np.array_equal(out["x"], np.full((2, 2), 0.5)) and np.array_equal(
        out["y"], np.full(3, 0.5)
    )
    assert FedAvg().spec == "fedavg"
