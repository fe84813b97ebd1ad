from __future__ import annotations

import numpy as np
import pytest

from daofed.errors import LearningError
from daofed.learning.aggregation import (
    FedAvg,
    Median,
    MemberUpdate,
    MultiKrum,
    TrimmedMean,
    apply_delta,
    compute_delta,
)

from .helpers import update

RULES = [FedAvg(), Median(), TrimmedMean(0.1), MultiKrum(f=0, m=1)]


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.spec)
def test_every_rule_rejects_bad_inputs(rule) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(LearningError, match="no updates"):
        rule.aggregate([])
    with pytest.raises(LearningError, match="two updates from 0xAB"):
        rule.aggregate([update("0xab", 1.0), update("0xc", 1.0), update("0xAB", 2.0)])
    with pytest.raises(LearningError, match=r"shape \(2,\)"):
        rule.aggregate([update("0xa", 1.0), update("0xb", 1.0, 2.0), update("0xc", 1.0)])
    with pytest.raises(LearningError, match=r"missing tensors \['w'\]"):
        rule.aggregate([update("0xa", 1.0), update("0xb", 1.0, name="v"), update("0xc", 1.0)])
    with pytest.raises(LearningError, match="NaN"):
        rule.aggregate([update("0xa", 1.0), update("0xb", np.inf), update("0xc", 1.0)])
    f64 = MemberUpdate("0xb", 1, {"w": np.ones(1)})
    with pytest.raises(LearningError, match="float32"):
        rule.aggregate([update("0xa", 1.0), f64, update("0xc", 1.0)])


def test_member_update_checks_samples() -> None:
    with pytest.raises(LearningError, match=">= 1"):
        update("0xa", 1.0, n=0)
    with pytest.raises(LearningError, match="int"):
        MemberUpdate("0xa", True, {"w": np.ones(1, np.float32)})


def test_inputs_are_not_modified() -> None:
    ups = [update(f"0x{i}", float(i), -float(i)) for i in range(5)]
    before = [u.delta["w"].copy() for u in ups]
    for rule in RULES:
        rule.aggregate(ups)
    assert all(np.array_equal(u.delta["w"], b) for u, b in zip(ups, before, strict=True))


def test_deltas_apply_and_invert() -> None:
    base = {"w": np.array([1.0, 2.0], np.float32)}
    local = {"w": np.array([1.5, 1.0], np.float32)}
    delta = compute_delta(base, local)
    assert delta["w"].tolist() == [0.5, -1.0]
    assert apply_delta(base, delta)["w"].tolist() == [1.5, 1.0]
    with pytest.raises(LearningError, match="overflows"):
        apply_delta({"w": np.array([3e38], np.float32)}, {"w": np.array([3e38], np.float32)})
    with pytest.raises(LearningError, match="missing"):
        apply_delta(base, {"v": np.zeros(2, np.float32)})
