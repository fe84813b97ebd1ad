"""The proposal kinds: one table says how each is proposed, checked, encoded, read and shown.

Everything that depends on a proposal's kind reads :data:`KINDS`: the contract client
(which function proposes it), the events (how its ``data`` decodes), the audit (which
config field it changes), the ``daofed propose KIND VALUE`` command (how VALUE is written)
and every message (how it is described). A proposal's ``data`` is the ABI encoding of
its argument, as ``IFederationGovernance`` documents for each kind.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

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


class GovernedConfig(Protocol):
    """The governed parameters, as a :class:`FederationConfig` or a ConfigChanged event has them."""

    @property
    def quorum(self) -> int: ...  # noqa: D102
    @property
    def submit_window(self) -> int: ...  # noqa: D102
    @property
    def vote_window(self) -> int: ...  # noqa: D102
    @property
    def reveal_window(self) -> int: ...  # noqa: D102
    @property
    def voting_period(self) -> int: ...  # noqa: D102
    @property
    def commit_reveal(self) -> bool: ...  # noqa: D102
    @property
    def rule(self) -> str: ...  # noqa: D102
    @property
    def max_samples(self) -> int: ...  # noqa: D102


@dataclass(frozen=True)
class KindSpec:
    """Everything daofed knows about one proposal kind."""

    kind: ProposalKind
    function: str  # the contract function that proposes it
    types: tuple[str, ...]  # the ABI types of its argument(s), in the proposal's ``data``
    value_format: str  # how VALUE is written in ``daofed propose KIND VALUE``
    purpose: str  # what it changes, for help
    checker: Callable[[ProposalKind, object], ProposalValue]  # ConfigError if not a value
    parser: Callable[[ProposalKind, str], object]  # command-line text -> a value to check
    describer: Callable[[ProposalValue], str]
    in_config: Callable[[GovernedConfig], ProposalValue] | None  # None: changes members
    to_abi: Callable[[ProposalValue], tuple[object, ...]] = lambda value: (value,)
    from_abi: Callable[[tuple[object, ...]], ProposalValue] = lambda values: _one(values)

    @property
    def name(self) -> str:
        """The kind's name on the command line and in messages, e.g. ``set-quorum``."""
        return self.kind.label

    def check(self, value: object) -> ProposalValue:
        """Return ``value`` as this kind's argument (ConfigError if it is not one).

        Addresses come back checksummed and rule specs must parse. Types and the contract's
        bounds are checked here; the contract checks the rest (a quorum the members can
        reach, a member that exists ...).
        """
        return self.checker(self.kind, value)

    def parse(self, text: str) -> ProposalValue:
        """Read and check VALUE of ``daofed propose KIND VALUE`` (ConfigError if malformed)."""
        return self.check(self.parser(self.kind, text))

    def arguments(self, value: object) -> tuple[object, ...]:
        """Return the checked arguments of :attr:`function` that propose ``value``."""
        return self.to_abi(self.check(value))

    def encode(self, value: object) -> bytes:
        """ABI-encode ``value`` as the contract stores it in the proposal's ``data``."""
        return abi_encode(list(self.types), list(self.arguments(value)))

    def decode(self, data: bytes) -> ProposalValue:
        """Decode a proposal's ``data`` into its argument."""
        try:
            values = abi_decode(list(self.types), bytes(data))
        except DecodingError as error:
            raise ChainError(
                f"the data of a {self.name} proposal does not decode ({error}): "
                "is the contract a daofed Federation of this version?"
            ) from None
        return self.from_abi(values)

    def describe(self, value: ProposalValue) -> str:
        """Say what a proposal of this kind with ``value`` changes, e.g. ``set quorum to 3``."""
        return self.describer(value)


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


def _check_member(kind: ProposalKind, value: object) -> str:
    return check_address(value, f"an address to {kind.label}")


def _check_windows(kind: ProposalKind, value: object) -> Windows:
    if not isinstance(value, Windows):
        raise ConfigError(f"{kind.label} needs Windows(submit, vote, reveal), got {value!r}")
    for name in ("submit", "vote", "reveal"):
        check_period(f"the {name} window", getattr(value, name))
    return value


def _check_switch(kind: ProposalKind, value: object) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{kind.label} needs True or False, got {value!r}")
    return value


def _text(kind: ProposalKind, text: str) -> str:
    return text


def _whole_number(kind: ProposalKind, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ConfigError(f"{kind.label} takes {KINDS[kind].value_format}, got {text!r}") from None


def _windows(kind: ProposalKind, text: str) -> Windows:
    try:
        submit, vote, reveal = (int(part) for part in text.split(","))
    except ValueError:  # not three parts, or one is not a whole number
        raise ConfigError(f"{kind.label} takes {KINDS[kind].value_format}, got {text!r}") from None
    return Windows(submit, vote, reveal)


def _canonical_rule(kind: ProposalKind, text: str) -> str:
    """Spell the rule canonically, so that equal rules compare equal on chain."""
    return parse_rule(check_rule(text)).spec


def _on_off(kind: ProposalKind, text: str) -> bool:
    if text.lower() not in {"on", "off"}:
        raise ConfigError(f"{kind.label} takes {KINDS[kind].value_format}, got {text!r}")
    return text.lower() == "on"


def _one(values: tuple[object, ...]) -> ProposalValue:
    (value,) = values
    assert isinstance(value, str | int | bool)
    return value


def _address(values: tuple[object, ...]) -> str:
    (value,) = values
    assert isinstance(value, str)
    return to_checksum_address(value)


def _windows_abi(value: ProposalValue) -> tuple[object, ...]:
    assert isinstance(value, Windows)
    return (value.submit, value.vote, value.reveal)


def _windows_from_abi(values: tuple[object, ...]) -> Windows:
    submit, vote, reveal = values
    assert isinstance(submit, int) and isinstance(vote, int) and isinstance(reveal, int)
    return Windows(submit, vote, reveal)


def _describe_windows(value: ProposalValue) -> str:
    assert isinstance(value, Windows)
    return f"set windows to submit {value.submit} s, vote {value.vote} s, reveal {value.reveal} s"


def _windows_of(config: GovernedConfig) -> Windows:
    return Windows(config.submit_window, config.vote_window, config.reveal_window)


_SPECS = (
    KindSpec(
        ProposalKind.ADD_MEMBER,
        function="proposeAddMember",
        types=("address",),
        value_format="ADDRESS",
        purpose="admit a member",
        checker=_check_member,
        parser=_text,
        describer=lambda value: f"add member {value}",
        in_config=None,
        from_abi=_address,
    ),
    KindSpec(
        ProposalKind.REMOVE_MEMBER,
        function="proposeRemoveMember",
        types=("address",),
        value_format="ADDRESS",
        purpose="remove a member",
        checker=_check_member,
        parser=_text,
        describer=lambda value: f"remove member {value}",
        in_config=None,
        from_abi=_address,
    ),
    KindSpec(
        ProposalKind.SET_QUORUM,
        function="proposeQuorum",
        types=("uint32",),
        value_format="VOTES",
        purpose="votes that accept an aggregate",
        checker=lambda kind, value: check_uint(f"the argument of {kind.label}", value, UINT32_MAX),
        parser=_whole_number,
        describer=lambda value: f"set quorum to {value}",
        in_config=lambda config: config.quorum,
    ),
    KindSpec(
        ProposalKind.SET_WINDOWS,
        function="proposeWindows",
        types=("uint32", "uint32", "uint32"),
        value_format="SUBMIT,VOTE,REVEAL (seconds)",
        purpose="round windows; REVEAL counts only with commit-reveal",
        checker=_check_windows,
        parser=_windows,
        describer=_describe_windows,
        in_config=_windows_of,
        to_abi=_windows_abi,
        from_abi=_windows_from_abi,
    ),
    KindSpec(
        ProposalKind.SET_RULE,
        function="proposeRule",
        types=("string",),
        value_format="RULE",
        purpose="aggregation rule: fedavg, median, trimmed-mean:beta=0.2, multi-krum:f=1,m=3 …",
        checker=lambda kind, value: check_rule(value),
        parser=_canonical_rule,
        describer=lambda value: f"set aggregation rule to {value!r}",
        in_config=lambda config: config.rule,
    ),
    KindSpec(
        ProposalKind.SET_COMMIT_REVEAL,
        function="proposeCommitReveal",
        types=("bool",),
        value_format="on|off",
        purpose="commit-reveal of updates",
        checker=_check_switch,
        parser=_on_off,
        describer=lambda value: f"turn commit-reveal {'on' if value else 'off'}",
        in_config=lambda config: config.commit_reveal,
    ),
    KindSpec(
        ProposalKind.SET_VOTING_PERIOD,
        function="proposeVotingPeriod",
        types=("uint32",),
        value_format="SECONDS",
        purpose="how long later proposals stay open for votes",
        checker=lambda kind, value: check_period("the voting period", value),
        parser=_whole_number,
        describer=lambda value: f"set voting period to {value} s",
        in_config=lambda config: config.voting_period,
    ),
    KindSpec(
        ProposalKind.SET_MAX_SAMPLES,
        function="proposeMaxSamples",
        types=("uint64",),
        value_format="SAMPLES",
        purpose="the most samples (FedAvg weight) one update may claim",
        checker=lambda kind, value: check_max_samples(value),
        parser=_whole_number,
        describer=lambda value: f"cap an update's samples at {value}",
        in_config=lambda config: config.max_samples,
    ),
)

KINDS: Mapping[ProposalKind, KindSpec] = {spec.kind: spec for spec in _SPECS}
"""Every proposal kind's spec, in the order of the contract's ``ProposalKind`` enum."""


def kind_named(name: str) -> KindSpec:
    """Return the spec of the kind called ``name`` (e.g. ``set-quorum``); ConfigError if none."""
    for spec in _SPECS:
        if spec.name == name:
            return spec
    raise ConfigError(
        f"there is no proposal kind {name!r}: choose one of {', '.join(s.name for s in _SPECS)}"
    )


def check_value(kind: ProposalKind, value: object) -> ProposalValue:
    """Return ``value`` as the argument of a ``kind`` proposal (ConfigError if it is not one)."""
    return KINDS[ProposalKind(kind)].check(value)


def encode_value(kind: ProposalKind, value: object) -> bytes:
    """ABI-encode the argument of a ``kind`` proposal, as the contract stores it."""
    return KINDS[ProposalKind(kind)].encode(value)


def decode_value(kind: ProposalKind, data: bytes) -> ProposalValue:
    """Decode the ``data`` of a ``kind`` proposal into its argument."""
    return KINDS[ProposalKind(kind)].decode(data)


def describe(kind: ProposalKind, value: ProposalValue) -> str:
    """Say what a proposal changes, in a few words, e.g. ``set quorum to 3``."""
    return KINDS[ProposalKind(kind)].describe(value)
