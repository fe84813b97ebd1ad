"""Bring your own model: a complete daofed task in one file.

Three wineries want one classifier of grape cultivars (scikit-learn's bundled wine data:
178 samples, 13 chemical measurements, 3 cultivars) without pooling their samples. This
file is everything daofed needs from them: the model, how a member reads its data, how it
trains one round, and how a model is scored.

Try it (see the README section "Bring your own model" for the whole federation):

    python examples/wine_task.py split data/wine --members 3   # member-1.csv ... test.csv
    daofed deploy --task examples/wine_task.py:task ...
    daofed agent run --task examples/wine_task.py:task --data data/wine/member-1.csv ...
    daofed audit --verify --task examples/wine_task.py:task --test-data data/wine/test.csv
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from daofed.learning.task import FitConfig, Metrics, ProximalTerm, TorchTask

FEATURES = 13
CULTIVARS = 3


@dataclass(frozen=True)
class WineData:
    """A member's samples as tensors: measurements scaled to [0, 1], cultivar labels."""

    x: torch.Tensor
    y: torch.Tensor

    def __len__(self) -> int:
        return len(self.y)


class WineTask(TorchTask[WineData]):
    """A small MLP trained with Adam; scored by accuracy, loss and macro F1."""

    name = "wine-mlp"

    def build_model(self) -> nn.Module:
        return nn.Sequential(nn.Linear(FEATURES, 16), nn.ReLU(), nn.Linear(16, CULTIVARS))

    def load_data(self, path: Path) -> WineData:
        table = np.loadtxt(path, delimiter=",", ndmin=2, dtype=np.float32)
        if table.shape[1] != FEATURES + 1:
            raise ValueError(f"{path}: expected {FEATURES} measurements and a label per row")
        return WineData(torch.from_numpy(table[:, :-1]), torch.from_numpy(table[:, -1]).long())

    def train(self, model: nn.Module, data: WineData, config: FitConfig) -> int:
        epochs = int(config.get("epochs", 10))
        optimizer = torch.optim.Adam(model.parameters(), lr=float(config.get("lr", 0.01)))
        batches = torch.Generator().manual_seed(int(config["seed"]))  # reproducible rounds
        # FedProx: the config has proximal_mu when the federation's rule says prox=<mu>
        proximal = ProximalTerm(model, float(config.get("proximal_mu", 0.0)))
        model.train()
        for _ in range(epochs):
            for batch in torch.randperm(len(data), generator=batches).split(16):
                optimizer.zero_grad()
                loss = nn.functional.cross_entropy(model(data.x[batch]), data.y[batch])
                (loss + proximal(model)).backward()
                optimizer.step()
        return len(data)

    def evaluate_model(self, model: nn.Module, data: WineData) -> Metrics:
        logits = model(data.x)
        predicted = logits.argmax(dim=1)
        f1 = []
        for c in range(CULTIVARS):
            tp = int(((predicted == c) & (data.y == c)).sum())
            guessed, actual = int((predicted == c).sum()), int((data.y == c).sum())
            f1.append(2 * tp / (guessed + actual) if guessed + actual else 0.0)
        return {
            "accuracy": float((predicted == data.y).float().mean()),
            "loss": float(nn.functional.cross_entropy(logits, data.y)),
            "macro_f1": sum(f1) / CULTIVARS,
        }


task = WineTask()


def split(out: Path, members: int, seed: int) -> None:
    """Write member-1..N.csv and test.csv: one shuffled, scaled split of the wine data."""
    from sklearn.datasets import load_wine

    bunch = load_wine()
    x = np.asarray(bunch.data, dtype=np.float64)
    x = (x - x.min(axis=0)) / (x.max(axis=0) - x.min(axis=0))
    table = np.column_stack([x, bunch.target]).astype(np.float32)
    order = np.random.default_rng(seed).permutation(len(table))
    test, rest = order[:36], order[36:]
    out.mkdir(parents=True, exist_ok=True)
    fmt = ["%.6f"] * FEATURES + ["%d"]
    np.savetxt(out / "test.csv", table[test], delimiter=",", fmt=fmt)
    for i, share in enumerate(np.array_split(rest, members), start=1):
        np.savetxt(out / f"member-{i}.csv", table[share], delimiter=",", fmt=fmt)
        print(f"{out / f'member-{i}.csv'}: {len(share)} samples")
    print(f"{out / 'test.csv'}: {len(test)} samples")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    split_args = commands.add_parser("split", help="write member data files")
    split_args.add_argument("out", type=Path)
    split_args.add_argument("--members", type=int, default=3)
    split_args.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    split(args.out, args.members, args.seed)
