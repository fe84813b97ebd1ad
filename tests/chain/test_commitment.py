"""Commitments computed in Python equal the contract's own ``updateCommitment``."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from daofed.chain import Federation, dev_accounts, embedded_chain, new_salt, update_commitment
from daofed.chain.commitment import derive_salt
from daofed.errors import ConfigError

from .conftest import blob

ACCOUNTS = dev_accounts(3)


@pytest.fixture(scope="module")
def federation() -> Federation:
    w3 = embedded_chain()
    return Federation.deploy(
        w3,
        ACCOUNTS[0],
        members=[ACCOUNTS[1].address],
        quorum=1,
        submit_window=60,
        vote_window=60,
        rule="fedavg",
        genesis=blob("genesis"),
    )


@settings(max_examples=25, deadline=None)
@given(
    round_number=st.integers(0, 2**64 - 1),
    member=st.binary(min_size=20, max_size=20),
    digest=st.binary(min_size=32, max_size=32),
    cid=st.text(max_size=80),
    num_samples=st.integers(0, 2**64 - 1),
    salt=st.binary(min_size=32, max_size=32),
)
def test_python_and_solidity_agree(
    federation: Federation,
    round_number: int,
    member: bytes,
    digest: bytes,
    cid: str,
    num_samples: int,
    salt: bytes,
) -> None:
    address = "0x" + member.hex()
    on_chain = federation.contract.functions.updateCommitment(
        round_number, federation.w3.to_checksum_address(address), digest, cid, num_samples, salt
    ).call()
    assert update_commitment(round_number, address, digest, cid, num_samples, salt) == bytes(
        on_chain
    )


def test_commitments_bind_round_member_digest_cid_samples_and_salt() -> None:
    a, b = ACCOUNTS[1].address, ACCOUNTS[2].address
    u = blob("u").digest
    base = update_commitment(1, a, u, "cid-u", 10, b"\x00" * 32)
    others = {
        update_commitment(2, a, u, "cid-u", 10, b"\x00" * 32),
        update_commitment(1, b, u, "cid-u", 10, b"\x00" * 32),
        update_commitment(1, a, blob("v").digest, "cid-u", 10, b"\x00" * 32),
        update_commitment(1, a, u, "cid-v", 10, b"\x00" * 32),
        update_commitment(1, a, u, "cid-u", 11, b"\x00" * 32),
        update_commitment(1, a, u, "cid-u", 10, b"\x01" * 32),
    }
    assert base not in others and len(others) == 6


def test_salts() -> None:
    assert len(new_salt()) == 32 and new_salt() != new_salt()
    contract = "0x" + "11" * 20
    salt = derive_salt(ACCOUNTS[1], contract, 1, blob("u").digest)
    assert salt == derive_salt(ACCOUNTS[1], contract, 1, blob("u").digest)  # reproducible
    assert salt != derive_salt(ACCOUNTS[2], contract, 1, blob("u").digest)  # per key
    assert salt != derive_salt(ACCOUNTS[1], contract, 2, blob("u").digest)  # per round
    assert salt != derive_salt(ACCOUNTS[1], "0x" + "22" * 20, 1, blob("u").digest)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((1, "0x12", b"\x00" * 32, "c", 1, b"\x00" * 32), "not a member address"),
        ((1, "0x" + "11" * 20, b"\x00" * 31, "c", 1, b"\x00" * 32), "digest must be 32 bytes"),
        ((1, "0x" + "11" * 20, b"\x00" * 32, "c", 1, b"\x00"), "salt must be 32 bytes"),
        ((2**64, "0x" + "11" * 20, b"\x00" * 32, "c", 1, b"\x00" * 32), "round must be"),
        ((1, "0x" + "11" * 20, b"\x00" * 32, "c", 2**64, b"\x00" * 32), "num_samples must be"),
        ((1, "0x" + "11" * 20, b"\x00" * 32, "c", -1, b"\x00" * 32), "num_samples must be"),
    ],
)
def test_bad_commitment_arguments(
    args: tuple[int, str, bytes, str, int, bytes], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        update_commitment(*args)
