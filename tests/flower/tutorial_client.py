"""A Flower project's client, written as Flower's PyTorch tutorial writes it.

Nothing here knows about daofed: daofed.flower.FlowerTask must run it unchanged.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import numpy as np
import torch
from flwr.client import NumPyClient
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


def Net() -> nn.Module:  # noqa: N802 - named as the class Flower projects define
    """The same MLP (64-64-10) as daofed's digits-mlp task."""
    return nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))


class NamedNet(nn.Module):
    """The same architecture with the tutorial's own tensor names (fc1, fc2)."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(64, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(torch.relu(self.fc1(x)))


def load_data(path: Path) -> tuple[DataLoader, DataLoader]:
    with np.load(path, allow_pickle=False) as npz:
        x, y = torch.from_numpy(npz["x"]), torch.from_numpy(npz["y"])
    cut = max(1, len(y) // 10)
    train = TensorDataset(x[cut:], y[cut:])
    val = TensorDataset(x[:cut], y[:cut])
    return DataLoader(train, batch_size=32, shuffle=True), DataLoader(val, batch_size=64)


def train(net: nn.Module, trainloader: DataLoader, epochs: int, lr: float) -> None:
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9)
    net.train()
    for _ in range(epochs):
        for x, y in trainloader:
            optimizer.zero_grad()
            criterion(net(x), y).backward()
            optimizer.step()


def test(net: nn.Module, loader: DataLoader) -> tuple[float, float]:
    criterion = nn.CrossEntropyLoss(reduction="sum")
    net.eval()
    loss, correct = 0.0, 0
    with torch.no_grad():
        for x, y in loader:
            out = net(x)
            loss += criterion(out, y).item()
            correct += (out.argmax(1) == y).sum().item()
    return loss / len(loader.dataset), correct / len(loader.dataset)


class FlowerClient(NumPyClient):
    def __init__(self, net: nn.Module, trainloader: DataLoader, valloader: DataLoader) -> None:
        self.net = net
        self.trainloader = trainloader
        self.valloader = valloader

    def get_parameters(self, config):
        return [val.cpu().numpy() for _, val in self.net.state_dict().items()]

    def set_parameters(self, parameters):
        params_dict = zip(self.net.state_dict().keys(), parameters, strict=True)
        state_dict = OrderedDict({k: torch.tensor(v) for k, v in params_dict})
        self.net.load_state_dict(state_dict, strict=True)

    def fit(self, parameters, config):
        self.set_parameters(parameters)
        train(
            self.net, self.trainloader, int(config.get("epochs", 1)), float(config.get("lr", 0.05))
        )
        return self.get_parameters(config={}), len(self.trainloader.dataset), {}

    def evaluate(self, parameters, config):
        self.set_parameters(parameters)
        loss, accuracy = test(self.net, self.valloader)
        return loss, len(self.valloader.dataset), {"accuracy": accuracy}


def client_fn(path: Path) -> NumPyClient:
    """What the project's client_fn(context) does, given the member's data path."""
    trainloader, valloader = load_data(path)
    return FlowerClient(Net(), trainloader, valloader)
