"""Local DP: clipping, the noise's scale, reproducible seeding, and Opacus's epsilon."""

from __future__ import annotations

import math

import numpy as np
import pytest

from daofed.errors import LearningError
from daofed.learning.aggregation import l2_norm
from daofed.learning.privacy import (
    Adjacency,
    PrivacySettings,
    clip_to_norm,
    epsilon,
    noise_seed,
    privatize,
)

SHAPES = {"a": (200, 100), "b": (100,)}


def _delta(scale: float, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {n: (rng.standard_normal(s) * scale).astype(np.float32) for n, s in SHAPES.items()}


def _zeros() -> dict[str, np.ndarray]:
    return {n: np.zeros(s, np.float32) for n, s in SHAPES.items()}


@pytest.mark.parametrize("scale", [1e-4, 1.0, 1e3])
def test_clipping_bounds_the_norm_and_keeps_the_direction(scale: float) -> None:
    delta = _delta(scale)
    clipped = clip_to_norm(delta, 0.5)
    norm = l2_norm(delta)
    assert l2_norm(clipped) == pytest.approx(min(norm, 0.5), rel=1e-9)
    factor = min(1.0, 0.5 / norm)
    for name, array in delta.items():
        np.testing.assert_allclose(clipped[name], array.astype(np.float64) * factor)


@pytest.mark.parametrize(("clip", "sigma"), [(1.0, 1.0), (0.1, 0.5), (2.0, 3.0)])
def test_noise_has_standard_deviation_sigma_times_clip(clip: float, sigma: float) -> None:
    noisy = privatize(_zeros(), PrivacySettings(clip=clip, noise=sigma), seed=1)
    values = np.concatenate([noisy[n].ravel().astype(np.float64) for n in sorted(noisy)])
    n = values.size  # 20,100 draws: the sample std is within ~1 % (5 sigma: 2.5 %)
    assert values.std() == pytest.approx(sigma * clip, rel=0.025)
    assert abs(values.mean()) < 5 * sigma * clip / math.sqrt(n)
    assert all(noisy[name].dtype == np.float32 for name in noisy)


def test_the_update_is_clipped_before_the_noise_is_added() -> None:
    settings = PrivacySettings(clip=1.0, noise=0.01)
    delta = _delta(10.0)
    noisy = privatize(delta, settings, seed=2)
    clipped = clip_to_norm(delta, 1.0)
    residual = {n: noisy[n].astype(np.float64) - clipped[n] for n in delta}
    size = sum(a.size for a in delta.values())
    assert l2_norm(residual) == pytest.approx(0.01 * math.sqrt(size), rel=0.05)


def test_the_same_seed_gives_the_same_bytes() -> None:
    settings = PrivacySettings(clip=1.0, noise=1.0)
    delta = _delta(0.1)
    first, again = privatize(delta, settings, 7), privatize(delta, settings, 7)
    other = privatize(delta, settings, 8)
    assert all(first[n].tobytes() == again[n].tobytes() for n in delta)
    assert all(first[n].tobytes() != other[n].tobytes() for n in delta)


def test_noise_seeds_are_keyed_per_federation_and_round() -> None:
    key, fed = b"\x01" * 32, "0x" + "ab" * 20
    seed = noise_seed(key, fed, 3)
    assert seed == noise_seed(key, fed.upper().replace("0X", "0x"), 3)  # checksum case
    assert 0 <= seed < 2**128
    others = {noise_seed(b"\x02" * 32, fed, 3), noise_seed(key, fed, 4)}
    others.add(noise_seed(key, "0x" + "cd" * 20, 3))
    assert seed not in others and len(others) == 3


def test_epsilon_grows_with_rounds_and_shrinks_with_sigma() -> None:
    settings = PrivacySettings(clip=1.0, noise=1.0)
    by_rounds = [epsilon(settings, r) for r in (0, 1, 2, 5, 20)]
    assert by_rounds[0] == 0.0
    assert by_rounds == sorted(by_rounds) and len(set(by_rounds)) == 5
    by_sigma = [epsilon(PrivacySettings(1.0, s), 5) for s in (0.5, 1.0, 2.0, 4.0)]
    assert by_sigma == sorted(by_sigma, reverse=True) and len(set(by_sigma)) == 4


def test_epsilon_does_not_depend_on_the_clip_norm_and_tightens_with_delta() -> None:
    assert epsilon(PrivacySettings(0.1, 1.5), 3) == epsilon(PrivacySettings(10.0, 1.5), 3)
    loose = epsilon(PrivacySettings(1.0, 1.5, delta=1e-3), 3)
    assert loose < epsilon(PrivacySettings(1.0, 1.5, delta=1e-7), 3)


@pytest.mark.parametrize(("sigma", "rounds"), [(0.8, 1), (1.0, 10), (3.0, 50)])
def test_epsilon_is_within_the_textbook_rdp_bound(sigma: float, rounds: int) -> None:
    """Gaussian mechanism: RDP(alpha) = T alpha / (2 sigma^2) (Mironov 2017, Prop. 7).

    The classic conversion eps = RDP + log(1/delta)/(alpha - 1) is an upper bound; Opacus
    uses a tighter one (Balle et al. 2020), so its epsilon is lower but not by much.
    """
    delta = 1e-5
    classic = min(
        rounds * a / (2 * sigma**2) + math.log(1 / delta) / (a - 1)
        for a in np.linspace(1.01, 500, 50000)
    )
    got = epsilon(PrivacySettings(1.0, sigma, delta), rounds)
    assert 0.7 * classic < got <= classic


def test_replacing_the_data_costs_as_half_the_noise() -> None:
    settings = PrivacySettings(clip=1.0, noise=2.0)
    replace = epsilon(settings, 4, Adjacency.REPLACE)
    assert replace == epsilon(PrivacySettings(1.0, 1.0), 4)
    assert replace > epsilon(settings, 4)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"clip": 0.0, "noise": 1.0}, "clip norm"),
        ({"clip": math.inf, "noise": 1.0}, "clip norm"),
        ({"clip": 1.0, "noise": 0.0}, "no privacy"),
        ({"clip": 1.0, "noise": 1.0, "delta": 1.0}, "delta"),
        ({"clip": 1.0, "noise": 1.0, "delta": 0.0}, "delta"),
    ],
)
def test_bad_settings_say_what_to_use(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(LearningError, match=message):
        PrivacySettings(**kwargs)


def test_negative_rounds_are_refused() -> None:
    with pytest.raises(LearningError, match="rounds"):
        epsilon(PrivacySettings(1.0, 1.0), -1)
