"""Learning layer: data, the MLP, local training, evaluation and aggregation rules.

Everything crossing the layer boundary is numpy (``Weights``) or a frozen dataclass;
torch stays inside :mod:`.model` and :mod:`.train`.
"""

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
from daofed.learning.train import TrainConfig, evaluate, train_centralized, train_local
from daofed.learning.weights import Weights

__all__ = [
    "Dataset",
    "FederatedSplit",
    "MemberData",
    "ModelConfig",
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
    "split_federated",
    "train_centralized",
    "train_local",
    "weights_of",
]
