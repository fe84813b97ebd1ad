"""Run an unchanged Flower ``NumPyClient`` as a daofed member's trainer.

A Flower project's client holds its own model and data and trades *lists* of numpy
arrays with the server. daofed trades *named* tensors, so :class:`FlowerTask` only needs
the names of the client's list positions, and seeded initial weights for the genesis
model. Give it the project's model factory (``model=Net``: names from its
``state_dict``, initial weights built under ``torch.manual_seed``), or, for a client
that is not PyTorch, ``initial`` (seed -> named arrays in the client's order), or take
both from a federation's genesis model with :meth:`FlowerTask.from_genesis`::

    # task.py, next to the Flower project's own code
    from daofed.flower import FlowerTask
    from my_project.client_app import FlowerClient
    from my_project.task import Net, load_data

    def client_fn(path):                       # was: client_fn(context: Context)
        trainloader, valloader = load_data(path)
        return FlowerClient(Net(), trainloader, valloader)

    task = FlowerTask("my-project", client_fn, model=Net)

``daofed deploy --task task.py:task`` pins the model; ``daofed agent run --task
task.py:task --data FILE`` trains through the client. Each round's ``fit`` config holds
``round``, ``seed`` and the member's own options (``--epochs``, ``--fit-config k=v``).
Flower is imported only when a ``FlowerTask`` is made: ``pip install 'daofed[flower]'``.
"""

from __future__ import annotations

import contextlib
import hashlib
import numbers
import os
import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

from daofed.errors import ConfigError, DaofedError, TaskError
from daofed.learning.task import FitConfig, FitResult, Metrics, Task
from daofed.learning.weights import Weights

if TYPE_CHECKING:
    from flwr.client import NumPyClient

    from daofed.protocol import Genesis

__all__ = ["FlowerTask"]

INSTALL_HINT = "pip install 'daofed[flower]'"


def _numpy_client_class() -> type[NumPyClient]:
    """``flwr.client.NumPyClient``, or a ConfigError saying how to install Flower."""
    try:
        from flwr.client import NumPyClient
    except ImportError:
        raise ConfigError(f"Flower (flwr) is not installed: {INSTALL_HINT}") from None
    return NumPyClient


@dataclass(frozen=True)
class _Layout:
    """The client's list positions by name; ``local`` names stay with the client."""

    names: tuple[str, ...]
    local: frozenset[str]  # e.g. BatchNorm's integer num_batches_tracked

    @property
    def federated(self) -> tuple[str, ...]:
        return tuple(name for name in self.names if name not in self.local)


class FlowerTask(Task["NumPyClient"]):
    """A task whose training and evaluation are an unchanged Flower ``NumPyClient``.

    - ``client_fn(path)`` builds the member's client from its data path (what the Flower
      project's ``client_fn(context)`` does with its ``node_config``);
      :meth:`load_data` returns that client.
    - ``model``: the project's model factory (PyTorch). The client's list is taken to be
      its ``state_dict`` in order (as Flower's ``get_weights`` sends it); floating-point
      entries are federated, integer buffers stay local to each member.
    - ``names``: the client's list order by tensor name, when it is not the model's whole
      ``state_dict`` (e.g. the client sends ``net.parameters()`` only).
    - ``initial``: seed -> ``{name: array}`` in the client's order, instead of ``model``
      (a client that is not PyTorch). Give ``model`` or ``initial``, not both.

    :meth:`from_genesis` takes names and initial weights from a federation's genesis
    model instead (``Genesis.order`` is the list order).
    """

    def __init__(
        self,
        name: str,
        client_fn: Callable[[Path], NumPyClient],
        *,
        model: Callable[[], nn.Module] | None = None,
        names: Sequence[str] | None = None,
        initial: Callable[[int], Mapping[str, Any]] | None = None,
    ) -> None:
        self._client_class = _numpy_client_class()
        if not isinstance(name, str) or not name.strip():
            raise ConfigError("a FlowerTask needs a name (recorded in the genesis model)")
        self._initial: Callable[[int], Mapping[str, Any]]
        if model is not None and initial is None:
            self._initial = _state_under_seed(model)
        elif initial is not None and model is None:
            self._initial = initial
        else:
            raise ConfigError(
                f"task {name!r}: give FlowerTask either model= (the project's model "
                "factory) or initial= (seed -> named initial arrays), not both or neither"
            )
        self.name = name
        self.client_fn = client_fn
        self.model = model
        self._given_names = None if names is None else tuple(names)
        if names is not None and len(set(names)) != len(names):
            raise ConfigError(f"task {name!r}: names lists a tensor twice: {list(names)}")

    @classmethod
    def from_genesis(
        cls,
        name: str,
        client_fn: Callable[[Path], NumPyClient],
        genesis: Genesis | str | os.PathLike[str],
    ) -> FlowerTask:
        """Make a task whose layout and initial weights are those a genesis model pins.

        ``genesis`` is a :class:`~daofed.protocol.Genesis` or the path of a copy of the
        genesis blob. Its tensor order (``Genesis.order``) is the client's list order, so
        a client of a federation someone else deployed needs no model factory.
        """
        if isinstance(genesis, str | os.PathLike):
            genesis = _read_genesis_file(Path(genesis))
        weights = {n: np.array(a, dtype=np.float32) for n, a in genesis.weights.items()}
        return cls(
            name,
            client_fn,
            names=genesis.order,
            initial=lambda _seed: {n: a.copy() for n, a in weights.items()},
        )

    @property
    def names(self) -> tuple[str, ...]:
        """The tensor name of each position of the client's parameter list."""
        return self._layout.names

    @cached_property
    def _layout(self) -> _Layout:
        if self.model is None:
            return _Layout(self._given_names or tuple(self._initial(0)), frozenset())
        with torch.random.fork_rng(devices=[]):
            state = self.model().state_dict()
        names = self._given_names or tuple(state)
        unknown = [n for n in names if n not in state]
        if unknown:
            raise ConfigError(
                f"task {self.name!r}: names {unknown} are not in the model's state_dict "
                f"({list(state)})"
            )
        return _Layout(names, frozenset(n for n in names if not state[n].is_floating_point()))

    def initial_weights(self, seed: int) -> Weights:
        """Return the federated tensors in the client's order, made under ``seed``."""
        federated = self._layout.federated
        made = self._initial(seed)
        if self.model is None and sorted(made) != sorted(federated):
            raise ConfigError(
                f"task {self.name!r}: initial() returned tensors {list(made)}, the "
                f"client's list is {list(federated)}"
            )
        return {n: _float32(self.name, n, made[n]) for n in federated}

    def load_data(self, path: Path) -> NumPyClient:
        """Build the member's Flower client (it loads its own data) with ``client_fn``."""
        try:
            client = self.client_fn(Path(path))
        except DaofedError:
            raise
        except Exception as error:  # user code
            raise ConfigError(
                f"task {self.name!r}: client_fn({str(path)!r}) failed: "
                f"{type(error).__name__}: {error}"
            ) from None
        if not isinstance(client, self._client_class):
            raise ConfigError(
                f"task {self.name!r}: client_fn returned a {type(client).__name__}, not a "
                "flwr.client.NumPyClient"
            )
        return client

    def fit(self, weights: Weights, data: NumPyClient, config: FitConfig) -> FitResult:
        """Run ``client.fit`` from ``weights`` under ``config['seed']``; name what it returns."""
        parameters = self._to_client(weights, data)
        with _seeded(int(config.get("seed", 0))):
            returned = data.fit(parameters, dict(config))
        if not isinstance(returned, tuple) or len(returned) != 3:
            raise TaskError(
                f"task {self.name!r}: the Flower client's fit returned "
                f"{type(returned).__name__}, not (parameters, num_examples, metrics)"
            )
        arrays, num_examples, _metrics = returned
        named = self._from_client(arrays, "fit")
        if isinstance(num_examples, bool) or not isinstance(num_examples, numbers.Integral):
            raise TaskError(
                f"task {self.name!r}: the Flower client's fit returned num_examples="
                f"{num_examples!r}, not an integer"
            )
        return FitResult(
            {n: _float32(self.name, n, named[n]) for n in self._layout.federated},
            int(num_examples),
        )

    def evaluate(self, weights: Weights, data: NumPyClient) -> Metrics:
        """Run ``client.evaluate``; return ``{"loss": loss, **its numeric metrics}``."""
        returned = data.evaluate(self._to_client(weights, data), {})
        if not isinstance(returned, tuple) or len(returned) != 3:
            raise TaskError(
                f"task {self.name!r}: the Flower client's evaluate returned "
                f"{type(returned).__name__}, not (loss, num_examples, metrics)"
            )
        loss, _num_examples, metrics = returned
        numeric = {
            str(key): float(value)
            for key, value in dict(metrics or {}).items()
            if isinstance(value, numbers.Real)
        }
        return {"loss": float(loss), **numeric}

    def _to_client(self, weights: Weights, client: NumPyClient) -> list[NDArray[Any]]:
        """Build the client's parameter list: ``weights`` by name, local entries its own."""
        layout = self._layout
        missing = [n for n in layout.federated if n not in weights]
        if missing:
            raise TaskError(
                f"task {self.name!r}: the model has no tensor(s) {missing} the Flower "
                f"client's list needs ({list(layout.names)}); is this the federation's task?"
            )
        own = self._from_client(client.get_parameters({}), "get_parameters") if layout.local else {}
        return [
            np.array(own[n] if n in layout.local else weights[n], copy=True) for n in layout.names
        ]

    def _from_client(self, arrays: Any, method: str) -> dict[str, Any]:
        """Name the client's list, which must have one array per name."""
        names = self._layout.names
        if not isinstance(arrays, list | tuple) or len(arrays) != len(names):
            got = f"{len(arrays)} arrays" if isinstance(arrays, list | tuple) else repr(arrays)
            raise TaskError(
                f"task {self.name!r}: the Flower client's {method} returned {got}, the model "
                f"has {len(names)} ({', '.join(names)}); the client and the task's "
                "model/names must list the same tensors in the same order"
            )
        return dict(zip(names, arrays, strict=True))


def _state_under_seed(model: Callable[[], nn.Module]) -> Callable[[int], dict[str, Any]]:
    """Seed -> the model's ``state_dict`` as numpy, built under ``torch.manual_seed(seed)``."""

    def initial(seed: int) -> dict[str, Any]:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            state = model().state_dict()
        return {name: tensor.detach().cpu().numpy() for name, tensor in state.items()}

    return initial


def _float32(task: str, name: str, array: Any) -> Any:
    """Return an owned float32 copy of a float array; anything else is left to be refused."""
    try:
        found = np.asarray(array)
    except Exception as error:  # user code returned something numpy cannot read
        raise TaskError(f"task {task!r}: tensor {name!r} is not an array ({error})") from None
    if found.dtype.kind == "f":
        return found.astype(np.float32, copy=True)
    return found


@contextlib.contextmanager
def _seeded(seed: int) -> Iterator[None]:
    """Seed torch's, numpy's and Python's global RNGs; restore them afterwards.

    Flower clients draw from the global RNGs (``DataLoader(shuffle=True)``, dropout), and
    a member restarted mid-round must retrain to the very same update.
    """
    numpy_state = np.random.get_state()
    python_state = random.getstate()
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            np.random.seed(seed % 2**32)
            random.seed(seed)
            yield
    finally:
        np.random.set_state(numpy_state)
        random.setstate(python_state)


def _read_genesis_file(path: Path) -> Genesis:
    from daofed.protocol import read_genesis
    from daofed.storage import BlobRef

    try:
        data = path.expanduser().read_bytes()
    except OSError as error:
        raise ConfigError(f"cannot read the genesis model {path}: {error.strerror}") from None
    return read_genesis(data, BlobRef.from_hex(hashlib.sha256(data).hexdigest()))
