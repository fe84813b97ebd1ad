"""Server optimisers against the papers' formulas, their specs, and the blob layout they imply.

Each optimiser's step is checked against a float64 reference written here from the papers
(Hsu et al. 2019 for FedAvgM; Reddi et al. 2021, Algorithm 2 without bias correction, for
FedAdam, FedYogi and FedAdagrad) over three steps with the state carried, rounded to
float32 after each step as the blob stores it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from daofed.errors import LearningError
from daofed.learning.aggregation import (
    Clipped,
    Compressed,
    FedAvg,
    Median,
    MultiKrum,
    TrimmedMean,
    parse_rule,
)
from daofed.learning.aggregation.proximal import Proximal
from daofed.learning.aggregation.registry import GRAMMAR
from daofed.learning.aggregation.server import (
    SERVER_OPTIMIZERS,
    FedAdagrad,
    FedAdam,
    FedAvgM,
    FedYogi,
    ServerOptimized,
    global_model_spec,
    max_global_model_size,
    model_weights,
    split_server_state,
    state_name,
)
from daofed.learning.compression import Compression
from daofed.storage import ModelSpec, Weights, decode, encode

SHAPES = {"0.weight": (4, 3), "0.bias": (4,)}
SPEC = ModelSpec.from_arrays({name: np.zeros(shape, np.float32) for name, shape in SHAPES.items()})

State = dict[str, np.ndarray]  # slot -> float64 array, one tensor's
Reference = Callable[[np.ndarray, State], tuple[np.ndarray, State]]


def _weights(seed: int, scale: float) -> Weights:
    rng = np.random.default_rng(seed)
    return {
        name: (rng.standard_normal(shape) * scale).astype(np.float32)
        for name, shape in SHAPES.items()
    }


def _f32(array: np.ndarray) -> np.ndarray:
    """What a blob stores: the float32 rounding (read back as float64)."""
    return np.asarray(array, dtype=np.float32).astype(np.float64)


# -- float64 references, from the papers ------------------------------------------------


def _fedavgm(lr: float, momentum: float) -> Reference:
    def step(d: np.ndarray, s: State) -> tuple[np.ndarray, State]:
        m = _f32(momentum * s.get("m", 0.0) + d)
        return lr * m, {"m": m}

    return step


def _fedadam(lr: float, b1: float, b2: float, tau: float) -> Reference:
    def step(d: np.ndarray, s: State) -> tuple[np.ndarray, State]:
        m = _f32(b1 * s.get("m", 0.0) + (1 - b1) * d)
        v = _f32(b2 * s.get("v", 0.0) + (1 - b2) * d**2)
        return lr * m / (np.sqrt(v) + tau), {"m": m, "v": v}

    return step


def _fedyogi(lr: float, b1: float, b2: float, tau: float) -> Reference:
    def step(d: np.ndarray, s: State) -> tuple[np.ndarray, State]:
        v0 = s.get("v", np.zeros_like(d))
        m = _f32(b1 * s.get("m", 0.0) + (1 - b1) * d)
        v = _f32(v0 - (1 - b2) * d**2 * np.sign(v0 - d**2))
        return lr * m / (np.sqrt(v) + tau), {"m": m, "v": v}

    return step


def _fedadagrad(lr: float, tau: float) -> Reference:
    def step(d: np.ndarray, s: State) -> tuple[np.ndarray, State]:
        v = _f32(s.get("v", 0.0) + d**2)
        return lr * d / (np.sqrt(v) + tau), {"v": v}

    return step


CASES = [
    ("fedavgm:lr=1.0,momentum=0.9", "fedavgm", _fedavgm(1.0, 0.9)),
    ("fedavgm:lr=0.5,momentum=0.0", "fedavgm", _fedavgm(0.5, 0.0)),
    ("fedadam:lr=0.01,beta1=0.9,beta2=0.99,tau=0.001", "fedadam", _fedadam(0.01, 0.9, 0.99, 1e-3)),
    ("fedyogi:lr=0.01,beta1=0.9,beta2=0.99,tau=0.001", "fedyogi", _fedyogi(0.01, 0.9, 0.99, 1e-3)),
    ("fedadagrad:lr=0.1,tau=0.001", "fedadagrad", _fedadagrad(0.1, 1e-3)),
    ("fedadagrad:lr=0.05,tau=1e-09", "fedadagrad", _fedadagrad(0.05, 1e-9)),
]


@pytest.mark.parametrize(("spec", "optimizer", "reference"), CASES)
def test_three_steps_with_carried_state_match_the_papers(
    spec: str, optimizer: str, reference: Reference
) -> None:
    rule = parse_rule(spec)
    model = _weights(0, 1.0)
    state: Weights = {}
    expected_model = {name: array.astype(np.float64) for name, array in model.items()}
    expected_state: dict[str, State] = {name: {} for name in SHAPES}
    moved_otherwise = False  # whether some step is not plain FedAvg's base + delta
    for step in range(3):
        # deltas shrink and change sign, so Yogi's sign(v - d^2) takes both values
        delta = _weights(10 + step, 0.1 / (step + 1) * (-1) ** step)
        previous = model
        model, state = rule.server_step(model, state, delta)

        for name in SHAPES:
            change, expected_state[name] = reference(
                delta[name].astype(np.float64), expected_state[name]
            )
            expected_model[name] = _f32(expected_model[name] + _f32(change))
        assert sorted(state) == sorted(
            state_name(optimizer, slot, name)
            for name in SHAPES
            for slot in SERVER_OPTIMIZERS[optimizer].slots
        )
        for name in SHAPES:
            assert model[name].dtype == np.float32
            np.testing.assert_array_equal(model[name], expected_model[name])
            for slot, value in expected_state[name].items():
                stored = state[state_name(optimizer, slot, name)]
                assert stored.dtype == np.float32 and stored.shape == SHAPES[name]
                np.testing.assert_array_equal(stored, value)
            moved_otherwise |= not np.array_equal(model[name], previous[name] + delta[name])
    assert moved_otherwise


def test_yogi_differs_from_adam_once_v_is_carried() -> None:
    adam = parse_rule("fedadam:lr=0.01,beta1=0.9,beta2=0.99,tau=0.001")
    yogi = parse_rule("fedyogi:lr=0.01,beta1=0.9,beta2=0.99,tau=0.001")
    base, delta = _weights(0, 1.0), _weights(1, 0.1)
    adam_model, adam_state = adam.server_step(base, {}, delta)
    yogi_model, yogi_state = yogi.server_step(base, {}, delta)
    # from v = 0 both give v = (1 - beta2) d^2
    np.testing.assert_array_equal(
        adam_state["@server/fedadam/v/0.bias"], yogi_state["@server/fedyogi/v/0.bias"]
    )
    second = _weights(2, 0.1)
    _, adam_state = adam.server_step(adam_model, adam_state, second)
    _, yogi_state = yogi.server_step(yogi_model, yogi_state, second)
    assert not np.array_equal(
        adam_state["@server/fedadam/v/0.bias"], yogi_state["@server/fedyogi/v/0.bias"]
    )


@pytest.mark.parametrize(("spec", "optimizer", "reference"), CASES[::2])
def test_another_optimizers_state_is_ignored_and_dropped(
    spec: str, optimizer: str, reference: Reference
) -> None:
    rule = parse_rule(spec)
    base, delta = _weights(0, 1.0), _weights(1, 0.1)
    others = {
        state_name(other, slot, name): np.full(SHAPES[name], 7.0, np.float32)
        for other, cls in SERVER_OPTIMIZERS.items()
        if other != optimizer
        for slot in cls.slots
        for name in SHAPES
    }
    fresh_model, fresh_state = rule.server_step(base, {}, delta)
    model, state = rule.server_step(base, others, delta)
    assert encode({**model, **state}) == encode({**fresh_model, **fresh_state})
    assert all(name.startswith(f"@server/{optimizer}/") for name in state)


def test_plain_rules_drop_server_state() -> None:
    base, delta = _weights(0, 1.0), _weights(1, 0.1)
    state = {state_name("fedavgm", "m", name): np.ones(SHAPES[name], np.float32) for name in SHAPES}
    model, new_state = parse_rule("fedavg:prox=0.1").server_step(base, state, delta)
    assert new_state == {}
    for name in SHAPES:
        np.testing.assert_array_equal(model[name], base[name] + delta[name])


def test_wrappers_pass_the_server_step_through() -> None:
    base, delta = _weights(0, 1.0), _weights(1, 0.1)
    plain = parse_rule("fedadam:lr=0.01,beta1=0.9,beta2=0.99,tau=0.001")
    wrapped = parse_rule("fedadam:lr=0.01,beta1=0.9,beta2=0.99,tau=0.001,clip=1.0,prox=0.01")
    assert wrapped.proximal_mu == 0.01 and plain.proximal_mu == 0.0
    a, b = plain.server_step(base, {}, delta), wrapped.server_step(base, {}, delta)
    assert encode({**a[0], **a[1]}) == encode({**b[0], **b[1]})


def test_an_overflowing_step_is_refused_with_advice() -> None:
    rule = parse_rule("fedavgm:lr=1e38,momentum=0.9")
    with pytest.raises(LearningError, match=r"overflows in tensor .* clip="):
        rule.server_step(_weights(0, 1.0), {}, _weights(1, 100.0))


def test_split_and_model_weights() -> None:
    model = _weights(0, 1.0)
    state = {state_name("fedyogi", "v", "0.bias"): np.ones(4, np.float32)}
    assert split_server_state({**model, **state}) == (model, state)
    assert model_weights({**model, **state}).keys() == model.keys()


# -- specs ------------------------------------------------------------------------------

ADAM = FedAdam(lr=0.01, beta1=0.9, beta2=0.99, tau=0.001)


@pytest.mark.parametrize(
    ("spec", "rule"),
    [
        ("fedavgm:lr=1.0,momentum=0.9", ServerOptimized(FedAvg(), FedAvgM(lr=1.0, momentum=0.9))),
        ("fedadam:lr=0.01,beta1=0.9,beta2=0.99,tau=0.001", ServerOptimized(FedAvg(), ADAM)),
        (
            "fedadam:lr=0.01,beta1=0.9,beta2=0.99,tau=0.001,prox=0.01",
            Proximal(ServerOptimized(FedAvg(), ADAM), 0.01),
        ),
        (
            "fedyogi:lr=0.01,beta1=0.9,beta2=0.99,tau=0.001,of=median",
            ServerOptimized(Median(), FedYogi(lr=0.01, beta1=0.9, beta2=0.99, tau=0.001)),
        ),
        ("fedadagrad:lr=0.05,tau=0.001", ServerOptimized(FedAvg(), FedAdagrad(lr=0.05, tau=0.001))),
        (
            "fedadagrad:lr=0.1,tau=0.001,of=multi-krum,f=1,m=3",
            ServerOptimized(MultiKrum(f=1, m=3), FedAdagrad(lr=0.1, tau=0.001)),
        ),
        (
            "fedavgm:lr=1.0,momentum=0.0,of=trimmed-mean,beta=0.2,clip=1.0,prox=0.5,compress=int8",
            Compressed(
                Proximal(
                    Clipped(ServerOptimized(TrimmedMean(0.2), FedAvgM(lr=1.0, momentum=0.0)), 1.0),
                    0.5,
                ),
                Compression.INT8,
            ),
        ),
    ],
)
def test_server_specs_round_trip(spec: str, rule: object) -> None:
    parsed = parse_rule(spec)
    assert parsed == rule
    assert parsed.spec == spec
    assert parse_rule(parsed.spec) == parsed


@pytest.mark.parametrize(
    ("spec", "canonical"),
    [
        ("fedavgm:momentum=0.9,lr=1", "fedavgm:lr=1.0,momentum=0.9"),
        ("fedadagrad:tau=1e-3,lr=.1", "fedadagrad:lr=0.1,tau=0.001"),
        ("fedavgm:lr=1,momentum=0.9,of=fedavg", "fedavgm:lr=1.0,momentum=0.9"),
        (
            "fedyogi: of=krum, f=1, tau=0.001, lr=0.01, beta2=0.99, beta1=0.9",
            "fedyogi:lr=0.01,beta1=0.9,beta2=0.99,tau=0.001,of=krum,f=1",
        ),
        (
            "fedadam:prox=0.01,lr=0.01,beta1=0.9,beta2=0.99,tau=0.001,clip=2",
            "fedadam:lr=0.01,beta1=0.9,beta2=0.99,tau=0.001,clip=2.0,prox=0.01",
        ),
    ],
)
def test_server_variants_parse_to_the_canonical_spec(spec: str, canonical: str) -> None:
    assert parse_rule(spec).spec == canonical
    assert parse_rule(canonical) == parse_rule(spec)


ADAM_SPEC = "fedadam:lr=0.01,beta1=0.9,beta2=0.99,tau=0.001"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("fedadam:lr=0.01,beta1=1.5,beta2=0.99,tau=0.001", r"fedadam beta1 must be >= 0 and < 1"),
        ("fedadam:lr=0.01,beta1=0.9,beta2=1.0,tau=0.001", r"fedadam beta2 must be >= 0 and < 1"),
        ("fedyogi:lr=0.01,beta1=-0.1,beta2=0.99,tau=0.001", r"fedyogi beta1 must be >= 0"),
        ("fedadam:lr=0.01,beta1=0.9,beta2=0.99,tau=0", r"fedadam tau must be > 0, got 0.0"),
        ("fedadagrad:lr=0.1,tau=-1", r"fedadagrad tau must be > 0"),
        ("fedavgm:lr=-1,momentum=0.9", r"fedavgm lr must be > 0, got -1.0"),
        ("fedavgm:lr=0,momentum=0.9", r"fedavgm lr must be > 0"),
        ("fedavgm:lr=1.0,momentum=1.0", r"fedavgm momentum must be >= 0 and < 1"),
        ("fedavgm:lr=inf,momentum=0.9", r"lr must be a finite number"),
        ("fedadam:lr=nan,beta1=0.9,beta2=0.99,tau=0.001", r"lr must be a finite number"),
        (ADAM_SPEC + ",of=foo", r"of='foo': fedadam steps with one of fedavg, median"),
        (ADAM_SPEC + ",of=fedyogi", r"of='fedyogi'"),
        ("fedadam:lr=0.01,beta1=0.9,beta2=0.99", r"fedadam: missing \['tau'\] parameters"),
        ("fedadagrad:lr=0.1", r"fedadagrad: missing \['tau'\]"),
        ("fedavgm", r"fedavgm: missing \['lr', 'momentum'\]"),
        (ADAM_SPEC + ",eps=1e-8", r"fedadam: unknown \['eps'\] parameters"),
        ("fedadagrad:lr=0.1,tau=0.001,beta1=0.9", r"unknown \['beta1'\]"),
        (ADAM_SPEC + ",of=median,beta=0.2", r"fedadam of median: unknown \['beta'\]"),
        (ADAM_SPEC + ",of=trimmed-mean", r"fedadam of trimmed-mean: missing \['beta'\]"),
        (ADAM_SPEC + ",of=krum,f=x", r"f must be a whole number"),
        (ADAM_SPEC + ",prox=0", r"prox must be a positive number"),
        (ADAM_SPEC + ",prox=-0.1", r"prox must be a positive number"),
        (ADAM_SPEC + ",lr=0.1", r"'lr' is given twice"),
        ("fedadam:lr=0.01,beta1", r"'beta1' is not key=value"),
    ],
)
def test_bad_server_specs_are_refused_with_the_grammar(spec: str, message: str) -> None:
    with pytest.raises(LearningError, match=message) as raised:
        parse_rule(spec)
    text = str(raised.value)
    assert text.startswith(f"rule {spec!r}: ")
    assert text.endswith(f"Rules: {GRAMMAR}")
    assert "\n" not in text


# -- the global model blob's layout -----------------------------------------------------


def _state(optimizer: str, value: float = 0.5) -> Weights:
    return {
        state_name(optimizer, slot, tensor.name): np.full(tensor.shape, value, np.float32)
        for tensor in SPEC.tensors
        for slot in SERVER_OPTIMIZERS[optimizer].slots
    }


def test_a_plain_model_has_the_models_spec() -> None:
    assert global_model_spec(SPEC, SPEC.names) == SPEC
    assert global_model_spec(SPEC, ()) == SPEC


@pytest.mark.parametrize("optimizer", sorted(SERVER_OPTIMIZERS))
def test_one_state_tensor_asks_for_all_of_its_optimizers_state(optimizer: str) -> None:
    state = _state(optimizer)
    one = next(iter(state))
    spec = global_model_spec(SPEC, [*SPEC.names, one])
    assert set(spec.names) == set(SPEC.names) | set(state)
    assert all(t.dtype == "float32" for t in spec.tensors)
    blob = encode({**_weights(0, 1.0), **state})
    assert decode(blob, spec).keys() == set(spec.names)


def test_unknown_prefixes_and_a_second_optimizer_are_not_in_the_spec() -> None:
    unknown = global_model_spec(SPEC, [*SPEC.names, "@server/fedfoo/m/0.bias"])
    assert unknown == SPEC
    adam, adagrad = _state("fedadam"), _state("fedadagrad")
    both = global_model_spec(SPEC, [*SPEC.names, *adam, *adagrad])
    assert set(both.names) == set(SPEC.names) | set(adam)  # the first optimiser named


def test_max_global_model_size_bounds_every_valid_blob() -> None:
    model = _weights(0, 1.0)
    sizes = [len(encode(model))] + [
        len(encode({**model, **_state(optimizer)})) for optimizer in SERVER_OPTIMIZERS
    ]
    assert max_global_model_size(SPEC) == max(sizes)
    assert max_global_model_size(SPEC) > SPEC.encoded_size
