"""Governance proposal arguments: checked, ABI-encoded and decoded exactly as the contract does.

A proposal's ``data`` is the ABI encoding of its argument (see ``IFederationGovernance``):
an address, a uint32, three uint32 windows, a string, a bool or a uint64, depending on its
kind.
"""

from __future__ import annotations

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_abi.exceptions import DecodingError
from eth_utils.address import to_checksum_address

from daofed.chain.checks import (
    MAX_RULE_LENGTH,
    MAX_SAMPLES_LIMIT,
    UINT32_MAX,
    check_address,
    check_period,
    check_uint,
)
from daofed.chain.values import ProposalKind, ProposalValue, Windows
from daofed.errors import ChainError, ConfigError, LearningError
from daofed.learning.aggregation import parse_rule

_TYPES: dict[ProposalKind, list[str]] = {
    ProposalKind.ADD_MEMBER: ["address"],
    ProposalKind.REMOVE_MEMBER: ["address"],
    ProposalKind.SET_QUORUM: ["uint32"],
    ProposalKind.SET_WINDOWS: ["uint32", "uint32", "uint32"],
    ProposalKind.SET_RULE: ["string"],
    ProposalKind.SET_COMMIT_REVEAL: ["bool"],
    ProposalKind.SET_VOTING_PERIOD: ["uint32"],
    ProposalKind.SET_MAX_SAMPLES: ["uint64"],
}


def check_value(kind: ProposalKind, value: object) -> ProposalValue:
    """Return ``value`` as the argument of a ``kind`` proposal (ConfigError if it is not one).

    Addresses come back checksummed and rule specs must parse. Types and the contract's
    bounds are checked here; the contract checks the rest (a quorum the members can reach,
    a member that exists ...).
    """
    if kind in (ProposalKind.ADD_MEMBER, ProposalKind.REMOVE_MEMBER):
        return check_address(value, f"an address to {kind.label}")
    if kind is ProposalKind.SET_QUORUM:
        return check_uint(f"the argument of {kind.label}", value, UINT32_MAX)
    if kind is ProposalKind.SET_VOTING_PERIOD:
        return check_period("the voting period", value)
    if kind is ProposalKind.SET_MAX_SAMPLES:
        return check_max_samples(value)
    if kind is ProposalKind.SET_WINDOWS:
        if not isinstance(value, Windows):
            raise ConfigError(f"{kind.label} needs Windows(submit, vote, reveal), got {value!r}")
        for name in ("submit", "vote", "reveal"):
            check_period(f"the {name} window", getattr(value, name))
        return value
    if kind is ProposalKind.SET_RULE:
        return check_rule(value)
    if not isinstance(value, bool):
        raise ConfigError(f"{kind.label} needs True or False, got {value!r}")
    return value


def check_rule(rule: object) -> str:
    """Return ``rule`` if it is a spec daofed can aggregate with and the contract accepts.

    The contract only bounds a rule's length; a spec no member can parse would stall every
    round until another proposal replaces it, so it must never reach the chain from here.
    """
    if not isinstance(rule, str):
        raise ConfigError(f"an aggregation rule must be a spec such as 'median', got {rule!r}")
    if not 1 <= len(rule.encode()) <= MAX_RULE_LENGTH:
        raise ConfigError(
            f"an aggregation rule spec must be 1 to {MAX_RULE_LENGTH} bytes, "
            f"got {len(rule.encode())}"
        )
    try:
        parse_rule(rule)
    except LearningError as error:
        raise ConfigError(str(error)) from None
    return rule


def check_max_samples(value: object) -> int:
    """Return ``value`` if it is a cap on an update's sample count the contract accepts."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_SAMPLES_LIMIT:
        raise ConfigError(
            f"the sample cap must be a whole number from 1 to {MAX_SAMPLES_LIMIT} (2^53 - 1), "
            f"got {value!r}"
        )
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
        ProposalKind.SET_MAX_SAMPLES: f"cap an update's samples at {value}",
    }[kind]
