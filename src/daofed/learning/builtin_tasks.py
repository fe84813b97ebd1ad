"""The tasks daofed ships, all on data bundled with scikit-learn (nothing to download).

- ``digits-mlp``: the 8x8 handwritten digits flattened, an MLP (64-64-10); the default.
- ``digits-cnn``: the same images as 1x8x8 pictures, a small CNN.
- ``breast-cancer``: the Wisconsin breast cancer table (30 features, binary), an MLP;
  its metrics include ROC AUC.

Each is a :class:`ClassifierTask`: a model factory, the data set it ships (for the demo
and ``daofed data split``), and :class:`~daofed.learning.train.TrainConfig` defaults a
member can override per round (``--epochs``, ``--fit-config lr=0.01``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from torch import nn

from daofed.errors import ConfigError, LearningError
from daofed.learning.data import Dataset, load_breast_cancer, load_digits, load_member_file
from daofed.learning.model import ModelConfig, build_model
from daofed.learning.task import FitConfig, Metrics, TorchTask
from daofed.learning.train import TrainConfig, classifier_metrics, train_classifier


@dataclass(frozen=True, eq=False, repr=False)
class ClassifierTask(TorchTask[Dataset]):
    """A PyTorch classifier trained with cross-entropy on ``x [n, features]``, ``y [n]``."""

    name: str
    build: Callable[[], nn.Module]
    features: int
    training: TrainConfig = field(default_factory=TrainConfig)
    ships: Callable[[], Dataset] | None = None
    binary: bool = False

    def build_model(self) -> nn.Module:
        """Build a fresh model with the task's factory."""
        return self.build()

    def load_data(self, path: Path) -> Dataset:
        """Read a ``.npz``/``.csv`` member file and check it has this task's features."""
        return self._checked(load_member_file(path), str(path))

    def train(self, model: nn.Module, data: Dataset, config: FitConfig) -> int:
        """Train with the task's :class:`TrainConfig`, overridden by matching config keys."""
        return train_classifier(
            model,
            self._checked(data, "training data"),
            train=self.training_for(config),
            seed=int(config.get("seed", 0)),
        )

    def evaluate_model(self, model: nn.Module, data: Dataset) -> Metrics:
        """Accuracy and loss (and ROC AUC for a binary task)."""
        return classifier_metrics(model, self._checked(data, "test data"), binary=self.binary)

    def training_for(self, config: FitConfig) -> TrainConfig:
        """Return the task's training settings with the config's ``epochs``, ``lr``... applied."""
        names = {f.name for f in dataclasses.fields(TrainConfig)}
        try:
            return dataclasses.replace(
                self.training,
                **{k: v for k, v in config.items() if k in names},  # type: ignore[arg-type]
            )
        except (TypeError, LearningError) as error:
            raise ConfigError(f"task {self.name!r}: bad training option: {error}") from None

    def dataset(self) -> Dataset:
        """Return the bundled data set the demo splits among members."""
        if self.ships is None:
            return super().dataset()
        return self.ships()

    def as_data(self, dataset: Dataset) -> Dataset:
        """Return a split of :meth:`dataset` as it is: it is already this task's data."""
        return self._checked(dataset, "data")

    def _checked(self, data: Dataset, what: str) -> Dataset:
        if data.x.shape[1] != self.features:
            raise ConfigError(
                f"task {self.name!r} takes {self.features} features per sample, but the "
                f"{what} has {data.x.shape[1]}: use data made for this task"
            )
        return data


def mlp_task(config: ModelConfig, name: str = "digits-mlp") -> ClassifierTask:
    """Make an MLP classifier task on the digits (any width: the benchmarks use wide ones)."""
    return ClassifierTask(
        name=name, build=lambda: build_model(config), features=config.input_dim, ships=load_digits
    )


def _digits_cnn() -> nn.Module:
    """Two 3x3 conv layers (16, 32 channels) with 2x2 max-pooling, then a linear layer."""
    return nn.Sequential(
        nn.Unflatten(1, (1, 8, 8)),
        nn.Conv2d(1, 16, kernel_size=3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, kernel_size=3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(32 * 2 * 2, 10),
    )


def _breast_cancer_mlp() -> nn.Module:
    return build_model(ModelConfig(input_dim=30, hidden=(32,), num_classes=2))


BUILTIN_TASKS: dict[str, Callable[[], ClassifierTask]] = {
    "digits-mlp": lambda: mlp_task(ModelConfig()),
    "digits-cnn": lambda: ClassifierTask(
        name="digits-cnn",
        build=_digits_cnn,
        features=64,
        # lr 0.05 (the MLP's) drives the CNN to 0.84 even trained centrally; 0.02 gave
        # 0.97-0.99 federated and centrally, IID and Dirichlet(0.5), seeds 0 and 1
        training=TrainConfig(lr=0.02),
        ships=load_digits,
    ),
    "breast-cancer": lambda: ClassifierTask(
        name="breast-cancer",
        build=_breast_cancer_mlp,
        features=30,
        ships=load_breast_cancer,
        binary=True,
    ),
}
"""Built-in task names and how to make each."""

DEFAULT_TASK = "digits-mlp"
