"""The model every member trains: a small MLP, and its weights as numpy arrays.

Weights leave torch as soon as possible (``weights_of``) and enter it as late as possible
(``load_weights``): the rest of daofed (storage, aggregation, audit) handles plain
float32 numpy arrays named by the ``state_dict`` keys, never torch objects or pickles.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from daofed.errors import LearningError
from daofed.learning.weights import Weights, check_layout
from daofed.storage.codec import ModelSpec


@dataclass(frozen=True)
class ModelConfig:
    """Shape of the MLP: ``input_dim -> hidden[0] -> ... -> num_classes`` with ReLU between.

    The federation fixes it at genesis: every member must use the same config, since the
    tensor names and shapes of updates are checked against it.
    """

    input_dim: int = 64
    hidden: tuple[int, ...] = (64,)
    num_classes: int = 10

    def __post_init__(self) -> None:
        sizes = (self.input_dim, *self.hidden, self.num_classes)
        if any(s < 1 for s in sizes) or self.num_classes < 2:
            raise LearningError(
                f"invalid model sizes {sizes}: every layer needs >= 1 unit and num_classes >= 2"
            )

    def tensor_shapes(self) -> dict[str, tuple[int, ...]]:
        """Names and shapes of the weights, without building (or seeding) a model.

        Names follow ``nn.Sequential`` numbering, where ReLUs take the odd indices.
        """
        sizes = (self.input_dim, *self.hidden, self.num_classes)
        shapes: dict[str, tuple[int, ...]] = {}
        for layer, (fan_in, fan_out) in enumerate(itertools.pairwise(sizes)):
            shapes[f"{2 * layer}.weight"] = (fan_out, fan_in)
            shapes[f"{2 * layer}.bias"] = (fan_out,)
        return shapes


def build_model(cfg: ModelConfig) -> nn.Sequential:
    """Return the MLP for ``cfg`` with PyTorch's default initialisation.

    Like any ``nn.Module`` constructor this draws from torch's global RNG; use
    :func:`initial_weights` for seeded weights or :func:`load_weights` to set them.
    """
    sizes = (cfg.input_dim, *cfg.hidden, cfg.num_classes)
    layers: list[nn.Module] = []
    for fan_in, fan_out in itertools.pairwise(sizes):
        layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
    return nn.Sequential(*layers[:-1])  # no ReLU on the logits


def initial_weights(cfg: ModelConfig, seed: int) -> Weights:
    """Seeded initial (genesis) weights: the same ``seed`` gives the same arrays.

    Seeds torch inside ``torch.random.fork_rng`` so the caller's global RNG state is
    left exactly as it was.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return weights_of(build_model(cfg))


def model_with(cfg: ModelConfig, weights: Weights) -> nn.Sequential:
    """Build the MLP for ``cfg`` holding ``weights``, leaving torch's global RNG untouched."""
    with torch.random.fork_rng(devices=[]):
        model = build_model(cfg)
    load_weights(model, weights)
    return model


def weights_of(model: nn.Module) -> Weights:
    """Copy a model's ``state_dict`` out as float32 numpy arrays (owned, writable)."""
    return {
        name: tensor.detach().cpu().numpy().astype(np.float32, copy=True)
        for name, tensor in model.state_dict().items()
    }


def load_weights(model: nn.Module, weights: Weights) -> None:
    """Copy ``weights`` into ``model``; names and shapes must match its ``state_dict``."""
    current = weights_of(model)
    check_layout(current, weights, "weights")
    for name in current:
        if weights[name].dtype != np.float32:
            raise LearningError(
                f"tensor {name!r} is {weights[name].dtype}; model weights must be float32"
            )
    state = {name: torch.from_numpy(np.array(weights[name], copy=True)) for name in current}
    model.load_state_dict(state, strict=True)


def model_spec(cfg: ModelConfig) -> ModelSpec:
    """Return the storage ``ModelSpec`` (names, shapes, float32) updates and models must match."""
    zeros = {name: np.zeros(shape, dtype=np.float32) for name, shape in cfg.tensor_shapes().items()}
    return ModelSpec.from_arrays(zeros)
