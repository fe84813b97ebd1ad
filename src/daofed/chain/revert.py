"""Turn a contract's revert data into a :class:`ContractRevert` a person can act on.

The Federation contract rejects with named custom errors carrying the values that explain
the rejection; here they get decoded by the ABI and worded as "what failed: what to do".
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from functools import cache
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_utils.abi import function_signature_to_4byte_selector
from eth_utils.address import to_checksum_address
from hexbytes import HexBytes
from web3.exceptions import ContractLogicError

from daofed.chain.values import Phase, ProposalState
from daofed.errors import ContractRevert


def _wrong_phase(a: Mapping[str, Any]) -> str:
    hints = {
        Phase.SUBMIT: "submissions are over for this round",
        Phase.REVEAL: (
            "reveals open once every member has committed or the commitment deadline passed, "
            "and end when every committer has revealed or the reveal deadline passed"
        ),
        Phase.VOTE: (
            "votes open once every member has submitted (with commit-reveal: revealed) "
            "or the deadline passed"
        ),
        Phase.EXPIRED: "only a round whose vote deadline passed without quorum can be closed",
    }
    current, expected = a["current"], a["expected"]
    hint = hints.get(expected, "check the round's phase first")
    return f"round {a['round']} is in its {current.label} phase, not {expected.label}: {hint}"


def _unexpected_proposal_state(a: Mapping[str, Any]) -> str:
    proposal, current, expected = a["proposalId"], a["current"], a["expected"]
    if current is ProposalState.NONE:
        return f"there is no proposal {proposal}: check the id against the list of proposals"
    hints = {
        ProposalState.ACTIVE: "it is only open for votes until its voting end",
        ProposalState.SUCCEEDED: {
            ProposalState.ACTIVE: "wait until its voting period is over",
            ProposalState.DEFEATED: "it did not get enough yes votes, so it never executes",
            ProposalState.EXECUTED: "it was already executed, once is enough",
            ProposalState.EXPIRED: (
                "it carried but was not executed within 14 days of its voting end: propose it again"
            ),
            ProposalState.STALE: (
                "another config version took over since it was proposed, so it would undo a "
                "newer decision: propose it again against the current config"
            ),
        }.get(current, "only a proposal that carried can be executed"),
    }
    hint = hints.get(expected, "check the proposal's state first")
    return f"proposal {proposal} is {current.label}, not {expected.label}: {hint}"


_MESSAGES: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "NotMember": lambda a: (
        f"{a['account']} is not a member of round {a['round']}: "
        "use a member's key, or have the members add this account"
    ),
    "MemberExists": lambda a: f"{a['account']} is already a member: list each member once",
    "InvalidMember": lambda a: f"{a['account']} cannot be a member: give a real account address",
    "WrongRound": lambda a: (
        f"round {a['given']} is not open, the current round is {a['current']}: "
        f"act on round {a['current']}"
    ),
    "WrongPhase": _wrong_phase,
    "AlreadySubmitted": lambda a: (
        f"{a['member']} already submitted its update for round {a['round']}: "
        "each member submits once; wait for the vote phase"
    ),
    "AlreadyVoted": lambda a: (
        f"{a['member']} already voted in round {a['round']}: "
        "each member votes once; wait for the other members"
    ),
    "NodeAddressesTooLong": lambda a: (
        f"node addresses of {a['length']} bytes are refused: publish at most 1,024 bytes "
        "(fewer multiaddrs)"
    ),
    "ZeroEncryptionKey": lambda a: "the encryption key is zero: register an X25519 public key",
    "SetupClosed": lambda a: (
        f"round {a['round']} took setup messages until {a['deadline']}: a member that missed "
        "it sits the private round out and joins the next one"
    ),
    "SharesAlreadyPosted": lambda a: (
        f"{a['member']} already posted its setup message of round {a['round']}: "
        "each member posts one; submit the masked update next"
    ),
    "RecoveryAlreadyPosted": lambda a: (
        f"{a['member']} already posted its recovery message of round {a['round']}: "
        "each member posts one; vote for the unmasked sum next"
    ),
    "ZeroDigest": lambda a: "the digest is zero: give the sha256 of the stored bytes",
    "EmptyCid": lambda a: "the CID is empty: give the locator the blob store returned",
    "InvalidSampleCount": lambda a: (
        f"an update claiming {a['numSamples']} samples is refused: this round accepts 1 to "
        f"{a['maxSamples']} (the federation's governed cap); check the data, or propose "
        "another cap with `daofed propose set-max-samples N`"
    ),
    "InvalidQuorum": lambda a: (
        f"a quorum of {a['quorum']} is impossible with {a['memberCount']} members: "
        f"choose a quorum from 1 to {a['memberCount']}"
    ),
    "InvalidWindows": lambda a: (
        f"windows of {a['submitWindow']} s (submit), {a['voteWindow']} s (vote) and "
        f"{a['revealWindow']} s (reveal) are invalid: each must last 1 second to 30 days"
    ),
    "InvalidVotingPeriod": lambda a: (
        f"a voting period of {a['votingPeriod']} s is invalid: it must last 1 second to 30 days"
    ),
    "InvalidRuleLength": lambda a: (
        f"an aggregation rule spec of {a['length']} bytes is refused: give one of 1 to 256 "
        "bytes, e.g. 'fedavg'"
    ),
    "InvalidMaxSamples": lambda a: (
        f"a sample cap of {a['maxSamples']} is invalid: give 1 to 2^53 - 1"
    ),
    "CommitRevealRequired": lambda a: (
        f"round {a['round']} runs with commit-reveal: commit to the update, then reveal it"
    ),
    "CommitRevealDisabled": lambda a: (
        f"round {a['round']} runs without commit-reveal: submit the update directly"
    ),
    "ZeroCommitment": lambda a: (
        "the commitment is zero: compute it from the round, member, digest, CID, sample count "
        "and salt"
    ),
    "AlreadyCommitted": lambda a: (
        f"{a['member']} already committed to an update in round {a['round']}: "
        "each member commits once; reveal it in the reveal phase"
    ),
    "NotCommitted": lambda a: (
        f"{a['member']} made no commitment in round {a['round']}, so it has nothing to reveal: "
        "commit in the submission phase of a later round"
    ),
    "CommitmentMismatch": lambda a: (
        f"what {a['member']} revealed in round {a['round']} does not match its commitment "
        f"{a['committed'].hex()}: reveal the same digest, CID, sample count and salt it "
        "committed to"
    ),
    "UnexpectedProposalState": _unexpected_proposal_state,
    "ProposalAlreadyVoted": lambda a: (
        f"{a['voter']} already voted on proposal {a['proposalId']}: each member votes once"
    ),
    "Error": lambda a: f"the contract rejected the call: {a['reason']}",
    "Panic": lambda a: f"the contract failed (panic code {a['code']:#x}): this is a bug in it",
}

_BUILTIN_ERRORS = [
    {"type": "error", "name": "Error", "inputs": [{"name": "reason", "type": "string"}]},
    {"type": "error", "name": "Panic", "inputs": [{"name": "code", "type": "uint256"}]},
]


class RevertDecoder:
    """Decodes revert data by the custom errors in an ABI (plus Error(string) and Panic)."""

    def __init__(self, abi: list[dict[str, Any]]) -> None:
        self._errors: dict[bytes, dict[str, Any]] = {}
        for entry in [*abi, *_BUILTIN_ERRORS]:
            if entry["type"] == "error":
                types = ",".join(i["type"] for i in entry["inputs"])
                selector = function_signature_to_4byte_selector(f"{entry['name']}({types})")
                self._errors[selector] = entry

    def decode(self, data: bytes) -> ContractRevert:
        """Decode revert ``data`` (selector + ABI-encoded arguments) into a ContractRevert."""
        entry = self._errors.get(bytes(data[:4]))
        if entry is None:
            return ContractRevert(
                "Unknown",
                {"data": HexBytes(data).to_0x_hex()},
                f"the contract rejected the call with unknown data {HexBytes(data).to_0x_hex()}: "
                "is the address really a daofed Federation of this version?",
            )
        inputs = entry["inputs"]
        values = abi_decode([i["type"] for i in inputs], bytes(data[4:]))
        args = {i["name"]: _python_value(i, v) for i, v in zip(inputs, values, strict=True)}
        return ContractRevert(entry["name"], args, _MESSAGES[entry["name"]](args))

    def from_exception(self, error: BaseException) -> ContractRevert | None:
        """Find the ContractRevert behind a web3/eth-tester exception (None: not a revert)."""
        data = revert_data(error)
        return None if data is None else self.decode(data)


def revert_data(error: BaseException) -> bytes | None:
    """Find the raw revert data carried by ``error`` or an exception it was raised from.

    JSON-RPC nodes give it as hex in ``ContractLogicError.data`` (anvil), or in the
    ``data`` of the error object found there (Hardhat: ``{"message": ..., "data": "0x..."}``);
    web3's eth-tester provider re-raises with the bytes only in the text, so it is taken
    from the original py-evm ``Revert`` exception in the chain.
    """
    for exc in _chain(error):
        data = getattr(exc, "data", None) if isinstance(exc, ContractLogicError) else None
        if isinstance(data, Mapping):
            data = data.get("data")
        if isinstance(data, str) and data.startswith("0x") and len(data) >= 10:
            return bytes(HexBytes(data))
        evm_revert = _evm_revert()
        from_evm = evm_revert is not None and isinstance(exc, evm_revert)
        if from_evm and exc.args and isinstance(exc.args[0], bytes):
            return exc.args[0]
    return None


@cache
def _evm_revert() -> type[BaseException] | None:
    """py-evm's ``Revert``, or None without the ``demo`` extra (then nothing raises it)."""
    try:
        from eth.exceptions import Revert
    except ModuleNotFoundError:
        return None
    return Revert


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _python_value(param: Mapping[str, Any], value: object) -> object:
    if param["type"] == "address":
        return to_checksum_address(str(value))
    enum = _ENUMS.get(param.get("internalType", ""))
    if enum is not None:
        return enum(int(value))  # type: ignore[call-overload]
    return value


_ENUMS: dict[str, type[Phase] | type[ProposalState]] = {
    "enum IFederation.Phase": Phase,
    "enum IFederationGovernance.ProposalState": ProposalState,
}
