from __future__ import annotations

import numpy as np
import pytest
import torch

from daofed.errors import LearningError
from daofed.learning import ModelConfig, build_model, mlp_task, model_spec
from daofed.learning.task import load_weights, weights_of
from daofed.storage import decode, encode

DIGITS = mlp_task(ModelConfig())


@pytest.mark.parametrize(
    "cfg", [ModelConfig(), ModelConfig(input_dim=8, hidden=(16, 4), num_classes=3)]
)
def test_tensor_shapes_match_the_built_model(cfg: ModelConfig) -> None:
    state = build_model(cfg).state_dict()
    assert {k: tuple(v.shape) for k, v in state.items()} == cfg.tensor_shapes()


def test_default_mlp_is_64_64_10() -> None:
    assert ModelConfig().tensor_shapes() == {
        "0.weight": (64, 64),
        "0.bias": (64,),
        "2.weight": (10, 64),
        "2.bias": (10,),
    }


def test_initial_weights_are_seeded_and_leave_global_rng_alone() -> None:
    before = torch.get_rng_state()
    a, b, c = DIGITS.initial_weights(1), DIGITS.initial_weights(1), DIGITS.initial_weights(2)
    assert torch.equal(before, torch.get_rng_state())
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["0.weight"], c["0.weight"])
    assert all(v.dtype == np.float32 for v in a.values())
    assert list(a) == ["0.weight", "0.bias", "2.weight", "2.bias"]  # the model's own order


def test_weights_round_trip_through_a_model() -> None:
    w = DIGITS.initial_weights(5)
    model = build_model(ModelConfig())
    load_weights(model, w)
    back = weights_of(model)
    assert all(np.array_equal(w[k], back[k]) for k in w)
    back["0.bias"][:] = 7.0  # an owned copy: the model is unaffected
    assert not torch.any(model.state_dict()["0.bias"] == 7.0)


def test_integer_buffers_stay_local() -> None:
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3))
    weights = weights_of(model)
    assert "1.num_batches_tracked" not in weights
    assert "1.running_mean" in weights and "1.weight" in weights
    load_weights(model, {k: v + 1 for k, v in weights.items()})
    assert float(model.state_dict()["1.running_mean"][0]) == 1.0


def test_load_weights_rejects_other_models() -> None:
    model = build_model(ModelConfig())
    other = mlp_task(ModelConfig(hidden=(32,))).initial_weights(0)
    with pytest.raises(LearningError, match="shape"):
        load_weights(model, other)
    w = DIGITS.initial_weights(0)
    del w["2.bias"]
    with pytest.raises(LearningError, match="missing"):
        load_weights(model, w)
    w = {k: v.astype(np.float64) for k, v in DIGITS.initial_weights(0).items()}
    with pytest.raises(LearningError, match="float32"):
        load_weights(model, w)


def test_model_spec_decodes_encoded_weights() -> None:
    w = DIGITS.initial_weights(0)
    back = decode(encode(w), model_spec(ModelConfig()))
    assert all(np.array_equal(w[k], back[k]) for k in w)


def test_invalid_config() -> None:
    with pytest.raises(LearningError, match="num_classes"):
        ModelConfig(num_classes=1)
