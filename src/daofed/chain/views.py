"""A contract's view functions, encoded and decoded from their ABI once, not on every call.

web3's ``contract.functions[name](*args).call()`` looks the function up again on each
call: it validates the whole ABI and hashes every function's signature to find the one
named (about 4 ms of CPU per call on a 30-function ABI, measured). A member reads the
round several times per new block, so that search was most of its chain-reading cost.
:class:`ViewFunction` does the lookup once per function and keeps its selector and types;
a call is then one ``eth_abi`` encode, one ``eth_call`` and one decode.

Results come back as web3 gives them with ``decode_tuples``: a single output as its
value, several as a named tuple of the output names, structs as named tuples of their
member names (what :func:`daofed.chain.abi.from_struct` reads), arrays as lists and
addresses checksummed.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_abi.exceptions import DecodingError, EncodingError
from eth_utils.abi import (
    function_abi_to_4byte_selector,
    get_abi_input_types,
    get_abi_output_types,
)
from eth_utils.address import to_checksum_address

from daofed.errors import ChainError

Param = Mapping[str, Any]


@dataclass(frozen=True)
class ViewFunction:
    """One ``view`` or ``pure`` function of an ABI: its selector and how to read its answer."""

    name: str
    selector: bytes
    input_types: tuple[str, ...]
    output_types: tuple[str, ...]
    outputs: tuple[Param, ...]

    @classmethod
    def of(cls, entry: Param) -> ViewFunction:
        """Read the ABI ``entry`` of a function."""
        return cls(
            name=entry["name"],
            selector=function_abi_to_4byte_selector(entry),  # type: ignore[arg-type]
            input_types=tuple(get_abi_input_types(entry)),  # type: ignore[arg-type]
            output_types=tuple(get_abi_output_types(entry)),  # type: ignore[arg-type]
            outputs=tuple(entry["outputs"]),
        )

    def encode(self, args: Sequence[Any]) -> bytes:
        """Return the call data of this function with ``args``."""
        try:
            return self.selector + abi_encode(self.input_types, args)
        except EncodingError as error:
            raise ChainError(
                f"cannot ask {self.name}({','.join(self.input_types)}) with {tuple(args)}: {error}"
            ) from None

    def decode(self, data: bytes, where: str) -> Any:
        """Return the answer ``data`` (from the contract at ``where``) as web3 would."""
        try:
            values = abi_decode(self.output_types, data)
        except DecodingError:
            raise ChainError(
                f"{self.name} at {where} answered {len(data)} bytes that are not its ABI's "
                "outputs: check that the address is a daofed federation on this chain"
            ) from None
        if len(self.outputs) == 1:
            return _value(self.outputs[0], values[0])
        return _record(self.outputs, values)


def view_functions(abi: Sequence[Param]) -> dict[str, ViewFunction]:
    """Return the ABI's view and pure functions by name."""
    return {
        entry["name"]: ViewFunction.of(entry)
        for entry in abi
        if entry["type"] == "function" and entry.get("stateMutability") in ("view", "pure")
    }


def _value(param: Param, value: Any) -> Any:
    kind = str(param["type"])
    if kind.endswith("]"):
        element = {**param, "type": kind[: kind.rindex("[")]}
        return [_value(element, item) for item in value]
    if kind == "tuple":
        return _record(param["components"], value)
    if kind == "address":
        return to_checksum_address(value)
    return value


def _record(params: Sequence[Param], values: Sequence[Any]) -> tuple[Any, ...]:
    kind = _named_tuple(tuple(str(p["name"]) for p in params))
    record: tuple[Any, ...] = kind(*(_value(p, v) for p, v in zip(params, values, strict=True)))
    return record


@cache
def _named_tuple(names: tuple[str, ...]) -> Any:
    """One named tuple type per list of names (``rename``: an unnamed output gets ``_0``)."""
    return namedtuple("ABIDecodedNamedTuple", names, rename=True)
