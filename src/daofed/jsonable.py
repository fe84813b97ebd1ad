"""Plain JSON values from daofed's result dataclasses, for every ``--json`` and JSON file."""

from __future__ import annotations

import dataclasses
from enum import Enum
from pathlib import Path
from typing import Any


def to_jsonable(value: Any, *, properties: bool = False) -> Any:
    """Dataclasses, enums, paths and bytes as plain JSON values (bytes as 0x-hex).

    With ``properties`` a dataclass also contributes its derived properties (a report's
    ``final_accuracy``, a benchmark's ratios), so scripts need not recompute them.
    """
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {
            f.name: to_jsonable(getattr(value, f.name), properties=properties)
            for f in dataclasses.fields(value)
        }
        if properties:
            for name in dir(type(value)):
                if isinstance(getattr(type(value), name, None), property):
                    out[name] = to_jsonable(getattr(value, name), properties=True)
        return out
    if isinstance(value, dict):
        return {str(k): to_jsonable(v, properties=properties) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v, properties=properties) for v in value]
    if isinstance(value, Enum):  # by the name messages use (a proposal kind's is dashed)
        return getattr(value, "label", value.name.lower())
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, Path):
        return str(value)
    return value
