"""Proposal arguments encode as the contract's ABI encoding and decode back, by kind."""

from __future__ import annotations

import pytest
from eth_abi.abi import encode

from daofed.chain import ProposalKind, Windows, describe_proposal
from daofed.chain.proposals import check_value, decode_value, encode_value
from daofed.errors import ChainError, ConfigError

ADDRESS = "0x" + "ab" * 20
CHECKSUMMED = "0xABaBaBaBABabABabAbAbABAbABabababaBaBABaB"

EXAMPLES = [
    (ProposalKind.ADD_MEMBER, CHECKSUMMED, encode(["address"], [ADDRESS])),
    (ProposalKind.REMOVE_MEMBER, CHECKSUMMED, encode(["address"], [ADDRESS])),
    (ProposalKind.SET_QUORUM, 3, encode(["uint32"], [3])),
    (ProposalKind.SET_WINDOWS, Windows(60, 120, 30), encode(["uint32"] * 3, [60, 120, 30])),
    (ProposalKind.SET_RULE, "trimmed-mean:beta=0.2", encode(["string"], ["trimmed-mean:beta=0.2"])),
    (ProposalKind.SET_COMMIT_REVEAL, True, encode(["bool"], [True])),
    (ProposalKind.SET_VOTING_PERIOD, 86_400, encode(["uint32"], [86_400])),
    (ProposalKind.SET_MAX_SAMPLES, 50_000, encode(["uint64"], [50_000])),
]


@pytest.mark.parametrize(("kind", "value", "data"), EXAMPLES)
def test_encode_and_decode_round_trip(kind: ProposalKind, value: object, data: bytes) -> None:
    assert encode_value(kind, value) == data
    assert decode_value(kind, data) == value


def test_every_kind_has_an_example_and_a_description() -> None:
    assert {kind for kind, _, _ in EXAMPLES} == set(ProposalKind)
    described = [describe_proposal(kind, value) for kind, value, _ in EXAMPLES]  # type: ignore[arg-type]
    assert described == [
        f"add member {CHECKSUMMED}",
        f"remove member {CHECKSUMMED}",
        "set quorum to 3",
        "set windows to submit 60 s, vote 120 s, reveal 30 s",
        "set aggregation rule to 'trimmed-mean:beta=0.2'",
        "turn commit-reveal on",
        "set voting period to 86400 s",
        "cap an update's samples at 50000",
    ]


def test_addresses_are_checksummed() -> None:
    assert check_value(ProposalKind.ADD_MEMBER, ADDRESS) == CHECKSUMMED


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        (ProposalKind.ADD_MEMBER, "0x12", "not an address to add-member"),
        (ProposalKind.REMOVE_MEMBER, 5, "not an address to remove-member"),
        (ProposalKind.SET_QUORUM, -1, "from 0 to 4294967295"),
        (ProposalKind.SET_QUORUM, True, "from 0 to 4294967295"),
        (ProposalKind.SET_VOTING_PERIOD, 2**32, "voting period must be 1 to 2592000 seconds"),
        (ProposalKind.SET_VOTING_PERIOD, 0, "voting period must be 1 to"),
        (ProposalKind.SET_WINDOWS, (1, 2, 3), "needs Windows"),
        (ProposalKind.SET_WINDOWS, Windows(1, 2, -3), "the reveal window"),
        (ProposalKind.SET_WINDOWS, Windows(1, 2_592_001, 3), "the vote window must be 1 to"),
        (ProposalKind.SET_RULE, 7, "must be a spec such as 'median'"),
        (ProposalKind.SET_RULE, "", "1 to 256 bytes"),
        (ProposalKind.SET_RULE, "median" + " " * 300, "1 to 256 bytes"),
        (ProposalKind.SET_RULE, "medain", "unknown aggregation rule 'medain'"),
        (ProposalKind.SET_RULE, "multi-krum:f=1", "missing"),
        (ProposalKind.SET_MAX_SAMPLES, 0, "sample cap must be a whole number from 1"),
        (ProposalKind.SET_MAX_SAMPLES, 2**53, "sample cap must be a whole number from 1"),
        (ProposalKind.SET_COMMIT_REVEAL, "yes", "True or False"),
    ],
)
def test_wrong_argument_types_are_refused(kind: ProposalKind, value: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        encode_value(kind, value)


def test_undecodable_data_is_a_chain_error() -> None:
    with pytest.raises(ChainError, match="does not decode"):
        decode_value(ProposalKind.SET_WINDOWS, b"\x01" * 10)
