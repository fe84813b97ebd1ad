from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch

from daofed.learning import Dataset, load_digits


@pytest.fixture(scope="package", autouse=True)
def one_torch_thread() -> Iterator[None]:
    """The MLP is tiny: one thread is ~10x faster than several (no sync overhead)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def digits() -> Dataset:
    return load_digits()
