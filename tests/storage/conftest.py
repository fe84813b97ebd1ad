from collections.abc import Iterator

import pytest

from .fake_kubo import FakeKubo, running_fake_kubo


@pytest.fixture
def kubo() -> Iterator[FakeKubo]:
    with running_fake_kubo() as fake:
        yield fake
