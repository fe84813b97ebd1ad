"""Argument checks before anything is sent.

A wrong value fails here with a clear message, instead of as an encoding error deep
inside web3 or as a revert that costs gas.
"""

from __future__ import annotations

from eth_utils.address import is_address, to_checksum_address

from daofed.errors import ConfigError

UINT32_MAX = 2**32 - 1
UINT64_MAX = 2**64 - 1


def check_uint(name: str, value: object, maximum: int) -> int:
    """Return ``value`` if it is a whole number from 0 to ``maximum``, else raise ConfigError."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= maximum:
        raise ConfigError(f"{name} must be a whole number from 0 to {maximum}, got {value!r}")
    return value


def check_address(address: object, what: str = "an address") -> str:
    """Return ``address`` checksummed, or raise ConfigError if it is not one."""
    if not isinstance(address, str) or not is_address(address):
        raise ConfigError(f"{address!r} is not {what}: give 0x + 40 hex digits")
    return to_checksum_address(address)


def check_bytes32(name: str, value: object) -> bytes:
    """Return ``value`` if it is 32 bytes, else raise ConfigError."""
    if not isinstance(value, bytes) or len(value) != 32:
        raise ConfigError(f"the {name} must be 32 bytes, got {value!r}")
    return value
