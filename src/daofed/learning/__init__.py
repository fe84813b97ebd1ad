"""Learning layer: tasks (model + data + training + metrics), data, aggregation rules.

Everything crossing the layer boundary is numpy (``Weights``) or a frozen dataclass;
torch stays inside tasks. Names below are imported on first use, so
``daofed.learning.aggregation`` (numpy only: what auditors and aggregating members need)
loads without paying for torch's ~1 s import.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from daofed.learning.builtin_tasks import BUILTIN_TASKS, DEFAULT_TASK, ClassifierTask, mlp_task
    from daofed.learning.data import (
        Dataset,
        FederatedSplit,
        MemberData,
        load_breast_cancer,
        load_digits,
        load_member_file,
        save_csv,
        save_member_file,
        save_npz,
        split_federated,
    )
    from daofed.learning.model import ModelConfig, build_model, model_spec
    from daofed.learning.task import (
        FitConfig,
        FitResult,
        Metrics,
        ProximalTerm,
        Task,
        TorchTask,
    )
    from daofed.learning.task_loader import load_task
    from daofed.learning.train import TrainConfig
    from daofed.learning.weights import Weights

_HOME = {
    "daofed.learning.builtin_tasks": (
        "BUILTIN_TASKS",
        "DEFAULT_TASK",
        "ClassifierTask",
        "mlp_task",
    ),
    "daofed.learning.data": (
        "Dataset",
        "FederatedSplit",
        "MemberData",
        "load_breast_cancer",
        "load_digits",
        "load_member_file",
        "save_csv",
        "save_member_file",
        "save_npz",
        "split_federated",
    ),
    "daofed.learning.model": ("ModelConfig", "build_model", "model_spec"),
    "daofed.learning.task": (
        "FitConfig",
        "FitResult",
        "Metrics",
        "ProximalTerm",
        "Task",
        "TorchTask",
    ),
    "daofed.learning.task_loader": ("load_task",),
    "daofed.learning.train": ("TrainConfig",),
    "daofed.learning.weights": ("Weights",),
}
_MODULE_OF = {name: module for module, names in _HOME.items() for name in names}

__all__ = [
    "BUILTIN_TASKS",
    "DEFAULT_TASK",
    "ClassifierTask",
    "Dataset",
    "FederatedSplit",
    "FitConfig",
    "FitResult",
    "MemberData",
    "Metrics",
    "ModelConfig",
    "ProximalTerm",
    "Task",
    "TorchTask",
    "TrainConfig",
    "Weights",
    "build_model",
    "load_breast_cancer",
    "load_digits",
    "load_member_file",
    "load_task",
    "mlp_task",
    "model_spec",
    "save_csv",
    "save_member_file",
    "save_npz",
    "split_federated",
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
