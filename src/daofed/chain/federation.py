"""Typed access to a deployed Federation contract: views, transactions and events.

Every transaction is signed in this process with the member's LocalAccount; a rejection
comes back as :class:`daofed.errors.ContractRevert` naming the contract's custom error,
with its arguments and a message that says what to do. The governance calls (proposals)
come from :class:`~daofed.chain.governance.FederationGovernance`.
"""

from __future__ import annotations

from collections.abc import Sequence

from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address
from web3 import Web3

from daofed.chain.abi import from_struct
from daofed.chain.artifacts import load_artifact
from daofed.chain.checks import (
    MAX_SAMPLES_LIMIT,
    UINT32_MAX,
    UINT64_MAX,
    check_address,
    check_bytes32,
    check_period,
    check_round,
    check_uint,
)
from daofed.chain.commitment import update_commitment
from daofed.chain.cursor import EventCursor
from daofed.chain.events import (
    AggregateVoted,
    ChainEvent,
    ConfigChanged,
    E,
    EncryptionKeySet,
    MemberAdded,
    MemberRemoved,
    ModelAccepted,
    RecoveryPosted,
    RoundClosed,
    RoundOpened,
    SharesPosted,
    UpdateCommitted,
    UpdateSubmitted,
)
from daofed.chain.governance import FederationGovernance
from daofed.chain.proposals import check_max_samples, check_rule
from daofed.chain.revert import RevertDecoder
from daofed.chain.secure_aggregation import FederationSecureAggregation, keys_in_force
from daofed.chain.tx import rpc_errors, send_transaction
from daofed.chain.values import Phase, RoundInfo, RoundSnapshot, TxResult
from daofed.errors import ChainError, ConfigError, ContractRevert
from daofed.storage import BlobRef

MAX_NODE_ADDRESSES_LENGTH = 1024
"""The contract's bound on a member's published node addresses, in bytes."""

ROUND_CHANGING_GAS = 400_000
"""Gas limit floor for votes and closes: the one that accepts or closes also opens the
next round (~120k gas), which an estimate made a moment earlier may not have seen.
Unused gas is not charged."""


SNAPSHOT_ATTEMPTS = 3
"""Reads of a round snapshot when the node cannot answer at the head it named (a restart)."""


class Federation(FederationGovernance, FederationSecureAggregation):
    """One Federation contract on one chain."""

    def __init__(self, w3: Web3, address: str, deploy_block: int) -> None:
        super().__init__(w3, address, deploy_block)
        self._base_cids: dict[int, str] = {}  # round -> base CID, from RoundOpened
        self._opening_blocks: dict[int, int] = {}  # round -> where its events start
        self._key_cursor = EventCursor(self, EncryptionKeySet)
        self._key_events: list[EncryptionKeySet] = []  # every registration read so far

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
        reveal_window: int | None = None,
        voting_period: int | None = None,
        commit_reveal: bool = False,
        max_samples: int = MAX_SAMPLES_LIMIT,
    ) -> Federation:
        """Deploy a federation whose round 1 trains from ``genesis``; windows in seconds.

        ``reveal_window`` (used in rounds with ``commit_reveal``) defaults to the submit
        window: revealing takes each member one transaction, like submitting.
        ``voting_period`` (how long proposals are open) defaults to one round's length,
        submit plus vote window, so every member gets a full round to vote. Windows and
        voting period last 1 second to 30 days. ``max_samples`` caps the sample count an
        update may claim (its FedAvg weight); the default only keeps counts exact.
        """
        reveal_window = submit_window if reveal_window is None else reveal_window
        voting_period = submit_window + vote_window if voting_period is None else voting_period
        check_uint("quorum", quorum, UINT32_MAX)
        for name, value in (
            ("the submit window", submit_window),
            ("the vote window", vote_window),
            ("the reveal window", reveal_window),
            ("the voting period", voting_period),
        ):
            check_period(name, value)
        check_rule(rule)
        check_max_samples(max_samples)
        if not isinstance(commit_reveal, bool):
            raise ConfigError(f"commit_reveal must be True or False, got {commit_reveal!r}")
        addresses = [check_address(m, "a member address") for m in members]
        artifact = load_artifact("Federation")
        factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        config = (
            quorum,
            submit_window,
            vote_window,
            reveal_window,
            voting_period,
            commit_reveal,
            rule,
            max_samples,
        )
        constructor = factory.constructor(addresses, config, genesis.digest, genesis.locator)
        receipt = send_transaction(
            w3, deployer, constructor, RevertDecoder(artifact.abi), what="deploying the federation"
        )
        return cls(w3, str(receipt["contractAddress"]), receipt["blockNumber"])

    @classmethod
    def at(cls, w3: Web3, address: str, deploy_block: int | None = None) -> Federation:
        """Open the federation at ``address``; ``deploy_block`` is read from it if not given."""
        address = check_address(address, "a contract address")
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
        return Phase(self._view("phase", check_round(round_number)))

    def round_info(self, round_number: int) -> RoundInfo:
        """Return everything about round ``round_number``; ChainError if never opened."""
        info = self._view("roundInfo", check_round(round_number))
        phase = Phase(info.phase)
        if phase is Phase.NONE:
            raise ChainError(
                f"round {round_number} has not been opened: "
                f"the current round is {self.current_round()}"
            )
        return from_struct(
            RoundInfo,
            info,
            round=round_number,
            base=self._base_ref(round_number, info.baseDigest),
            # the accepted model is the base of the next round
            accepted=self._base_ref(round_number + 1, info.acceptedDigest)
            if phase is Phase.ACCEPTED
            else None,
            phase=phase,
        )

    def snapshot(self, member: str) -> RoundSnapshot:
        """Read what the current round needs from ``member``, all at the latest block.

        A node may be unable to answer at the block it just named: it was restarted from a
        state file without history, or replaced behind a load balancer. When the head has
        moved on meanwhile, the snapshot is read again at the new head.
        """
        for _ in range(SNAPSHOT_ATTEMPTS - 1):
            block = self.block_number()
            try:
                return self._snapshot_at(member, block)
            except ContractRevert:
                raise
            except ChainError:
                if self.block_number() == block:
                    raise
        return self._snapshot_at(member, self.block_number())

    def _snapshot_at(self, member: str, block: int) -> RoundSnapshot:
        me = _address(member)
        round_number = int(self._view("currentRound", block=block))
        info = self._view("roundInfo", round_number, block=block)
        committed = bytes(self._view("commitmentOf", round_number, me, block=block))
        return RoundSnapshot(
            block=block,
            round=round_number,
            phase=Phase(info.phase),
            is_member=bool(self._view("isMember", me, round_number, block=block)),
            commit_reveal=bool(info.commitReveal),
            committed=committed != bytes(32),
            submitted=bool(self._view("hasSubmitted", round_number, me, block=block)),
            voted=bool(self._view("hasVoted", round_number, me, block=block)),
        )

    def genesis(self) -> BlobRef:
        """Return the genesis model: round 1's base, as its RoundOpened event recorded it."""
        opened = self.events(RoundOpened, round=1)
        if not opened:
            raise ChainError(f"no RoundOpened event for round 1 at {self.address}")
        return BlobRef(opened[0].base_digest, opened[0].base_cid)

    def current_base(self) -> BlobRef:
        """Return the model the current round trains from."""
        base = self._view("currentBase")
        return BlobRef(base.digest, base.cid)

    def has_submitted(self, round_number: int, address: str) -> bool:
        """Tell whether ``address`` submitted (or revealed) an update in round ``round_number``."""
        return bool(self._view("hasSubmitted", check_round(round_number), _address(address)))

    def has_voted(self, round_number: int, address: str) -> bool:
        """Tell whether ``address`` voted in round ``round_number``."""
        return bool(self._view("hasVoted", check_round(round_number), _address(address)))

    def commitment_of(self, round_number: int, address: str) -> bytes | None:
        """Return the commitment ``address`` made in round ``round_number``, if any."""
        found = bytes(self._view("commitmentOf", check_round(round_number), _address(address)))
        return None if found == bytes(32) else found

    @staticmethod
    def commitment(
        round_number: int, member: str, ref: BlobRef, num_samples: int, salt: bytes
    ) -> bytes:
        """Return the commitment of ``member`` to its update ``ref`` of a round, with ``salt``.

        ``num_samples`` (the update's FedAvg weight) and the CID ``ref.locator`` are bound
        too: the reveal must repeat them, and the bytes need not be uploaded before it.

        Computed here exactly as the contract's ``updateCommitment`` does; see
        :mod:`daofed.chain.commitment` for the salt (``new_salt``, ``derive_salt``).
        """
        return update_commitment(round_number, member, ref.digest, ref.locator, num_samples, salt)

    def tally(self, round_number: int, ref: BlobRef) -> int:
        """Count the votes for the aggregate ``ref`` (its digest at its CID) in a round."""
        return int(self._view("tally", check_round(round_number), ref.digest, ref.locator))

    def is_member(self, address: str, round_number: int | None = None) -> bool:
        """Tell whether ``address`` is a member of round ``round_number`` (default: current)."""
        round_number = self.current_round() if round_number is None else round_number
        return bool(self._view("isMember", _address(address), check_round(round_number)))

    def members(self, round_number: int | None = None) -> list[str]:
        """List the members of round ``round_number`` (default: current), by admission."""
        round_number = self.current_round() if round_number is None else round_number
        return [to_checksum_address(a) for a in self._view("members", check_round(round_number))]

    def member_count(self) -> int:
        """Count the members the rounds opened from now on will have."""
        return int(self._view("memberCount"))

    def rule_of(self, round_number: int) -> str:
        """Return the aggregation rule spec of round ``round_number``."""
        return str(self._view("ruleOf", check_round(round_number)))

    def node_addresses(self, account: str) -> tuple[str, ...]:
        """Return the multiaddrs ``account`` last published for its IPFS node (none: never)."""
        return tuple(str(self._view("nodeAddresses", _address(account))).split())

    # -- transactions ------------------------------------------------------------------

    def submit_update(
        self, account: LocalAccount, round_number: int, ref: BlobRef, num_samples: int
    ) -> TxResult:
        """Commit ``account``'s update ``ref`` for round ``round_number``."""
        check_uint("num_samples", num_samples, UINT64_MAX)
        call = self.contract.functions.submitUpdate(
            check_round(round_number), ref.digest, ref.locator, num_samples
        )
        return self._send(account, call, f"submitting the update of round {round_number}")

    def commit_update(
        self, account: LocalAccount, round_number: int, commitment: bytes
    ) -> TxResult:
        """Commit ``account`` to a hidden update of round ``round_number`` (commit-reveal).

        ``commitment`` is :meth:`commitment` of the round, the account, the update and a
        salt the member keeps until it reveals.
        """
        call = self.contract.functions.commitUpdate(
            check_round(round_number), check_bytes32("commitment", commitment)
        )
        return self._send(account, call, f"committing to the update of round {round_number}")

    def reveal_update(
        self,
        account: LocalAccount,
        round_number: int,
        ref: BlobRef,
        num_samples: int,
        salt: bytes,
    ) -> TxResult:
        """Reveal the update ``ref`` that ``account`` committed to with ``salt``."""
        check_uint("num_samples", num_samples, UINT64_MAX)
        call = self.contract.functions.revealUpdate(
            check_round(round_number),
            ref.digest,
            ref.locator,
            num_samples,
            check_bytes32("salt", salt),
        )
        return self._send(account, call, f"revealing the update of round {round_number}")

    def vote_aggregate(self, account: LocalAccount, round_number: int, ref: BlobRef) -> TxResult:
        """Vote for the aggregate ``ref`` of round ``round_number``."""
        call = self.contract.functions.voteAggregate(
            check_round(round_number), ref.digest, ref.locator
        )
        return self._send(
            account, call, f"voting in round {round_number}", gas_floor=ROUND_CHANGING_GAS
        )

    def close_round(self, account: LocalAccount, round_number: int) -> TxResult:
        """Close the expired round ``round_number`` (anyone may), opening the next one."""
        call = self.contract.functions.closeRound(check_round(round_number))
        return self._send(
            account, call, f"closing round {round_number}", gas_floor=ROUND_CHANGING_GAS
        )

    def set_node_addresses(self, account: LocalAccount, addresses: Sequence[str]) -> TxResult:
        """Publish where ``account``'s IPFS node listens (no addresses: withdraw).

        Each address is one multiaddr with no whitespace (they are stored space-separated).
        """
        if any(not address or address.split() != [address] for address in addresses):
            raise ConfigError(
                f"node addresses must be multiaddrs without spaces, got {list(addresses)!r}"
            )
        joined = " ".join(addresses)
        if len(joined.encode()) > MAX_NODE_ADDRESSES_LENGTH:
            raise ConfigError(
                f"node addresses take {len(joined.encode())} bytes, more than the "
                f"{MAX_NODE_ADDRESSES_LENGTH} the contract keeps: publish fewer addresses"
            )
        call = self.contract.functions.setNodeAddresses(joined)
        return self._send(account, call, "publishing this member's node addresses")

    # -- events ------------------------------------------------------------------------

    def updates(self, round_number: int) -> list[UpdateSubmitted]:
        """Return the updates submitted (or revealed) in round ``round_number``, in order."""
        return self.round_events(UpdateSubmitted, round_number)

    def encryption_keys(self, round_number: int) -> dict[str, bytes]:
        """Return the encryption keys in force in round ``round_number``, by account.

        An account's key in force is the last one it registered before the round opened
        (in chain order), so every member deals a private round's shares to the same keys,
        and a key registered or rotated during a round counts from the next one.
        """
        opened = self.round_events(RoundOpened, round_number)
        if not opened:
            raise ChainError(f"round {round_number} has not been opened")
        self._key_events += self._key_cursor.read()
        return keys_in_force(self._key_events, _chain_order(opened[0]))

    def share_posts(self, round_number: int) -> list[SharesPosted]:
        """Return the setup messages posted in the private round ``round_number``, in order."""
        return self.round_events(SharesPosted, round_number)

    def recovery_posts(self, round_number: int) -> list[RecoveryPosted]:
        """Return the recovery messages posted in the private round ``round_number``, in order."""
        return self.round_events(RecoveryPosted, round_number)

    def commits(self, round_number: int) -> list[UpdateCommitted]:
        """Return the commitments made in round ``round_number`` (commit-reveal), in order."""
        return self.round_events(UpdateCommitted, round_number)

    def votes(self, round_number: int) -> list[AggregateVoted]:
        """Return the votes cast in round ``round_number``, in order."""
        return self.round_events(AggregateVoted, round_number)

    def round_events(self, kind: type[E], round_number: int) -> list[E]:
        """Return round ``round_number``'s events of ``kind``, read from the round's opening.

        A member reads its round's events several times a round. Read from deployment,
        each read costs the whole history (the embedded chain even scans every earlier
        block per matching transaction), so a federation slowed down round after round.
        """
        return self.events(kind, from_block=self.opening_block(round_number), round=round_number)

    def opening_block(self, round_number: int) -> int:
        """Return a block at or before the one that opened round ``round_number``.

        The contract records when a round opened (its ``startTime``: the opening block's
        timestamp), not in which block. Timestamps never decrease, so the first block
        stamped at or after it is found by bisection, in about log2(blocks) header reads,
        once per round; a round that has not been opened has no events (the latest block).
        """
        if round_number in self._opening_blocks:
            return self._opening_blocks[round_number]
        start = int(self._view("roundInfo", check_round(round_number)).startTime)
        with rpc_errors(self.w3, "reading block timestamps"):
            low, high = self.deploy_block, int(self.w3.eth.block_number)
            if start == 0:  # not opened yet: nothing to find, and nothing to remember
                return high
            while low < high:
                middle = (low + high) // 2
                if int(self.w3.eth.get_block(middle)["timestamp"]) < start:
                    low = middle + 1
                else:
                    high = middle
        self._opening_blocks[round_number] = low
        return low

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

    # -- plumbing ----------------------------------------------------------------------

    def _base_ref(self, round_number: int, digest: bytes) -> BlobRef:
        """Pair round ``round_number``'s base ``digest`` with the CID to fetch it from.

        From the current base when it is the same model (one call, so digest and CID always
        match), else from the round's RoundOpened event (cached: history does not change).
        """
        current = self.current_base()
        if current.digest == digest:
            return current
        if round_number not in self._base_cids:
            opened = self.round_events(RoundOpened, round_number)
            if not opened:
                raise ChainError(f"no RoundOpened event for round {round_number} at {self.address}")
            self._base_cids[round_number] = opened[0].base_cid
        return BlobRef(digest, self._base_cids[round_number])

    def __repr__(self) -> str:
        return f"Federation({self.address}, deploy_block={self.deploy_block})"


def _chain_order(event: ChainEvent) -> tuple[int, int]:
    return (event.block_number, event.log_index)


def _address(address: str) -> str:
    return check_address(address)
