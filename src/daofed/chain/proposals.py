"""Governance proposal arguments: checked, ABI-encoded and decoded exactly as the contract does.

A proposal's ``data`` is the ABI encoding of its argument (see ``IFederationGovernance``):
an address, a uint32, three uint32 windows, a string or a bool, depending on its kind.
"""

from __future__ import annotations

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_abi.exceptions import DecodingError
from eth_utils.address import to_checksum_address

from daofed.chain.checks import UINT32_MAX, check_address, check_uint
from daofed.chain.values import ProposalKind, ProposalValue, Windows
from daofed.errors import ChainError, ConfigError

_TYPES: dict[ProposalKind, list[str]] = {
    ProposalKind.ADD_MEMBER: ["address"],
    ProposalKind.REMOVE_MEMBER: ["address"],
    ProposalKind.SET_QUORUM: ["uint32"],
    ProposalKind.SET_WINDOWS: ["uint32", "uint32", "uint32"],
    ProposalKind.SET_RULE: ["string"],
    ProposalKind.SET_COMMIT_REVEAL: ["bool"],
    ProposalKind.SET_VOTING_PERIOD: ["uint32"],
}


def check_value(kind: ProposalKind, value: object) -> ProposalValue:
    """Return ``value`` as the argument of a ``kind`` proposal (ConfigError if it is not one).

    Addresses come back checksummed. Only the types and ranges are checked here; the
    contract checks the rest (a quorum the members can reach, a member that exists ...).
    """
    if kind in (ProposalKind.ADD_MEMBER, ProposalKind.REMOVE_MEMBER):
        return check_address(value, f"an address to {kind.label}")
    if kind in (ProposalKind.SET_QUORUM, ProposalKind.SET_VOTING_PERIOD):
        return check_uint(f"the argument of {kind.label}", value, UINT32_MAX)
    if kind is ProposalKind.SET_WINDOWS:
        if not isinstance(value, Windows):
            raise ConfigError(f"{kind.label} needs Windows(submit, vote, reveal), got {value!r}")
        for name in ("submit", "vote", "reveal"):
            check_uint(f"the {name} window", getattr(value, name), UINT32_MAX)
        return value
    if kind is ProposalKind.SET_RULE:
        if not isinstance(value, str):
            raise ConfigError(f"{kind.label} needs a rule spec such as 'median', got {value!r}")
        return value
    if not isinstance(value, bool):
        raise ConfigError(f"{kind.label} needs True or False, got {value!r}")
    return value


def encode_value(kind: ProposalKind, value: object) -> bytes:
    """ABI-encode the argument of a ``kind`` proposal, as the contract stores it."""
    checked = check_value(kind, value)
    if isinstance(checked, Windows):
        return abi_encode(_TYPES[kind], [checked.submit, checked.vote, checked.reveal])
    return abi_encode(_TYPES[kind], [checked])


def decode_value(kind: ProposalKind, data: bytes) -> ProposalValue:
    """Decode the ``data`` of a ``kind`` proposal into its argument."""
    try:
        values = abi_decode(_TYPES[kind], bytes(data))
    except DecodingError as error:
        raise ChainError(
            f"the data of a {kind.label} proposal does not decode ({error}): "
            "is the contract a daofed Federation of this version?"
        ) from None
    if kind is ProposalKind.SET_WINDOWS:
        return Windows(*values)
    (value,) = values
    if kind in (ProposalKind.ADD_MEMBER, ProposalKind.REMOVE_MEMBER):
        return to_checksum_address(value)
    assert isinstance(value, str | int | bool)
    return value


def describe(kind: ProposalKind, value: ProposalValue) -> str:
    """Say what a proposal changes, in a few words, e.g. ``set quorum to 3``."""
    if isinstance(value, Windows):
        return (
            f"set windows to submit {value.submit} s, vote {value.vote} s, reveal {value.reveal} s"
        )
    return {
        ProposalKind.ADD_MEMBER: f"add member {value}",
        ProposalKind.REMOVE_MEMBER: f"remove member {value}",
        ProposalKind.SET_QUORUM: f"set quorum to {value}",
        ProposalKind.SET_RULE: f"set aggregation rule to {value!r}",
        ProposalKind.SET_COMMIT_REVEAL: f"turn commit-reveal {'on' if value else 'off'}",
        ProposalKind.SET_VOTING_PERIOD: f"set voting period to {value} s",
    }[kind]
