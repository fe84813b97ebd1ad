"""The MLP of the ``digits-mlp`` task (and of the benchmarks' wide models).

Weights leave torch as soon as possible and enter it as late as possible (see
:mod:`daofed.learning.task`): the rest of daofed (storage, aggregation, audit) handles
plain float32 numpy arrays named by the ``state_dict`` keys, never torch objects.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from torch import nn

from daofed.errors import LearningError
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

    Like any ``nn.Module`` constructor this draws from torch's global RNG; tasks seed it
    (:meth:`daofed.learning.task.TorchTask.initial_weights`).
    """
    sizes = (cfg.input_dim, *cfg.hidden, cfg.num_classes)
    layers: list[nn.Module] = []
    for fan_in, fan_out in itertools.pairwise(sizes):
        layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
    return nn.Sequential(*layers[:-1])  # no ReLU on the logits


def model_spec(cfg: ModelConfig) -> ModelSpec:
    """Return the storage ``ModelSpec`` (names, shapes, float32) updates and models must match."""
    zeros = {name: np.zeros(shape, dtype=np.float32) for name, shape in cfg.tensor_shapes().items()}
    return ModelSpec.from_arrays(zeros)
