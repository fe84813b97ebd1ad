"""Argument checks before anything is sent.

A wrong value fails here with a clear message, instead of as an encoding error deep
inside web3 or as a revert that costs gas.
"""

from __future__ import annotations

from eth_utils.address import is_address, to_checksum_address

from daofed.errors import ConfigError

UINT32_MAX = 2**32 - 1
UINT64_MAX = 2**64 - 1

# The contract's bounds on governed parameters (FederationMembership), checked before sending.
MAX_PERIOD = 30 * 24 * 3600
"""The longest a round window or a proposal's voting period may last, in seconds."""
MAX_RULE_LENGTH = 256
"""The longest aggregation rule spec, in bytes."""
MAX_SAMPLES_LIMIT = 2**53 - 1
"""The highest cap on an update's sample count: sums stay exact in float64."""
EXECUTION_PERIOD = 14 * 24 * 3600
"""How long after its voting end a proposal that carried may be executed, in seconds."""


def check_uint(name: str, value: object, maximum: int) -> int:
    """Return ``value`` if it is a whole number from 0 to ``maximum``, else raise ConfigError."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= maximum:
        raise ConfigError(f"{name} must be a whole number from 0 to {maximum}, got {value!r}")
    return value


def check_period(name: str, value: object) -> int:
    """Return ``value`` if it is a whole number of seconds from 1 to :data:`MAX_PERIOD`."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_PERIOD:
        raise ConfigError(f"{name} must be 1 to {MAX_PERIOD} seconds (30 days), got {value!r}")
    return value


def check_address(address: object, what: str = "an address") -> str:
    """Return ``address`` checksummed, or raise ConfigError if it is not one.

    An address in mixed case carries an EIP-55 checksum, which exists to catch a mistyped
    address: one whose checksum does not match is refused, not silently accepted.
    """
    if not isinstance(address, str) or not is_address(address):
        raise ConfigError(f"{address!r} is not {what}: give 0x + 40 hex digits")
    checksummed = to_checksum_address(address)
    digits = address.removeprefix("0x").removeprefix("0X")
    if digits != digits.lower() and digits != digits.upper() and address != checksummed:
        raise ConfigError(
            f"{address} is not {what}: its mixed-case EIP-55 checksum does not match, so it "
            "was probably mistyped; copy it again from its source (an all-lowercase address "
            "is taken as it is)"
        )
    return checksummed


def check_round(round_number: object) -> int:
    """Return ``round_number`` if it is a round number the contract takes (a uint64)."""
    return check_uint("round", round_number, UINT64_MAX)


def check_bytes32(name: str, value: object) -> bytes:
    """Return ``value`` if it is 32 bytes, else raise ConfigError."""
    if not isinstance(value, bytes) or len(value) != 32:
        raise ConfigError(f"the {name} must be 32 bytes, got {value!r}")
    return value
