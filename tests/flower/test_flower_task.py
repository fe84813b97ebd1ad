"""FlowerTask: names a Flower client's parameter list; bad returns become clear errors."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("flwr.client")

import torch
from flwr.client import NumPyClient
from torch import nn

from daofed.errors import ConfigError, TaskError
from daofed.flower import FlowerTask
from daofed.learning import Dataset, FitResult, load_digits, load_task, save_member_file
from daofed.protocol import check_task, fit_checked, genesis_blob, read_genesis
from daofed.storage import BlobRef, ModelSpec
from tests.flower import tutorial_client

NAMES = ["0.weight", "0.bias", "2.weight", "2.bias"]


@pytest.fixture(scope="module")
def data_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    digits = load_digits()
    path = tmp_path_factory.mktemp("member") / "member.npz"
    save_member_file(path, Dataset(digits.x[:200], digits.y[:200]))
    return path


def flower_task(
    client_class: type[tutorial_client.FlowerClient] = tutorial_client.FlowerClient,
) -> FlowerTask:
    def client_fn(path: Path) -> tutorial_client.FlowerClient:
        return client_class(tutorial_client.Net(), *tutorial_client.load_data(path))

    return FlowerTask("digits-flower", client_fn, model=tutorial_client.Net)


def checked(task: FlowerTask, client: Any, seed: int = 7) -> FitResult:
    base = load_task("digits-mlp").initial_weights(0)
    return fit_checked(
        task, base, client, {"round": 1, "seed": seed, "epochs": 1}, ModelSpec.from_arrays(base)
    )


def test_the_genesis_is_the_model_factory_under_the_seed() -> None:
    task, builtin = flower_task(), load_task("digits-mlp")
    mine = task.initial_weights(3)
    assert list(mine) == NAMES
    for name, array in builtin.initial_weights(3).items():
        assert np.array_equal(mine[name], array) and mine[name].dtype == np.float32
    assert genesis_blob(task, 3) == genesis_blob(task, 3) != genesis_blob(task, 4)


def test_fit_names_the_clients_list_and_is_reproducible(data_file: Path) -> None:
    task = flower_task()
    client = task.load_data(data_file)
    first, again = checked(task, client), checked(task, client)
    assert list(first.weights) == NAMES and first.num_examples == 180
    assert all(np.array_equal(first.weights[n], again.weights[n]) for n in NAMES)
    other = checked(task, client, seed=8)
    assert not np.array_equal(first.weights["0.weight"], other.weights["0.weight"])
    metrics = task.evaluate(first.weights, client)
    assert set(metrics) == {"loss", "accuracy"} and 0.0 <= metrics["accuracy"] <= 1.0


class ShortClient(tutorial_client.FlowerClient):
    def fit(self, parameters, config):
        params, n, metrics = super().fit(parameters, config)
        return params[:-1], n, metrics


class TransposedClient(tutorial_client.FlowerClient):
    def fit(self, parameters, config):
        params, n, metrics = super().fit(parameters, config)
        return [p.T for p in params], n, metrics


class DivergedClient(tutorial_client.FlowerClient):
    def fit(self, parameters, config):
        params, n, metrics = super().fit(parameters, config)
        params[2][0, 0] = np.nan
        return params, n, metrics


@pytest.mark.parametrize(
    ("client_class", "reason"),
    [
        (ShortClient, r"client's fit returned 3 arrays, the model has 4 \(0.weight, 0.bias"),
        (TransposedClient, r"tensor '0.weight' of shape \[64, 64\]|tensor '2.weight' of shape"),
        (DivergedClient, r"NaN or infinity in tensor '2.weight'"),
    ],
)
def test_a_bad_client_return_is_a_task_error_naming_the_task(
    data_file: Path, client_class: type[tutorial_client.FlowerClient], reason: str
) -> None:
    task = flower_task(client_class)
    with pytest.raises(TaskError, match=r"task 'digits-flower'") as caught:
        checked(task, task.load_data(data_file))
    assert caught.match(reason)


def test_a_missing_flower_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "flwr", None)
    monkeypatch.setitem(sys.modules, "flwr.client", None)
    with pytest.raises(ConfigError, match=r"pip install 'daofed\[flower\]'"):
        flower_task()


def test_client_fn_must_return_a_numpy_client(data_file: Path) -> None:
    task = FlowerTask("digits-flower", lambda _path: object(), model=tutorial_client.Net)
    with pytest.raises(ConfigError, match=r"not a flwr\.client\.NumPyClient"):
        task.load_data(data_file)


def test_from_genesis_maps_a_client_with_its_own_names(data_file: Path, tmp_path: Path) -> None:
    """The genesis order names the list: the client's own names (fc1, fc2) never matter."""
    blob = genesis_blob(load_task("digits-mlp"), 0)
    (tmp_path / "genesis.safetensors").write_bytes(blob)

    def client_fn(path: Path) -> tutorial_client.FlowerClient:
        return tutorial_client.FlowerClient(
            tutorial_client.NamedNet(), *tutorial_client.load_data(path)
        )

    task = FlowerTask.from_genesis("digits-flower", client_fn, tmp_path / "genesis.safetensors")
    genesis = read_genesis(blob, BlobRef.from_hex(hashlib.sha256(blob).hexdigest()))
    check_task(task, genesis)
    result = checked(task, task.load_data(data_file))
    assert list(result.weights) == NAMES and result.weights["0.weight"].shape == (64, 64)


class BatchNormNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1, self.bn, self.fc2 = nn.Linear(64, 16), nn.BatchNorm1d(16), nn.Linear(16, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(torch.relu(self.bn(self.fc1(x))))


def test_integer_buffers_stay_with_the_client(data_file: Path) -> None:
    def client_fn(path: Path) -> tutorial_client.FlowerClient:
        return tutorial_client.FlowerClient(BatchNormNet(), *tutorial_client.load_data(path))

    task = FlowerTask("bn", client_fn, model=BatchNormNet)
    base = task.initial_weights(0)
    assert "bn.num_batches_tracked" not in base and "bn.running_mean" in base
    client = task.load_data(data_file)
    result = fit_checked(task, base, client, {"seed": 1}, ModelSpec.from_arrays(base))
    assert list(result.weights) == list(base)
    assert int(client.net.state_dict()["bn.num_batches_tracked"]) == 6  # 180 samples / 32


def test_a_task_file_can_name_a_flower_task(tmp_path: Path) -> None:
    path = tmp_path / "task.py"
    path.write_text(
        "from daofed.flower import FlowerTask\n"
        "from tests.flower.tutorial_client import Net, client_fn\n"
        "task = FlowerTask('digits-flower', client_fn, model=Net)\n"
    )
    task = load_task(f"{path}:task")
    assert isinstance(task, FlowerTask) and list(task.initial_weights(0)) == NAMES


def test_a_task_needs_either_a_model_or_initial_weights() -> None:
    with pytest.raises(ConfigError, match=r"either model= .* or initial="):
        FlowerTask("x", tutorial_client.client_fn)
    with pytest.raises(ConfigError, match="not both"):
        FlowerTask("x", tutorial_client.client_fn, model=tutorial_client.Net, initial=dict)


class NumpyLinearClient(NumPyClient):
    """A client with no torch at all: one float64 weight vector, moved one step."""

    def __init__(self) -> None:
        self.w = np.zeros(3)

    def get_parameters(self, config):
        return [self.w]

    def fit(self, parameters, config):
        self.w = parameters[0] + 1.0
        return [self.w], 5, {}

    def evaluate(self, parameters, config):
        return float(np.abs(parameters[0]).sum()), 5, {"note": "text is dropped", "n": 2}


def test_initial_serves_a_client_that_is_not_torch(tmp_path: Path) -> None:
    task = FlowerTask(
        "linear",
        lambda _path: NumpyLinearClient(),
        initial=lambda seed: {"w": np.random.default_rng(seed).normal(size=3)},
    )
    base = task.initial_weights(0)
    assert task.names == ("w",) and base["w"].dtype == np.float32
    client = task.load_data(tmp_path)
    result = fit_checked(task, base, client, {"seed": 0}, ModelSpec.from_arrays(base))
    assert result.weights["w"].dtype == np.float32 and result.num_examples == 5
    assert np.allclose(result.weights["w"], base["w"] + 1)
    assert task.evaluate(base, client) == {"loss": pytest.approx(np.abs(base["w"]).sum()), "n": 2.0}
