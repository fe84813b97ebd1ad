"""Typed access to a deployed Federation contract: views, transactions and events.

Every transaction is signed in this process with the member's LocalAccount; a rejection
comes back as :class:`daofed.errors.ContractRevert` naming the contract's custom error,
with its arguments and a message that says what to do.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils.address import is_address, to_checksum_address
from web3 import Web3
from web3.contract import Contract

from daofed.chain.artifacts import load_artifact
from daofed.chain.events import (
    AggregateVoted,
    ChainEvent,
    ConfigChanged,
    E,
    MemberAdded,
    MemberRemoved,
    ModelAccepted,
    RoundClosed,
    RoundOpened,
    UpdateSubmitted,
    query_logs,
)
from daofed.chain.revert import RevertDecoder
from daofed.chain.tx import result_of, rpc_errors, send_transaction
from daofed.chain.values import FederationConfig, Phase, RoundInfo, TxResult
from daofed.errors import ChainError, ConfigError
from daofed.storage import BlobRef

ROUND_CHANGING_GAS = 400_000
"""Gas limit floor for votes and closes: the one that accepts or closes also opens the
next round (~120k gas), which an estimate made a moment earlier may not have seen.
Unused gas is not charged."""

_UINT32 = 2**32 - 1
_UINT64 = 2**64 - 1


class Federation:
    """One Federation contract on one chain."""

    def __init__(self, w3: Web3, address: str, deploy_block: int) -> None:
        artifact = load_artifact("Federation")
        self.w3 = w3
        self.address = to_checksum_address(address)
        self.deploy_block = deploy_block
        self.contract: Contract = w3.eth.contract(address=self.address, abi=artifact.abi)
        self._decoder = RevertDecoder(artifact.abi)
        self._base_cids: dict[int, str] = {}  # round -> base CID, from RoundOpened

    # -- creation ----------------------------------------------------------------------

    @classmethod
    def deploy(
        cls,
        w3: Web3,
        deployer: LocalAccount,
        *,
        members: Sequence[str],
        quorum: int,
        submit_window: int,
        vote_window: int,
        rule: str,
        genesis: BlobRef,
    ) -> Federation:
        """Deploy a federation whose round 1 trains from ``genesis``; windows in seconds."""
        for name, value in (
            ("quorum", quorum),
            ("submit_window", submit_window),
            ("vote_window", vote_window),
        ):
            _check_uint(name, value, _UINT32)
        for member in members:
            if not is_address(member):
                raise ConfigError(f"member {member!r} is not an address: give 0x + 40 hex digits")
        artifact = load_artifact("Federation")
        factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        constructor = factory.constructor(
            [to_checksum_address(m) for m in members],
            quorum,
            submit_window,
            vote_window,
            rule,
            genesis.digest,
            genesis.locator,
        )
        receipt = send_transaction(
            w3, deployer, constructor, RevertDecoder(artifact.abi), what="deploying the federation"
        )
        return cls(w3, str(receipt["contractAddress"]), receipt["blockNumber"])

    @classmethod
    def at(cls, w3: Web3, address: str, deploy_block: int | None = None) -> Federation:
        """Open the federation at ``address``; ``deploy_block`` is read from it if not given."""
        if not is_address(address):
            raise ConfigError(f"{address!r} is not a contract address: give 0x + 40 hex digits")
        with rpc_errors(w3, "looking up the federation"):
            if not w3.eth.get_code(to_checksum_address(address)):
                raise ConfigError(
                    f"no contract at {address} on chain {w3.eth.chain_id}: "
                    "check the deployment file and the RPC URL"
                )
        federation = cls(w3, address, 0)
        if deploy_block is None:
            deploy_block = federation._view("deploymentBlock")
        federation.deploy_block = deploy_block
        return federation

    # -- views -------------------------------------------------------------------------

    def current_round(self) -> int:
        """Return the open round; rounds start at 1 and only grow."""
        return int(self._view("currentRound"))

    def phase(self, round_number: int) -> Phase:
        """Return where round ``round_number`` stands now."""
        return Phase(self._view("phase", _round(round_number)))

    def round_info(self, round_number: int) -> RoundInfo:
        """Return everything about round ``round_number``; ChainError if never opened."""
        raw = self._view("roundInfo", _round(round_number))
        (base, accepted, start, submit_deadline, vote_deadline, version, quorum) = raw[:7]
        member_count, submissions, phase = raw[7], raw[8], Phase(raw[9])
        if phase is Phase.NONE:
            raise ChainError(
                f"round {round_number} has not been opened: "
                f"the current round is {self.current_round()}"
            )
        return RoundInfo(
            round=round_number,
            base=self._base_ref(round_number, base),
            # the accepted model is the base of the next round
            accepted=self._base_ref(round_number + 1, accepted)
            if phase is Phase.ACCEPTED
            else None,
            start_time=start,
            submit_deadline=submit_deadline,
            vote_deadline=vote_deadline,
            config_version=version,
            quorum=quorum,
            member_count=member_count,
            submissions=submissions,
            phase=phase,
        )

    def current_base(self) -> BlobRef:
        """Return the model the current round trains from."""
        digest, cid = self._view("currentBase")
        return BlobRef(digest, cid)

    def has_submitted(self, round_number: int, address: str) -> bool:
        """Tell whether ``address`` submitted an update in round ``round_number``."""
        return bool(self._view("hasSubmitted", _round(round_number), _address(address)))

    def has_voted(self, round_number: int, address: str) -> bool:
        """Tell whether ``address`` voted in round ``round_number``."""
        return bool(self._view("hasVoted", _round(round_number), _address(address)))

    def tally(self, round_number: int, digest: bytes) -> int:
        """Count the votes for the aggregate ``digest`` in round ``round_number``."""
        return int(self._view("tally", _round(round_number), digest))

    def is_member(self, address: str, round_number: int | None = None) -> bool:
        """Tell whether ``address`` is a member of round ``round_number`` (default: current)."""
        round_number = self.current_round() if round_number is None else round_number
        return bool(self._view("isMember", _address(address), _round(round_number)))

    def members(self, round_number: int | None = None) -> list[str]:
        """List the members of round ``round_number`` (default: current), by admission."""
        round_number = self.current_round() if round_number is None else round_number
        return [to_checksum_address(a) for a in self._view("members", _round(round_number))]

    def member_count(self) -> int:
        """Count the members the rounds opened from now on will have."""
        return int(self._view("memberCount"))

    def config(self, version: int | None = None) -> FederationConfig:
        """Return the round parameters of config ``version`` (default: the latest)."""
        version = int(self._view("configVersion")) if version is None else version
        quorum, submit_window, vote_window, rule = self._view("config", version)
        return FederationConfig(version, quorum, submit_window, vote_window, rule)

    def rule_of(self, round_number: int) -> str:
        """Return the aggregation rule spec of round ``round_number``."""
        return str(self._view("ruleOf", _round(round_number)))

    # -- transactions ------------------------------------------------------------------

    def submit_update(
        self, account: LocalAccount, round_number: int, ref: BlobRef, num_samples: int
    ) -> TxResult:
        """Commit ``account``'s update ``ref`` for round ``round_number``."""
        _check_uint("num_samples", num_samples, _UINT64)
        call = self.contract.functions.submitUpdate(
            _round(round_number), ref.digest, ref.locator, num_samples
        )
        return self._send(account, call, f"submitting the update of round {round_number}")

    def vote_aggregate(self, account: LocalAccount, round_number: int, ref: BlobRef) -> TxResult:
        """Vote for the aggregate ``ref`` of round ``round_number``."""
        call = self.contract.functions.voteAggregate(_round(round_number), ref.digest, ref.locator)
        return self._send(
            account, call, f"voting in round {round_number}", gas_floor=ROUND_CHANGING_GAS
        )

    def close_round(self, account: LocalAccount, round_number: int) -> TxResult:
        """Close the expired round ``round_number`` (anyone may), opening the next one."""
        call = self.contract.functions.closeRound(_round(round_number))
        return self._send(
            account, call, f"closing round {round_number}", gas_floor=ROUND_CHANGING_GAS
        )

    # -- events ------------------------------------------------------------------------

    def updates(self, round_number: int) -> list[UpdateSubmitted]:
        """Return the updates submitted in round ``round_number``, in submission order."""
        return self.events(UpdateSubmitted, round=round_number)

    def votes(self, round_number: int) -> list[AggregateVoted]:
        """Return the votes cast in round ``round_number``, in order."""
        return self.events(AggregateVoted, round=round_number)

    def accepted(self) -> list[ModelAccepted]:
        """Return every accepted model, oldest first."""
        return self.events(ModelAccepted)

    def rounds_opened(self) -> list[RoundOpened]:
        """Return every round opening, oldest first."""
        return self.events(RoundOpened)

    def rounds_closed(self) -> list[RoundClosed]:
        """Return every round closed without quorum, oldest first."""
        return self.events(RoundClosed)

    def membership_changes(self) -> list[MemberAdded | MemberRemoved]:
        """Return every admission and removal, in chain order."""
        changes: list[MemberAdded | MemberRemoved] = [
            *self.events(MemberAdded),
            *self.events(MemberRemoved),
        ]
        return sorted(changes, key=_chain_order)

    def config_changes(self) -> list[ConfigChanged]:
        """Return every config version, oldest first."""
        return self.events(ConfigChanged)

    def events(self, kind: type[E], **filters: Any) -> list[E]:
        """Return events of ``kind`` since deployment, oldest first; filter on indexed args."""
        with rpc_errors(self.w3, f"reading {kind.__name__} events"):
            latest = self.w3.eth.block_number
            return list(
                query_logs(
                    self.contract,
                    kind,
                    from_block=self.deploy_block,
                    to_block=latest,
                    filters=filters,
                )
            )

    # -- plumbing ----------------------------------------------------------------------

    def _view(self, name: str, *args: Any) -> Any:
        with rpc_errors(self.w3, f"reading {name}", self._decoder):
            return self.contract.functions[name](*args).call()

    def _send(self, account: LocalAccount, call: Any, what: str, gas_floor: int = 0) -> TxResult:
        receipt = send_transaction(
            self.w3, account, call, self._decoder, what=what, gas_floor=gas_floor
        )
        return result_of(receipt)

    def _base_ref(self, round_number: int, digest: bytes) -> BlobRef:
        """Pair round ``round_number``'s base ``digest`` with the CID to fetch it from.

        From the current base when it is the same model (one call, so digest and CID always
        match), else from the round's RoundOpened event (cached: history does not change).
        """
        current = self.current_base()
        if current.digest == digest:
            return current
        if round_number not in self._base_cids:
            opened = self.events(RoundOpened, round=round_number)
            if not opened:
                raise ChainError(f"no RoundOpened event for round {round_number} at {self.address}")
            self._base_cids[round_number] = opened[0].base_cid
        return BlobRef(digest, self._base_cids[round_number])

    def __repr__(self) -> str:
        return f"Federation({self.address}, deploy_block={self.deploy_block})"


def _chain_order(event: ChainEvent) -> tuple[int, int]:
    return (event.block_number, event.log_index)


def _round(round_number: int) -> int:
    _check_uint("round", round_number, _UINT64)
    return round_number


def _address(address: str) -> str:
    if not is_address(address):
        raise ConfigError(f"{address!r} is not an address: give 0x + 40 hex digits")
    return to_checksum_address(address)


def _check_uint(name: str, value: int, maximum: int) -> None:
    if not isinstance(value, int) or not 0 <= value <= maximum:
        raise ConfigError(f"{name} must be a whole number from 0 to {maximum}, got {value!r}")
