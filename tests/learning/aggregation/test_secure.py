"""SecureFedAvg: the private rounds' rule equals what unmasking yields, and says it is private."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from daofed.errors import LearningError
from daofed.learning.aggregation import (
    Clipped,
    FedAvg,
    Median,
    MemberUpdate,
    apply_delta,
    fedavg,
    parse_rule,
)
from daofed.learning.aggregation.proximal import Proximal
from daofed.learning.aggregation.secure import SecureFedAvg
from daofed.secagg import SecAggError, fixed_point_fedavg, unmask
from tests.secagg.helpers import make_round, same_bytes

SHAPES = {"layer.weight": (6, 7), "layer.bias": (6,), "out": (3, 2, 2)}


def random_updates(members: int, seed: int = 0, scale: float = 0.1) -> list[MemberUpdate]:
    rng = np.random.default_rng(seed)
    return [
        MemberUpdate(
            f"0x{rng.bytes(20).hex()}",
            int(rng.integers(1, 1000)),
            {
                name: (rng.standard_normal(shape) * scale).astype(np.float32)
                for name, shape in SHAPES.items()
            },
        )
        for _ in range(members)
    ]


def test_aggregate_is_fixed_point_fedavg_byte_for_byte_in_any_order() -> None:
    updates = random_updates(6)
    want = fixed_point_fedavg(updates)
    rule = SecureFedAvg(3)
    for seed in range(3):
        shuffled = list(updates)
        random.Random(seed).shuffle(shuffled)
        assert same_bytes(rule.aggregate(shuffled), want)


def test_aggregate_equals_an_unmasked_private_round() -> None:
    """The rule on the plaintext updates and the secure protocol on masked ones agree."""
    sim = make_round(members=5, threshold=3, seed=4)
    masked = sim.masked(sim.members)
    result = unmask(sim.context, sim.setups, masked, sim.recoveries(sim.members, sim.members))
    plaintext = [MemberUpdate(m, sim.samples[m], sim.deltas[m]) for m in sim.members]
    assert same_bytes(SecureFedAvg(3).aggregate(plaintext), result.delta)


def test_aggregate_is_fedavg_within_one_quantisation_step() -> None:
    updates = random_updates(5, seed=1)
    private, plain = SecureFedAvg(2).aggregate(updates), fedavg(updates)
    for name in plain:
        assert private[name].dtype == np.float32
        assert np.abs(private[name] - plain[name]).max() <= 2.0**-24


def test_server_step_is_fedavgs() -> None:
    updates = random_updates(4, seed=2)
    base = {name: np.ones(shape, np.float32) for name, shape in SHAPES.items()}
    delta = SecureFedAvg(3).aggregate(updates)
    model, state = SecureFedAvg(3).server_step(base, {}, delta)
    assert state == {}
    assert same_bytes(model, apply_delta(base, delta))
    assert same_bytes(model, FedAvg().server_step(base, {}, delta)[0])


def test_spec_name_and_threshold() -> None:
    rule = SecureFedAvg(3)
    assert (rule.name, rule.spec, str(rule)) == ("fedavg", "fedavg:secagg=3", "fedavg:secagg=3")
    assert rule.secure_threshold == 3
    assert rule.min_updates == 3  # fewer masked updates cannot be unmasked
    assert parse_rule(rule.spec) == rule
    assert rule != FedAvg() and not isinstance(rule, FedAvg)
    assert SecureFedAvg(3) == SecureFedAvg(3) != SecureFedAvg(4)


def test_every_caller_can_ask_whether_a_rule_is_private() -> None:
    assert FedAvg().secure_threshold is None
    assert Median().secure_threshold is None
    assert Clipped(FedAvg(), 1.0).secure_threshold is None
    assert parse_rule("fedadam:lr=0.1,beta1=0.9,beta2=0.99,tau=0.001").secure_threshold is None
    assert parse_rule("median:compress=int8").secure_threshold is None
    prox = Proximal(SecureFedAvg(4), 0.01)
    assert (prox.secure_threshold, prox.min_updates, prox.spec) == (
        4,
        4,
        "fedavg:secagg=4,prox=0.01",
    )


@pytest.mark.parametrize("threshold", [0, 1, -3, True, 3.0, "3", 0x10000])
def test_bad_thresholds_are_refused(threshold: object) -> None:
    with pytest.raises(LearningError, match="secagg"):
        SecureFedAvg(threshold)  # type: ignore[arg-type]


def test_updates_the_fixed_point_sum_cannot_carry_are_refused() -> None:
    (first, *rest) = random_updates(3, seed=3)
    first.delta["out"][0, 0, 0] = np.nan
    with pytest.raises(SecAggError, match="NaN") as caught:
        SecureFedAvg(2).aggregate([first, *rest])
    assert caught.value.reason == "non-finite"
    with pytest.raises(LearningError, match="two updates"):
        SecureFedAvg(2).aggregate([rest[0], rest[0]])


def test_importing_secagg_first_is_no_cycle() -> None:
    """daofed.secagg builds on the aggregation package, whose registry loads this rule.

    Importing daofed.secagg first is the order a top-level import of it here would break.
    """
    code = (
        "import daofed.secagg\n"
        "from daofed.learning.aggregation.secure import SecureFedAvg\n"
        "from tests.learning.aggregation.helpers import update\n"
        "print(SecureFedAvg(2).aggregate([update('0xa', 1.0), update('0xb', 3.0)])['w'][0])\n"
    )
    root = Path(__file__).resolve().parents[3]
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=root
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "2.0"
