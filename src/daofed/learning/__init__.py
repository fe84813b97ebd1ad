"""Learning layer: data, the MLP, local training, evaluation and aggregation rules.

Everything crossing the layer boundary is numpy (``Weights``) or a frozen dataclass;
torch stays inside :mod:`.model` and :mod:`.train`. Names below are imported on first
use, so ``daofed.learning.aggregation`` (numpy only: what auditors and aggregating
members need) loads without paying for torch's ~1 s import.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from daofed.learning.data import (
        Dataset,
        FederatedSplit,
        MemberData,
        load_digits,
        load_member_file,
        save_csv,
        save_member_file,
        save_npz,
        split_federated,
    )
    from daofed.learning.model import (
        ModelConfig,
        build_model,
        initial_weights,
        load_weights,
        model_spec,
        model_with,
        weights_of,
    )
    from daofed.learning.simulation import SimulationResult, simulate
    from daofed.learning.train import TrainConfig, evaluate, train_centralized, train_local
    from daofed.learning.weights import Weights

_HOME = {
    "daofed.learning.data": (
        "Dataset",
        "FederatedSplit",
        "MemberData",
        "load_digits",
        "load_member_file",
        "save_csv",
        "save_member_file",
        "save_npz",
        "split_federated",
    ),
    "daofed.learning.model": (
        "ModelConfig",
        "build_model",
        "initial_weights",
        "load_weights",
        "model_spec",
        "model_with",
        "weights_of",
    ),
    "daofed.learning.simulation": ("SimulationResult", "simulate"),
    "daofed.learning.train": ("TrainConfig", "evaluate", "train_centralized", "train_local"),
    "daofed.learning.weights": ("Weights",),
}
_MODULE_OF = {name: module for module, names in _HOME.items() for name in names}

__all__ = [
    "Dataset",
    "FederatedSplit",
    "MemberData",
    "ModelConfig",
    "SimulationResult",
    "TrainConfig",
    "Weights",
    "build_model",
    "evaluate",
    "initial_weights",
    "load_digits",
    "load_member_file",
    "load_weights",
    "model_spec",
    "model_with",
    "save_csv",
    "save_member_file",
    "save_npz",
    "simulate",
    "split_federated",
    "train_centralized",
    "train_local",
    "weights_of",
]


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'daofed.learning' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
