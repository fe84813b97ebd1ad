"""Addresses as people type them: EIP-55 checksums are checked, not ignored."""

from __future__ import annotations

import pytest

from daofed.chain import dev_accounts
from daofed.chain.checks import check_address
from daofed.errors import ConfigError

ADDRESS = dev_accounts(2)[1].address  # checksummed, with letters in both cases


def _flip_one_letter(address: str) -> str:
    at = next(i for i, c in enumerate(address) if i > 1 and c.isalpha())
    return address[:at] + address[at].swapcase() + address[at + 1 :]


@pytest.mark.parametrize("spelling", [ADDRESS, ADDRESS.lower(), "0x" + ADDRESS[2:].upper()])
def test_checksummed_and_single_case_addresses_are_taken(spelling: str) -> None:
    assert check_address(spelling) == ADDRESS


def test_a_wrong_checksum_is_refused_as_a_likely_typo() -> None:
    typo = _flip_one_letter(ADDRESS)
    with pytest.raises(ConfigError, match="checksum does not match") as raised:
        check_address(typo, "a member address")
    assert typo in str(raised.value) and "a member address" in str(raised.value)
    assert ADDRESS not in str(raised.value)  # the right spelling is not guessed for them


@pytest.mark.parametrize("value", ["0x1234", "not an address", 42, None, ADDRESS + "00"])
def test_what_is_not_an_address_is_refused(value: object) -> None:
    with pytest.raises(ConfigError, match="0x \\+ 40 hex digits"):
        check_address(value)
