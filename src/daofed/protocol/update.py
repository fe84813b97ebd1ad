"""A member's update: train from the base, take the delta, privatize, compress, encode.

This is the only implementation of it. Agents, the in-process simulation, the poisoning
experiment and the benchmarks all call :func:`make_update` (or :func:`encode_delta` for a
delta made some other way, such as an attack), so the bytes a member publishes are the
same whichever of them produced it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from daofed.errors import DaofedError, TaskError
from daofed.learning.aggregation import compute_delta
from daofed.learning.aggregation.server import model_weights
from daofed.learning.compression import Compression, compress, decompress, encode_update
from daofed.learning.privacy import PrivacySettings, privatize
from daofed.learning.task import FitConfig, FitResult, Task
from daofed.protocol.seeds import training_seed
from daofed.storage import ModelSpec, Weights, encode


@dataclass(frozen=True)
class UpdateRecipe:
    """How a trained delta becomes the published bytes.

    ``compression`` is the round's (its rule's ``compress=``); ``privacy`` the member's
    own local DP, with ``noise_seed`` its secret (see
    :func:`daofed.learning.privacy.noise_seed`).
    """

    compression: Compression = Compression.NONE
    privacy: PrivacySettings | None = None
    noise_seed: int = 0


@dataclass(frozen=True, eq=False)
class Update:
    """An encoded update, the example count it is weighted by, and its decoded delta.

    ``delta`` is what every aggregator decodes from ``blob``, so the member that made it
    aggregates it without decoding its own bytes.
    """

    blob: bytes
    num_examples: int
    delta: Weights


def fit_checked(
    task: Task[Any], base: Weights, data: Any, config: FitConfig, spec: ModelSpec
) -> FitResult:
    """Run ``task.fit`` and check what it returns: the model's tensors, float32, finite.

    Whatever the task does wrong (raises, returns NaN, wrong shapes or dtypes, a bad
    example count) becomes one TaskError that names the task and the problem.
    """
    try:
        result = task.fit({name: array.copy() for name, array in base.items()}, data, config)
    except TaskError:
        raise
    except DaofedError as error:  # says what is wrong; name the task unless it does
        said = str(error)
        named = said if said.startswith(f"task {task.name!r}") else f"task {task.name!r}: {said}"
        raise TaskError(f"{named} (while training)") from None
    except Exception as error:  # user code: any failure is the task's
        raise TaskError(
            f"task {task.name!r} failed to train: {type(error).__name__}: {error}"
        ) from None
    if not isinstance(result, FitResult):
        raise TaskError(
            f"task {task.name!r}: fit returned {type(result).__name__}, not a FitResult"
        )
    _check_weights(task.name, result.weights, spec)
    if (
        isinstance(result.num_examples, bool)
        or not isinstance(result.num_examples, int)
        or (result.num_examples < 1)
    ):
        raise TaskError(
            f"task {task.name!r}: fit reported {result.num_examples!r} examples; "
            "it must be a positive integer"
        )
    return result


def _check_weights(task: str, weights: Any, spec: ModelSpec) -> None:
    if not isinstance(weights, dict):
        raise TaskError(f"task {task!r}: fit returned {type(weights).__name__} weights, not a dict")
    for tensor in spec.tensors:
        if tensor.name not in weights:
            raise TaskError(f"task {task!r}: fit returned no tensor {tensor.name!r}")
        array = weights[tensor.name]
        if not isinstance(array, np.ndarray) or array.dtype.name != tensor.dtype:
            kind = array.dtype.name if isinstance(array, np.ndarray) else type(array).__name__
            raise TaskError(
                f"task {task!r}: fit returned tensor {tensor.name!r} as {kind}, "
                f"the federation's model needs {tensor.dtype}"
            )
        if tuple(array.shape) != tensor.shape:
            raise TaskError(
                f"task {task!r}: fit returned tensor {tensor.name!r} of shape "
                f"{list(array.shape)}, the federation's model needs {list(tensor.shape)}"
            )
        if not np.isfinite(array).all():
            raise TaskError(
                f"task {task!r}: fit returned NaN or infinity in tensor {tensor.name!r} "
                "(training diverged? lower the learning rate)"
            )
    extra = sorted(set(weights) - set(spec.names))
    if extra:
        raise TaskError(f"task {task!r}: fit returned unexpected tensor(s) {extra}")


def encode_delta(delta: Weights, recipe: UpdateRecipe) -> bytes:
    """Privatize (if the recipe says so) and encode ``delta`` as the round compresses."""
    return encode_update(_private(delta, recipe), recipe.compression)


def _private(delta: Weights, recipe: UpdateRecipe) -> Weights:
    """Clip and noise ``delta`` when the recipe asks for local DP; else ``delta`` itself."""
    if recipe.privacy is None:
        return delta
    return privatize(delta, recipe.privacy, recipe.noise_seed)


def make_update(
    task: Task[Any],
    base: Weights,
    data: Any,
    *,
    config: FitConfig,
    spec: ModelSpec,
    recipe: UpdateRecipe,
) -> Update:
    """Train from ``base`` on ``data`` and return the update exactly as it is published.

    ``base`` is the round's global model; its server state (if any) is not the task's.
    """
    base = model_weights(base)
    result = fit_checked(task, base, data, config, spec)
    wire = compress(_private(compute_delta(base, result.weights), recipe), recipe.compression)
    return Update(encode(wire), result.num_examples, decompress(wire, recipe.compression))


def fit_config(
    options: FitConfig, *, round_number: int, seed: int, member: str, proximal_mu: float = 0.0
) -> dict[str, Any]:
    """Tell ``fit`` the member's options, the round, its training seed and FedProx's mu.

    ``proximal_mu`` is the round's rule's (``prox=<mu>``), sent as Flower's FedProx sends
    it, and only when positive. It is the federation's choice, so it overrides a member's
    own option of that name.
    """
    config = {**options, "round": round_number, "seed": training_seed(seed, round_number, member)}
    if proximal_mu > 0:
        config["proximal_mu"] = proximal_mu
    return config
