"""What the experiment scripts share: the digits federation they run and their arguments.

``scripts/poisoning.py`` and ``scripts/learning.py`` import it as a sibling module (running a
script puts ``scripts/`` on the import path).
"""

from __future__ import annotations

import argparse
from functools import cache

import torch

from daofed.learning.builtin_tasks import ClassifierTask, mlp_task
from daofed.learning.data import FederatedSplit, load_digits, split_federated
from daofed.learning.model import ModelConfig


@cache
def digits_split(members: int, alpha: float | None, seed: int) -> FederatedSplit:
    """The digits split among ``members`` (IID when ``alpha`` is None), once per process."""
    return split_federated(load_digits(), members, alpha=alpha, seed=seed)


@cache
def digits_task() -> ClassifierTask:
    """The default digits MLP task."""
    return mlp_task(ModelConfig())


def one_thread() -> None:
    """Train on one torch thread: the MLP is tiny, and one thread is ~10x faster than several."""
    torch.set_num_threads(1)


def parse_ints(text: str) -> list[int]:
    """Parse comma-separated whole numbers (an argparse type)."""
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated whole numbers, got {text!r}"
        ) from None


def parse_alpha(text: str) -> float | None:
    """Parse a Dirichlet alpha, or ``iid``/``none`` for an IID split (an argparse type)."""
    return None if text.lower() in ("none", "iid") else float(text)
