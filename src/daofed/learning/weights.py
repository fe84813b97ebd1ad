"""The ``Weights`` mapping shared by models, updates and aggregation rules.

A model, a local update (a delta) and an aggregate are all plain ``{name: array}``
mappings (the storage codec's ``Weights``), so learning code stays a set of pure
functions on numpy arrays and the codec can encode any of them. Names are the torch
``state_dict`` keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from daofed.errors import LearningError
from daofed.storage.codec import Weights

__all__ = ["Weights", "check_layout"]


def check_layout(
    expected: Mapping[str, npt.NDArray[Any]], got: Mapping[str, Any], what: str
) -> None:
    """Raise :class:`LearningError` unless ``got`` has exactly ``expected``'s names and shapes.

    ``what`` names ``got`` in the message (``"update from 0xab..."``, ``"delta"``) so the
    reader knows which input to fix.
    """
    missing = sorted(set(expected) - set(got))
    extra = sorted(set(got) - set(expected))
    if missing or extra:
        raise LearningError(
            f"{what} does not match the model: missing tensors {missing}, unexpected "
            f"tensors {extra}; updates and models must come from the same task"
        )
    for name in sorted(expected):
        want, have = tuple(expected[name].shape), tuple(np.shape(got[name]))
        if want != have:
            raise LearningError(
                f"{what}: tensor {name!r} has shape {have}, the model needs {want}; "
                "updates and models must come from the same task"
            )
