"""The contract's values by their ABI names: event arguments and struct members.

web3 decodes a view's struct as a named tuple (the client asks for ``decode_tuples``);
:func:`from_struct` fills a daofed value from it by name, so a member the contract moves
still lands in the right field, and one it renames fails loudly here instead of filling
the wrong one. ``tests/chain/test_abi_types.py`` checks every event and struct type of
:mod:`daofed.chain` against the compiled ABI.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, TypeVar

from daofed.errors import ChainError

T = TypeVar("T")


def snake(name: str) -> str:
    """Return the Python name of a Solidity name: ``numSamples`` -> ``num_samples``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def from_struct(kind: type[T], struct: Any, /, **given: Any) -> T:
    """Build the dataclass ``kind`` from a struct web3 decoded with its member names.

    Each field takes the member of the same (snake-cased) name, unless ``given`` holds it:
    what the struct does not carry (the id a view was asked for), or carries in another
    form (a digest the caller pairs with its CID, a number that is an enum).
    """
    members = {snake(name): value for name, value in struct._asdict().items()}
    names = [field.name for field in dataclasses.fields(kind)]  # type: ignore[arg-type]
    missing = [name for name in names if name not in given and name not in members]
    if missing:
        raise ChainError(
            f"the contract's answer has no {', '.join(missing)} for a {kind.__name__}: "
            "the contract's ABI and this daofed disagree (upgrade daofed)"
        )
    return kind(**{name: given[name] if name in given else members[name] for name in names})
