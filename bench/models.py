"""The two model sizes the benchmarks use: MLPs on the digits input, ~100k and ~5M parameters.

The digits MLP is what daofed trains; widening its hidden layers is the simplest way to
get a model whose size, not its data, dominates transfer and aggregation cost.
"""

from __future__ import annotations

import math

import numpy as np

from daofed.learning.model import ModelConfig
from daofed.storage import Weights

SMALL = ModelConfig(hidden=(1333,))  # 64*1333 + 1333 + 1333*10 + 10 = 99,985 parameters
LARGE = ModelConfig(hidden=(2200, 2200))  # 64*2200 + 2200^2 + 2200*10 + biases = 5,007,210
MODELS: dict[str, ModelConfig] = {"100k": SMALL, "5M": LARGE}


def parameter_count(cfg: ModelConfig) -> int:
    """Count the parameters (float32 values) of the MLP ``cfg``."""
    return sum(math.prod(shape) for shape in cfg.tensor_shapes().values())


def synthetic_delta(cfg: ModelConfig, seed: int, scale: float = 0.01) -> Weights:
    """Make a random float32 update of the model's tensors (cost does not depend on values)."""
    rng = np.random.default_rng(seed)
    return {
        name: (rng.standard_normal(shape, dtype=np.float32) * np.float32(scale))
        for name, shape in cfg.tensor_shapes().items()
    }
