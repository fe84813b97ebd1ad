"""daofed's event and struct types agree with the compiled contract's ABI.

Events and structs are decoded by name (:mod:`daofed.chain.abi`), so a contract change
that renames a member would only fail when that value is first read; these tests fail at
once, for every type, with the name, the order or the type that no longer matches.
"""

from __future__ import annotations

import dataclasses
import enum
import typing
from typing import Any

import pytest

from daofed.chain import events
from daofed.chain.abi import from_struct, snake
from daofed.chain.artifacts import load_artifact
from daofed.chain.events import ChainEvent, MessagePosted, ProposalCreated
from daofed.chain.values import FederationConfig, ProposalInfo, RoundInfo
from daofed.errors import ChainError

ABI = load_artifact("Federation").abi

EVENT_TYPES = [
    kind
    for kind in vars(events).values()
    if isinstance(kind, type)
    and issubclass(kind, ChainEvent)
    and kind not in (ChainEvent, MessagePosted)  # bases, not events
]

DERIVED_EVENT_FIELDS: dict[type[ChainEvent], set[str]] = {ProposalCreated: {"value"}}
"""Fields an event type decodes from its arguments (``value`` from ``data``)."""


@dataclasses.dataclass(frozen=True)
class StructType:
    """A daofed value read from a view returning a struct, and how its fields differ."""

    kind: type[Any]
    view: str
    added: frozenset[str]  # fields the struct does not hold
    replaced: dict[str, str]  # struct member -> the field that holds it in another form


STRUCT_TYPES = [
    StructType(
        RoundInfo,
        "roundInfo",
        added=frozenset({"round"}),
        replaced={"base_digest": "base", "accepted_digest": "accepted"},
    ),
    StructType(FederationConfig, "config", added=frozenset({"version"}), replaced={}),
    StructType(
        ProposalInfo, "proposal", added=frozenset({"proposal_id"}), replaced={"data": "value"}
    ),
]


def abi_entry(kind: str, name: str) -> dict[str, Any]:
    """The one ABI entry of ``kind`` ("event", "function") named ``name``."""
    found = [item for item in ABI if item["type"] == kind and item.get("name") == name]
    assert len(found) == 1, f"the ABI has {len(found)} {kind}s named {name}"
    return found[0]


def python_type(member: dict[str, Any]) -> type[Any]:
    """The Python type daofed gives an ABI member (an enum for a Solidity enum)."""
    internal, abi_type = member.get("internalType", ""), member["type"]
    if internal.startswith("enum "):
        return enum.IntEnum  # checked by name below
    if abi_type.startswith(("uint", "int")):
        return int
    if abi_type.startswith("bytes"):
        return bytes
    return {"bool": bool, "string": str, "address": str}[abi_type]


def check_type(owner: type[Any], field: str, member: dict[str, Any]) -> None:
    """The field ``field`` of ``owner`` has the type the ABI member decodes to."""
    hint = typing.get_type_hints(owner)[field]
    expected = python_type(member)
    if expected is enum.IntEnum:
        enum_name = member["internalType"].rsplit(".", 1)[-1]
        assert isinstance(hint, type) and issubclass(hint, enum.IntEnum), (owner, field)
        assert hint.__name__ == enum_name, f"{owner.__name__}.{field} is not {enum_name}"
    else:
        assert hint is expected, f"{owner.__name__}.{field} is {hint}, the ABI has {expected}"


def own_fields(kind: type[Any]) -> list[str]:
    """The dataclass fields of ``kind``, without where its event was emitted."""
    base = {field.name for field in dataclasses.fields(ChainEvent)}
    return [field.name for field in dataclasses.fields(kind) if field.name not in base]


def test_every_contract_event_has_a_type() -> None:
    declared = {item["name"] for item in ABI if item["type"] == "event"}
    assert declared == {kind.__name__ for kind in EVENT_TYPES}


@pytest.mark.parametrize("kind", EVENT_TYPES, ids=lambda kind: kind.__name__)
def test_event_fields_are_the_abi_arguments_in_order(kind: type[ChainEvent]) -> None:
    inputs = abi_entry("event", kind.__name__)["inputs"]
    derived = DERIVED_EVENT_FIELDS.get(kind, set())
    assert [f for f in own_fields(kind) if f not in derived] == [snake(i["name"]) for i in inputs]
    for member in inputs:
        check_type(kind, snake(member["name"]), member)


@pytest.mark.parametrize("struct", STRUCT_TYPES, ids=lambda struct: struct.kind.__name__)
def test_struct_fields_are_the_abi_members_in_order(struct: StructType) -> None:
    (output,) = abi_entry("function", struct.view)["outputs"]
    members = output["components"]
    names = [snake(member["name"]) for member in members]
    fields = own_fields(struct.kind)
    copied = [name for name in names if name not in struct.replaced]
    assert [f for f in fields if f not in struct.added | set(struct.replaced.values())] == copied
    assert set(struct.replaced) <= set(names), "a replaced member is gone from the ABI"
    for member in members:
        if snake(member["name"]) in copied:
            check_type(struct.kind, snake(member["name"]), member)


def test_from_struct_fills_fields_by_name_not_position() -> None:
    Struct = typing.NamedTuple("Struct", [("votes", int), ("quorum", int)])  # noqa: UP014
    made = from_struct(Pair, Struct(votes=2, quorum=3), round=7)
    assert made == Pair(round=7, quorum=3, votes=2)


def test_from_struct_names_the_fields_the_contract_lacks() -> None:
    Struct = typing.NamedTuple("Struct", [("votes", int)])  # noqa: UP014
    with pytest.raises(ChainError, match="no quorum for a Pair"):
        from_struct(Pair, Struct(votes=2), round=7)


@dataclasses.dataclass(frozen=True)
class Pair:
    round: int
    quorum: int
    votes: int
