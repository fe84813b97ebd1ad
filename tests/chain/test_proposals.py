"""The table of proposal kinds: every kind of the contract, its encoding, text and config."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from eth_abi.abi import encode

from daofed.chain import FederationConfig, ProposalKind, Windows, describe_proposal
from daofed.chain.proposals import KINDS, check_value, decode_value, encode_value, kind_named
from daofed.errors import ChainError, ConfigError

INTERFACE = Path(__file__).resolve().parents[2] / "contracts" / "IFederationGovernance.sol"

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


def test_the_kinds_are_the_contracts_enum_in_its_order() -> None:
    """A kind added to the contract fails here until the table has its spec."""
    body = re.search(r"enum ProposalKind \{([^}]*)\}", INTERFACE.read_text())
    assert body is not None
    names = [name.strip() for name in body.group(1).split(",")]
    snake = [re.sub(r"(?<!^)(?=[A-Z])", "_", name).upper() for name in names]
    assert snake == [kind.name for kind in ProposalKind] == [s.kind.name for s in KINDS.values()]
    assert [kind.value for kind in ProposalKind] == list(range(len(names)))


@pytest.mark.parametrize(
    ("text", "value"),
    [
        (f"add-member {ADDRESS}", CHECKSUMMED),
        (f"remove-member {CHECKSUMMED}", CHECKSUMMED),
        ("set-quorum 3", 3),
        ("set-windows 60,120,30", Windows(60, 120, 30)),
        ("set-windows 60, 120, 30", Windows(60, 120, 30)),
        ("set-rule trimmed-mean:beta=0.2", "trimmed-mean:beta=0.2"),
        ("set-commit-reveal ON", True),
        ("set-commit-reveal off", False),
        ("set-voting-period 86400", 86_400),
        ("set-max-samples 50000", 50_000),
    ],
)
def test_a_kind_and_value_are_read_from_the_command_line(text: str, value: object) -> None:
    name, written = text.split(" ", 1)
    assert kind_named(name).parse(written) == value


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("quorum 3", "no proposal kind 'quorum': choose one of add-member, remove-member, "),
        ("set-quorum three", "set-quorum takes VOTES, got 'three'"),
        ("set-quorum -1", "from 0 to 4294967295"),
        ("set-windows 60,120", r"set-windows takes SUBMIT,VOTE,REVEAL \(seconds\), got '60,120'"),
        ("set-windows 60,x,30", "set-windows takes SUBMIT,VOTE,REVEAL .* got '60,x,30'"),
        ("set-windows 60,120,30,1", "set-windows takes SUBMIT,VOTE,REVEAL"),
        ("set-commit-reveal yes", r"set-commit-reveal takes on\|off, got 'yes'"),
        ("set-rule medain", "unknown aggregation rule 'medain'"),
        ("add-member 0x1234", "not an address to add-member"),
    ],
)
def test_a_malformed_command_line_value_says_what_is_expected(text: str, message: str) -> None:
    name, written = text.split(" ", 1)
    with pytest.raises(ConfigError, match=message):
        kind_named(name).parse(written)


def test_only_config_kinds_read_their_value_from_a_config() -> None:
    config = FederationConfig(
        version=2,
        quorum=3,
        submit_window=60,
        vote_window=120,
        rule="median",
        reveal_window=30,
        voting_period=86_400,
        commit_reveal=True,
        max_samples=50_000,
    )
    values = {kind: value for kind, value, _ in EXAMPLES}
    for kind, spec in KINDS.items():
        assert (spec.in_config is not None) == kind.changes_config
        if spec.in_config is not None:
            expected = "median" if kind is ProposalKind.SET_RULE else values[kind]
            assert spec.in_config(config) == expected, kind
