"""The task seam: what a federation trains, written by its members, not by daofed.

A *task* is the model (its weight layout), how a member loads its local data, how it
trains one round from the base weights, and how a model is evaluated (a dict of named
metrics). It is the one place user code enters; everything around it (updates,
aggregation, votes, audit) is daofed's protocol core and never changes per task.

The contract is Flower's ``NumPyClient`` with names on the arrays: ``fit`` gets the
round's base weights and a config dict (``round``, ``seed`` and the member's own
options) and returns the trained weights and how many examples it trained on.
When the federation's rule says ``prox=<mu>`` the config also carries ``proximal_mu``
(Flower's FedProx key), and a task should add FedProx's proximal term to its local
loss, e.g. with :class:`ProximalTerm`.
Weights cross the seam as ``{tensor name: float32 numpy array}``, never as torch
objects, so a task can train with anything. :class:`TorchTask` does the numpy <-> torch
plumbing for a PyTorch model: write ``build_model``, ``load_data``, ``train`` and
``evaluate_model``.

Training code need not be identical across members: only the layout of what ``fit``
returns is checked (against the federation's genesis), and only aggregation must be
bit-exact.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import numpy as np
import torch
from torch import nn

from daofed.errors import ConfigError, LearningError
from daofed.learning.data import Dataset
from daofed.learning.weights import Weights, check_layout

DataT = TypeVar("DataT")

Scalar = bool | int | float | str
FitConfig = Mapping[str, Scalar]
"""What ``fit`` is told: ``round`` and ``seed`` always, ``proximal_mu`` (a float > 0) when
the federation's rule says ``prox=<mu>``, plus the member's own options (``epochs`` from
``daofed agent run --epochs``, ``--fit-config key=value`` pairs)."""

Metrics = dict[str, float]


@dataclass(frozen=True, eq=False)
class FitResult:
    """What one round of local training produced: new weights and their example count.

    ``num_examples`` is the update's FedAvg weight, published on chain with it.
    """

    weights: Weights
    num_examples: int


class Task(ABC, Generic[DataT]):
    """What a federation trains; subclass :class:`TorchTask` for a PyTorch model.

    ``name`` is recorded in the genesis model, so every member and auditor can see which
    task the federation pinned. ``DataT`` is whatever ``load_data`` returns: the task's
    own business, only ever handed back to the task.
    """

    name: str

    @abstractmethod
    def initial_weights(self, seed: int) -> Weights:
        """Seeded initial weights, in the model's own tensor order (the genesis model)."""

    @abstractmethod
    def load_data(self, path: Path) -> DataT:
        """Load a member's private data (training, or held-out test data for evaluation)."""

    @abstractmethod
    def fit(self, weights: Weights, data: DataT, config: FitConfig) -> FitResult:
        """Train one round from ``weights`` on ``data``; return the new weights.

        ``config["seed"]`` must make training reproducible: a member restarted mid-round
        retrains and must arrive at the very same update. A ``proximal_mu`` key is
        FedProx's mu: the federation wants ``(mu/2) * ||w - weights||^2`` added to the
        local loss, keeping members near the base when their data are skewed.
        """

    @abstractmethod
    def evaluate(self, weights: Weights, data: DataT) -> Metrics:
        """Named metrics of ``weights`` on ``data`` (``accuracy``, ``loss``, ``roc_auc`` ...)."""

    def dataset(self) -> Dataset:
        """Return a whole labelled data set to split among demo members (built-in tasks)."""
        raise ConfigError(
            f"task {self.name!r} ships no data set of its own: give each member its data "
            "file (daofed agent run --data FILE) instead of running the demo with it"
        )

    def as_data(self, dataset: Dataset) -> DataT:
        """Turn a split of :meth:`dataset` into this task's data (demo and data split)."""
        raise ConfigError(f"task {self.name!r} cannot use daofed's data splits")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({getattr(self, 'name', None)!r})"


class TorchTask(Task[DataT]):
    """A task whose model is a PyTorch ``nn.Module``: daofed moves the weights in and out.

    The federated weights are the module's floating-point ``state_dict`` entries
    (parameters and float buffers), as float32; integer buffers such as BatchNorm's
    ``num_batches_tracked`` stay local to each member.

    ``train`` should honour ``config.get("proximal_mu", 0.0)`` (FedProx): make a
    :class:`ProximalTerm` before the first step and add ``term(model)`` to each batch loss.
    """

    @abstractmethod
    def build_model(self) -> nn.Module:
        """Build a fresh model; its initial parameters come from torch's global RNG."""

    @abstractmethod
    def train(self, model: nn.Module, data: DataT, config: FitConfig) -> int:
        """Train ``model`` in place for one round; return the number of examples used."""

    @abstractmethod
    def evaluate_model(self, model: nn.Module, data: DataT) -> Metrics:
        """Named metrics of ``model`` on ``data``."""

    def initial_weights(self, seed: int) -> Weights:
        """Build the model under ``torch.manual_seed(seed)``, leaving the global RNG as it was."""
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            return weights_of(self.build_model())

    def fit(self, weights: Weights, data: DataT, config: FitConfig) -> FitResult:
        """Load ``weights``, run :meth:`train` under ``config['seed']``, read the weights out."""
        model = self.model_with(weights)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(config.get("seed", 0)))
            num_examples = self.train(model, data, config)
        return FitResult(weights_of(model), int(num_examples))

    def evaluate(self, weights: Weights, data: DataT) -> Metrics:
        """Evaluate ``weights`` with :meth:`evaluate_model` in eval mode, without gradients."""
        model = self.model_with(weights)
        model.eval()
        with torch.no_grad():
            return {name: float(value) for name, value in self.evaluate_model(model, data).items()}

    def model_with(self, weights: Weights) -> nn.Module:
        """Build a model holding ``weights`` (without touching torch's global RNG)."""
        with torch.random.fork_rng(devices=[]):
            model = self.build_model()
        load_weights(model, weights)
        return model


def check_proximal_mu(mu: object) -> float:
    """Return FedProx's ``mu`` as a float; raise :class:`LearningError` unless finite and >= 0."""
    if isinstance(mu, bool) or not isinstance(mu, int | float) or not math.isfinite(mu) or mu < 0:
        raise LearningError(f"proximal_mu must be a finite number >= 0, got {mu!r}")
    return float(mu)


class ProximalTerm:
    """FedProx's proximal term ``(mu/2) * ||w - w_base||^2`` (Li et al., MLSys 2020).

    Made from the model *before* local training, it snapshots the parameters as the base
    (detached copies: the base is a constant, so the term's gradient is
    ``mu * (w - w_base)``). Adding ``term(model)`` to every batch loss keeps a member's
    update near the round's base, which limits client drift under non-IID data.
    Parameters only: buffers (BatchNorm statistics) are not trained by gradients.
    """

    def __init__(self, model: nn.Module, mu: float) -> None:
        self.mu = check_proximal_mu(mu)
        self._base = [p.detach().clone() for p in model.parameters()]

    def __call__(self, model: nn.Module) -> torch.Tensor:
        """Return the term for ``model``'s current parameters: a scalar tensor with gradient."""
        params = list(model.parameters())
        if len(params) != len(self._base):
            raise LearningError(
                f"the model has {len(params)} parameter tensors but the proximal term's base "
                f"has {len(self._base)}: make the term from the model being trained"
            )
        squared = torch.stack(
            [(p - b).pow(2).sum() for p, b in zip(params, self._base, strict=True)]
        )
        return (self.mu / 2) * squared.sum()


def weights_of(model: nn.Module) -> Weights:
    """Copy a module's floating-point ``state_dict`` entries out as float32 numpy arrays."""
    return {
        name: tensor.detach().cpu().numpy().astype(np.float32, copy=True)
        for name, tensor in model.state_dict().items()
        if tensor.is_floating_point()
    }


def load_weights(model: nn.Module, weights: Weights) -> None:
    """Copy float32 ``weights`` into ``model``'s floating-point entries; names and shapes match.

    Reuses :func:`~daofed.learning.weights.check_layout`, so a mismatch names the tensor.
    """
    state = model.state_dict()
    floating = {name: tensor for name, tensor in state.items() if tensor.is_floating_point()}
    check_layout({name: tensor.numpy() for name, tensor in floating.items()}, weights, "weights")
    for name in floating:
        array: Any = weights[name]
        if np.asarray(array).dtype != np.float32:
            raise LearningError(
                f"tensor {name!r} is {np.asarray(array).dtype}; model weights must be float32"
            )
        state[name] = torch.from_numpy(np.array(array, copy=True)).to(state[name].dtype)
    model.load_state_dict(state, strict=True)
