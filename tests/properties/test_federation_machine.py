"""Stateful property test of the real Federation contract on the embedded chain.

Hypothesis drives a freshly deployed contract with random sequences of round steps
(submissions with sample counts on both sides of the round's cap, votes for aggregates
of which two share a digest but not a CID, duplicates, wrong round numbers, closes) and
governance steps (config and membership proposals, valid and out of bounds; yes and no
votes, double votes, votes by non-members; executions by anyone at any time), calls from
a non-member, and clock jumps, some aimed at the exact second of a round deadline, a
proposal's voting end or its execution deadline (voting end + 14 days), some far past
them. A Python model of the round and governance rules predicts every outcome, down to
the custom error and its arguments; after every step the invariants are checked against
the contract's own events and views:

- at most one submission and one vote per member per round (from the events);
- an accepted aggregate had quorum at acceptance: its AggregateVoted events in that round
  for the same digest *and* CID, before ModelAccepted, number the round's quorum, and the
  next round trains from that digest at that CID;
- the round number only grows, and rounds open 1, 2, 3 ... each on the right base, with
  the quorum, member count, sample cap and deadlines of the config latest at opening;
- nothing else changes: a rejected call (also when mined anyway, then without logs) and
  a non-member's calls leave every view as the model has it, the non-member's own
  flags included;
- every round's phase is the one its deadlines, submissions and outcome imply;
- every proposal's views (``proposal``, ``proposal_state``) are the model's: Active
  before its voting end; then Defeated without yes votes from a strict majority of its
  round's members; Stale (config kinds) once another config version took over; Expired
  from 14 days after its voting end; Succeeded in between; Executed once executed;
- every execution in the events happened in [voting end, voting end + 14 days) with a
  majority of yes votes cast before it, and a config execution made exactly the version
  after the one the proposal was voted against, with its value;
- configs, member lists and membership events are the model's: executed changes apply
  from the round after the one they were executed in.

Chain time: eth-tester mines a transaction into the pending block, whose timestamp was
fixed when the previous block was mined as max(previous + 1, wall clock), and runs gas
estimates there too; views run at the latest block's timestamp. So the model judges a
transaction at ``pending.timestamp`` and a view at ``latest.timestamp``. The chain is
first moved a day ahead of the wall clock, so every pending block is exactly its parent
+ 1 s and the run does not depend on how fast the machine is.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from eth_tester import EthereumTester
from eth_tester.exceptions import TransactionFailed
from hexbytes import HexBytes
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
)
from web3 import Web3
from web3.exceptions import Web3Exception
from web3.providers.eth_tester import EthereumTesterProvider
from web3.types import TxReceipt

from daofed.chain import (
    AggregateVoted,
    ChainEvent,
    ConfigChanged,
    EncryptionKeySet,
    Federation,
    FederationConfig,
    MemberAdded,
    MemberRemoved,
    ModelAccepted,
    NodeAddressesSet,
    Phase,
    ProposalCreated,
    ProposalExecuted,
    ProposalInfo,
    ProposalKind,
    ProposalState,
    ProposalValue,
    ProposalVoted,
    RecoveryPosted,
    RoundClosed,
    RoundOpened,
    SharesPosted,
    TxResult,
    UpdateSubmitted,
    Windows,
    advance_time,
    dev_account,
    embedded_chain,
    load_artifact,
)
from daofed.chain.checks import MAX_PERIOD, MAX_RULE_LENGTH, MAX_SAMPLES_LIMIT
from daofed.chain.events import from_log
from daofed.chain.federation import MAX_NODE_ADDRESSES_LENGTH
from daofed.chain.proposals import check_value
from daofed.chain.revert import RevertDecoder
from daofed.chain.tx import send_transaction
from daofed.errors import ConfigError, ContractRevert
from daofed.storage import BlobRef

SUBMIT_WINDOW = 600
VOTE_WINDOW = 600
VOTING_PERIOD = 3600  # three rounds' length: proposals outlive rounds
MAX_SAMPLES = 1000  # the deployed cap: the sample counts below fall on both sides of it
WEEK = 7 * 24 * 3600
EXECUTION_PERIOD = 2 * WEEK  # the contract's EXECUTION_PERIOD
POOL: list[LocalAccount] = [dev_account(i) for i in range(1, 6)]
INITIAL_MEMBERS = POOL[:4]  # POOL[4] is a candidate, admitted only by proposal
OUTSIDER = dev_account(9)  # never a member
DEPLOYER = dev_account(0)
ZERO_ADDRESS = "0x" + "00" * 20
MAX_U64 = 2**64 - 1
FOREVER = 2**40 - 1  # the contract's "member until": exclusive, rounds count in 40 bits
TX_GAS = 1_000_000  # fixed gas and fees: no estimates, see FederationMachine._mine
MAX_FEE = 10**11  # wei per gas
AHEAD_OF_WALL_CLOCK = 86_400  # seconds; see the module docstring
NEAR = 3  # seconds from a deadline within which its views are read at every step
DECODER = RevertDecoder(load_artifact("Federation").abi)


def ref(name: str) -> BlobRef:
    digest = hashlib.sha256(name.encode()).digest()
    return BlobRef(digest, "Qm" + digest.hex()[:44])


ZERO = BlobRef(b"\x00" * 32, "zero")
GENESIS = ref("genesis")
UPDATES = [ref(f"update-{i}") for i in range(3)]
NO_CID = BlobRef(UPDATES[0].digest, "")
AGGREGATES = [ref(f"aggregate-{i}") for i in range(3)]  # few, so votes split and agree
BOGUS = BlobRef(AGGREGATES[0].digest, "QmNotWhereTheBytesAre")  # right digest, wrong CID
BALLOTS = [*AGGREGATES, BOGUS]  # every (digest, CID) pair the votes may name

# Mostly the current round; sometimes the wrong one.
round_choices = st.sampled_from(["current"] * 6 + ["previous", "next", "zero", "max"])
members = st.integers(0, len(POOL) - 1)  # the last one is the candidate
callers = st.integers(0, len(POOL))  # index len(POOL) is the non-member
senders = st.integers(-1, len(POOL))  # -1: an account that already did it
update_refs = st.sampled_from([*UPDATES, *UPDATES, *UPDATES, ZERO, NO_CID])
aggregate_refs = st.sampled_from([*AGGREGATES, *AGGREGATES, BOGUS, BOGUS, ZERO, NO_CID])
# both sides of every cap a round may have (10, 1000 and 2**53 - 1)
sample_counts = st.sampled_from(
    [1, 10, 11, 1000, 1001, MAX_SAMPLES_LIMIT, MAX_SAMPLES_LIMIT + 1, MAX_U64, 0, 10, 1000]
)


@dataclass(frozen=True)
class ClockMove:
    """One move of the chain's clock; see ``FederationMachine.advance``."""

    to: str  # "+": ``by`` seconds on; else the deadline to move to, ``by`` seconds off it
    by: int
    pick: int = 0  # for a proposal's deadline: which live proposal, the latest first
    executor: int | None = None  # for a proposal's deadline: who then executes it, if any


offsets = st.integers(-2, 1)
# Small steps (phases change within a window), steps past whole windows, a round's
# deadlines; a proposal's deadlines, days and weeks ahead, the open round's expiry too.
clock_moves = st.one_of(
    st.builds(ClockMove, st.just("+"), st.integers(0, 120)),
    st.builds(ClockMove, st.just("+"), st.integers(0, 2 * (SUBMIT_WINDOW + VOTE_WINDOW))),
    st.builds(ClockMove, st.sampled_from(["setup", "submit", "vote"]), offsets),
    st.builds(
        ClockMove,
        st.sampled_from(["vote end", "vote end", "execute by", "long after"]),
        offsets,
        st.integers(0, 3),
        st.sampled_from([None, *range(len(POOL) + 1)]),
    ),
)
mined = st.booleans()  # a predicted revert is also sent as a mined transaction
node_address_lengths = st.sampled_from(
    [0, 1, 81, MAX_NODE_ADDRESSES_LENGTH, MAX_NODE_ADDRESSES_LENGTH + 1]
)  # each side of the bound
# 0: no such proposal; 1 the latest, 2 the one before ...; 7: the next id
proposal_picks = st.integers(0, 7)
# per account of the pool: yes, no or no vote; about two proposals in three carry
ballots = st.lists(
    st.sampled_from([True, True, True, True, True, False, None]), min_size=5, max_size=5
)

K = ProposalKind
CANDIDATE = POOL[4].address
VALID_CHANGES: list[tuple[ProposalKind, ProposalValue]] = [
    (K.SET_QUORUM, 1),
    (K.SET_QUORUM, 2),
    (K.SET_QUORUM, 3),
    (K.SET_QUORUM, 4),
    (K.SET_QUORUM, 5),  # valid only while the candidate is in
    (K.SET_VOTING_PERIOD, 300),
    (K.SET_VOTING_PERIOD, MAX_PERIOD),
    (K.SET_WINDOWS, Windows(300, 900, 600)),
    (K.SET_WINDOWS, Windows(1, 600, MAX_PERIOD)),
    (K.SET_RULE, "fedavg"),
    (K.SET_RULE, "median".ljust(MAX_RULE_LENGTH)),  # parses: surrounding blanks are ignored
    (K.SET_MAX_SAMPLES, 10),
    (K.SET_MAX_SAMPLES, MAX_SAMPLES_LIMIT),
    (K.ADD_MEMBER, CANDIDATE),
    (K.ADD_MEMBER, POOL[0].address),  # already in, unless removed
    (K.REMOVE_MEMBER, POOL[0].address),
    (K.REMOVE_MEMBER, POOL[1].address),
    (K.REMOVE_MEMBER, CANDIDATE),
]
INVALID_CHANGES: list[tuple[ProposalKind, ProposalValue]] = [
    (K.SET_QUORUM, 0),
    (K.SET_VOTING_PERIOD, 0),
    (K.SET_VOTING_PERIOD, MAX_PERIOD + 1),
    (K.SET_WINDOWS, Windows(0, 600, 600)),
    (K.SET_WINDOWS, Windows(600, 600, MAX_PERIOD + 1)),
    (K.SET_RULE, ""),
    (K.SET_RULE, "x" * (MAX_RULE_LENGTH + 1)),
    (K.SET_MAX_SAMPLES, 0),
    (K.SET_MAX_SAMPLES, MAX_SAMPLES_LIMIT + 1),
    (K.ADD_MEMBER, ZERO_ADDRESS),
    (K.REMOVE_MEMBER, OUTSIDER.address),
]
changes = st.sampled_from(VALID_CHANGES * 3 + INVALID_CHANGES)
PROPOSE_FUNCTIONS = {
    K.ADD_MEMBER: "proposeAddMember",
    K.REMOVE_MEMBER: "proposeRemoveMember",
    K.SET_QUORUM: "proposeQuorum",
    K.SET_WINDOWS: "proposeWindows",
    K.SET_RULE: "proposeRule",
    K.SET_COMMIT_REVEAL: "proposeCommitReveal",
    K.SET_VOTING_PERIOD: "proposeVotingPeriod",
    K.SET_MAX_SAMPLES: "proposeMaxSamples",
}
CONFIG_FIELDS = {
    K.SET_QUORUM: "quorum",
    K.SET_RULE: "rule",
    K.SET_VOTING_PERIOD: "voting_period",
    K.SET_MAX_SAMPLES: "max_samples",
}

Revert = tuple[str, dict[str, object]]
SETTLED = {ProposalState.EXECUTED, ProposalState.DEFEATED, ProposalState.STALE}
EVENT_KINDS: list[type[ChainEvent]] = [
    RoundOpened, UpdateSubmitted, AggregateVoted, ModelAccepted, RoundClosed, ProposalCreated,
    ProposalVoted, ProposalExecuted, ConfigChanged, MemberAdded, MemberRemoved, NodeAddressesSet,
    EncryptionKeySet, SharesPosted, RecoveryPosted,
]  # fmt: skip
_ABI_EVENTS = Web3().eth.contract(abi=load_artifact("Federation").abi).events
_BY_TOPIC = {HexBytes(_ABI_EVENTS[k.__name__].topic): k for k in EVENT_KINDS}


@dataclass
class ModelRound:
    """What the model knows of one round."""

    number: int
    base: BlobRef
    quorum: int
    member_count: int
    config_version: int
    max_samples: int
    start: int
    submit_deadline: int
    vote_deadline: int
    submitted: set[str] = field(default_factory=set)
    voted: set[str] = field(default_factory=set)
    shared: set[str] = field(default_factory=set)  # posted a setup message
    recovered: set[str] = field(default_factory=set)  # posted a recovery message
    tallies: Counter[BlobRef] = field(default_factory=Counter)  # by (digest, CID)
    outcome: Phase | None = None  # ACCEPTED or CLOSED once decided

    @property
    def setup_deadline(self) -> int:
        """Halfway through the submission window: setup messages come before it."""
        return self.start + (self.submit_deadline - self.start) // 2

    def phase(self, now: int) -> Phase:
        if self.outcome is not None:
            return self.outcome
        if now < self.submit_deadline and len(self.submitted) < self.member_count:
            return Phase.SUBMIT
        if now < self.vote_deadline:
            return Phase.VOTE
        return Phase.EXPIRED


@dataclass
class ModelMember:
    """One account's one membership interval [from_round, until_round), as the contract has it."""

    from_round: int
    until_round: int = FOREVER


@dataclass
class ModelProposal:
    """What the model knows of one proposal."""

    proposal_id: int
    proposer: str
    kind: ProposalKind
    value: ProposalValue
    round: int
    vote_end: int
    votes_needed: int
    config_version: int
    yes: int = 0
    no: int = 0
    voters: set[str] = field(default_factory=set)
    executed: bool = False
    settled: bool = False  # its views were checked in a state it cannot leave

    def state(self, now: int, latest_version: int) -> ProposalState:
        """The contract's ``_stateOf``, in its order."""
        if self.executed:
            return ProposalState.EXECUTED
        if now < self.vote_end:
            return ProposalState.ACTIVE
        if self.yes < self.votes_needed:
            return ProposalState.DEFEATED
        if self.kind.changes_config and self.config_version != latest_version:
            return ProposalState.STALE
        if now >= self.vote_end + EXECUTION_PERIOD:
            return ProposalState.EXPIRED
        return ProposalState.SUCCEEDED

    def info(self, now: int, latest_version: int) -> ProposalInfo:
        return ProposalInfo(
            proposal_id=self.proposal_id,
            kind=self.kind,
            value=self.value,
            state=self.state(now, latest_version),
            round=self.round,
            vote_end=self.vote_end,
            votes_needed=self.votes_needed,
            yes=self.yes,
            no=self.no,
            config_version=self.config_version,
            execute_by=self.vote_end + EXECUTION_PERIOD,
        )


def config_error(c: FederationConfig, member_count: int) -> Revert | None:
    """The contract's ``_checkConfig``, in its order."""
    if not 1 <= c.quorum <= member_count:
        return "InvalidQuorum", {"quorum": c.quorum, "memberCount": member_count}
    if not all(1 <= w <= MAX_PERIOD for w in (c.submit_window, c.vote_window, c.reveal_window)):
        return "InvalidWindows", {
            "submitWindow": c.submit_window,
            "voteWindow": c.vote_window,
            "revealWindow": c.reveal_window,
        }
    if not 1 <= c.voting_period <= MAX_PERIOD:
        return "InvalidVotingPeriod", {"votingPeriod": c.voting_period}
    if not 1 <= (length := len(c.rule.encode())) <= MAX_RULE_LENGTH:
        return "InvalidRuleLength", {"length": length}
    if not 1 <= c.max_samples <= MAX_SAMPLES_LIMIT:
        return "InvalidMaxSamples", {"maxSamples": c.max_samples}
    return None


def changed(c: FederationConfig, kind: ProposalKind, value: ProposalValue) -> FederationConfig:
    """Config ``c`` with the field a ``kind`` proposal sets set to ``value``, as a new version."""
    if isinstance(value, Windows):
        return replace(
            c,
            version=c.version + 1,
            submit_window=value.submit,
            vote_window=value.vote,
            reveal_window=value.reveal,
        )
    return replace(c, version=c.version + 1, **{CONFIG_FIELDS[kind]: value})


def client_accepts(kind: ProposalKind, value: ProposalValue) -> bool:
    """Whether daofed's client sends this proposal (else it goes out as a raw call)."""
    try:
        check_value(kind, value)
    except ConfigError:
        return False
    return True


def call_args(value: ProposalValue) -> tuple[ProposalValue, ...]:
    return (value.submit, value.vote, value.reveal) if isinstance(value, Windows) else (value,)


def deployed(quorum: int) -> Federation:
    """A federation of the initial members with ``quorum``, as it was right after deployment.

    One chain per quorum, deployed once: each example reverts it to the snapshot taken
    after the deployment instead of deploying again (a deployment's gas estimate takes
    about a second on the embedded chain).
    """
    if quorum not in _DEPLOYED:
        w3 = embedded_chain()
        # views then skip eth-tester's guess of a sender (three account lookups per call)
        w3.eth.default_account = OUTSIDER.address
        advance_time(w3, AHEAD_OF_WALL_CLOCK)
        federation = Federation.deploy(
            w3,
            DEPLOYER,
            members=[m.address for m in INITIAL_MEMBERS],
            quorum=quorum,
            submit_window=SUBMIT_WINDOW,
            vote_window=VOTE_WINDOW,
            rule="median",
            genesis=GENESIS,
            voting_period=VOTING_PERIOD,
            max_samples=MAX_SAMPLES,
        )
        _DEPLOYED[quorum] = (federation, _tester(w3).take_snapshot())
    federation, snapshot = _DEPLOYED[quorum]
    _tester(federation.w3).revert_to_snapshot(snapshot)
    return federation


def _tester(w3: Web3) -> EthereumTester:
    provider = w3.provider
    assert isinstance(provider, EthereumTesterProvider) and provider.ethereum_tester is not None
    tester: EthereumTester = provider.ethereum_tester
    return tester


_DEPLOYED: dict[int, tuple[Federation, Any]] = {}  # quorum -> federation, snapshot id


class FederationMachine(RuleBasedStateMachine):
    """A Federation of four members, a candidate, a non-member, and a model of its rules."""

    w3: Web3
    fed: Federation

    def __init__(self) -> None:
        super().__init__()
        self.rounds: dict[int, ModelRound] = {}
        self.current = 0
        self.configs: list[FederationConfig] = []  # by version - 1
        self.config_from: list[int] = []  # the first round of each config version
        self.accounts: dict[str, ModelMember] = {}  # by admission order
        self.membership_log: list[tuple[str, str, int]] = []  # (what, account, from round)
        self.proposals: dict[int, ModelProposal] = {}
        self.history: dict[type[ChainEvent], list[Any]] = {kind: [] for kind in EVENT_KINDS}
        self.history_to = 0  # the history holds the logs of the blocks up to this one
        self.timestamps: dict[int, int] = {}  # block number -> timestamp
        self.unsettled: set[int] = set()  # rounds whose views may still change
        self.checked: set[tuple[object, ...]] = set()  # views checked once for good
        self.last_read: dict[tuple[str, int], object] = {}  # view -> the model's answer then
        self.node_log: list[tuple[str, str]] = []  # (account, addresses) of each publication
        self.key_log: list[tuple[str, bytes]] = []  # (account, key) of each registration
        self.post_log: dict[str, list[tuple[int, str, BlobRef]]] = {"shares": [], "recovery": []}

    # -- setup -----------------------------------------------------------------------

    @initialize(quorum=st.integers(1, len(INITIAL_MEMBERS)))
    def deploy(self, quorum: int) -> None:
        self.fed = deployed(quorum)
        self.w3 = self.fed.w3
        self.chain_id = self.w3.eth.chain_id
        self.history_to = self.fed.deploy_block - 1
        for account in INITIAL_MEMBERS:
            self._admit(account.address, 1)
        self.configs.append(
            FederationConfig(
                version=1,
                quorum=quorum,
                submit_window=SUBMIT_WINDOW,
                vote_window=VOTE_WINDOW,
                rule="median",
                reveal_window=SUBMIT_WINDOW,
                voting_period=VOTING_PERIOD,
                commit_reveal=False,
                max_samples=MAX_SAMPLES,
            )
        )
        self.config_from.append(1)
        self._open(GENESIS, self._timestamp(self.fed.deploy_block))

    # -- clocks and the model ----------------------------------------------------------

    def _timestamp(self, block: str | int) -> int:
        if isinstance(block, int):
            if block not in self.timestamps:
                self.timestamps[block] = int(self.w3.eth.get_block(block)["timestamp"])
            return self.timestamps[block]
        return int(self.w3.eth.get_block(block)["timestamp"])  # type: ignore[arg-type]

    def _is_member(self, account: str, number: int) -> bool:
        m = self.accounts.get(account)
        return m is not None and m.from_round <= number < m.until_round

    def _coming(self) -> list[str]:
        """The members of the rounds opened from now on, in admission order."""
        return [a for a, m in self.accounts.items() if m.until_round == FOREVER]

    def _admit(self, account: str, from_round: int) -> None:
        m = self.accounts.setdefault(account, ModelMember(from_round))
        if m.until_round < from_round:
            m.from_round = from_round  # re-admitted: the old interval is forgotten
        m.until_round = FOREVER  # a pending removal is cancelled
        self.membership_log.append(("added", account, from_round))

    def _open(self, base: BlobRef, start: int) -> None:
        self.current += 1
        c = self.configs[-1]
        self.rounds[self.current] = ModelRound(
            number=self.current,
            base=base,
            quorum=c.quorum,
            member_count=len(self._coming()),
            config_version=c.version,
            max_samples=c.max_samples,
            start=start,
            submit_deadline=start + c.submit_window,
            vote_deadline=start + c.submit_window + c.vote_window,
        )
        self.unsettled.add(self.current)

    def _round_number(self, choice: str) -> int:
        return {
            "current": self.current,
            "previous": self.current - 1,
            "next": self.current + 1,
            "zero": 0,
            "max": MAX_U64,
        }[choice]

    def _caller(self, index: int) -> LocalAccount:
        return OUTSIDER if index == len(POOL) else POOL[index]

    def _repeater(self, done: set[str]) -> LocalAccount:
        """The first account of the pool in ``done``: one that already did it."""
        return next(a for a in POOL if a.address in done)

    def _proposal_id(self, pick: int) -> int:
        count = len(self.proposals)
        if pick == 0:
            return 0
        if pick == 7 or count == 0:
            return count + 1
        return count - (pick - 1) % count

    # -- predictions: the contract's checks, in its order ------------------------------

    def _entry_error(self, account: str, number: int) -> Revert | None:
        """The contract's ``_enter``, shared by submit and vote: a member, an open round."""
        if not self._is_member(account, number):
            return "NotMember", {"account": account, "round": number}
        r = self.rounds.get(number)
        if r is None or r.outcome is not None:
            return "WrongRound", {"given": number, "current": self.current}
        return None

    def _phase_error(self, number: int, expected: Phase, now: int) -> Revert | None:
        if (phase := self.rounds[number].phase(now)) is not expected:
            return "WrongPhase", {"round": number, "current": phase, "expected": expected}
        return None

    def _predict_submit(
        self, account: str, number: int, blob: BlobRef, samples: int, now: int
    ) -> Revert | None:
        if blob.digest == ZERO.digest:
            return "ZeroDigest", {}
        if not blob.locator:
            return "EmptyCid", {}
        if error := self._entry_error(account, number):
            return error
        cap = self.rounds[number].max_samples
        if not 1 <= samples <= cap:
            return "InvalidSampleCount", {"numSamples": samples, "maxSamples": cap}
        if error := self._phase_error(number, Phase.SUBMIT, now):
            return error
        if account in self.rounds[number].submitted:
            return "AlreadySubmitted", {"round": number, "member": account}
        return None

    def _predict_vote(self, account: str, number: int, blob: BlobRef, now: int) -> Revert | None:
        if blob.digest == ZERO.digest:
            return "ZeroDigest", {}
        if not blob.locator:
            return "EmptyCid", {}
        if error := self._entry_error(account, number):
            return error
        if error := self._phase_error(number, Phase.VOTE, now):
            return error
        if account in self.rounds[number].voted:
            return "AlreadyVoted", {"round": number, "member": account}
        return None

    def _current_or_coming_error(self, account: str) -> Revert | None:
        """What publishing a node or a key needs: a member of the current or a coming round."""
        m = self.accounts.get(account)
        if m is None or m.until_round <= self.current:
            return "NotMember", {"account": account, "round": self.current}
        return None

    def _predict_node_addresses(self, account: str, length: int) -> Revert | None:
        """``setNodeAddresses``: a member of the current or a coming round, a bounded entry."""
        if error := self._current_or_coming_error(account):
            return error
        if length > MAX_NODE_ADDRESSES_LENGTH:
            return "NodeAddressesTooLong", {"length": length}
        return None

    def _predict_post(
        self, kind: str, account: str, number: int, blob: BlobRef, now: int
    ) -> Revert | None:
        """``postShares`` (setup, before its deadline and the update) or ``postRecovery`` (vote)."""
        if blob.digest == ZERO.digest:
            return "ZeroDigest", {}
        if not blob.locator:
            return "EmptyCid", {}
        if error := self._entry_error(account, number):
            return error
        r = self.rounds[number]
        if kind == "recovery":
            if error := self._phase_error(number, Phase.VOTE, now):
                return error
            if account in r.recovered:
                return "RecoveryAlreadyPosted", {"round": number, "member": account}
            return None
        if error := self._phase_error(number, Phase.SUBMIT, now):
            return error
        if now >= r.setup_deadline:
            return "SetupClosed", {"round": number, "deadline": r.setup_deadline}
        if account in r.submitted:
            return "AlreadySubmitted", {"round": number, "member": account}
        if account in r.shared:
            return "SharesAlreadyPosted", {"round": number, "member": account}
        return None

    def _predict_close(self, number: int, now: int) -> Revert | None:
        r = self.rounds.get(number)
        phase = Phase.NONE if r is None else r.phase(now)
        if phase is not Phase.EXPIRED:
            return "WrongPhase", {"round": number, "current": phase, "expected": Phase.EXPIRED}
        return None

    def _change_error(self, kind: ProposalKind, value: ProposalValue) -> Revert | None:
        """What proposing or executing the change reverts with, whoever sends it."""
        coming = self._coming()
        if kind is K.ADD_MEMBER:
            if value == ZERO_ADDRESS:
                return "InvalidMember", {"account": value}
            if value in coming:
                return "MemberExists", {"account": value}
            return None
        if kind is K.REMOVE_MEMBER:
            if value not in coming:
                return "NotMember", {"account": value, "round": self.current + 1}
            return None
        return config_error(changed(self.configs[-1], kind, value), len(coming))

    def _predict_propose(
        self, account: str, kind: ProposalKind, value: ProposalValue
    ) -> Revert | None:
        if error := self._change_error(kind, value):
            return error
        if not self._is_member(account, self.current):
            return "NotMember", {"account": account, "round": self.current}
        return None

    def _predict_proposal_vote(self, account: str, proposal_id: int, now: int) -> Revert | None:
        if error := self._state_error(proposal_id, ProposalState.ACTIVE, now):
            return error
        p = self.proposals[proposal_id]
        if not self._is_member(account, p.round):
            return "NotMember", {"account": account, "round": p.round}
        if account in p.voters:
            return "ProposalAlreadyVoted", {"proposalId": proposal_id, "voter": account}
        return None

    def _predict_execute(self, proposal_id: int, now: int) -> Revert | None:
        if error := self._state_error(proposal_id, ProposalState.SUCCEEDED, now):
            return error
        p = self.proposals[proposal_id]
        if error := self._change_error(p.kind, p.value):
            return error
        if p.kind is K.REMOVE_MEMBER:
            quorum, remaining = self.configs[-1].quorum, len(self._coming()) - 1
            if quorum > remaining:
                return "InvalidQuorum", {"quorum": quorum, "memberCount": remaining}
        return None

    def _state_error(self, proposal_id: int, expected: ProposalState, now: int) -> Revert | None:
        p = self.proposals.get(proposal_id)
        state = ProposalState.NONE if p is None else p.state(now, self.configs[-1].version)
        if state is not expected:
            return "UnexpectedProposalState", {
                "proposalId": proposal_id,
                "current": state,
                "expected": expected,
            }
        return None

    # -- sending ---------------------------------------------------------------------

    def _transact(self, account: LocalAccount, call: Any) -> int:
        """Send ``call``, which the model says succeeds, from ``account``; return its block.

        It is mined in the pending block, at the timestamp the model judged it at.
        """
        now = self._timestamp("pending")
        try:
            receipt = self._mine(account, call)
        except (Web3Exception, TransactionFailed) as error:
            raise AssertionError(f"the model says it succeeds, but: {error!r}") from error
        assert receipt["status"] == 1, "the model says it succeeds, but it reverted"
        block = int(receipt["blockNumber"])
        assert self._timestamp(block) == now
        return block

    def _mine(self, account: LocalAccount, call: Any) -> TxReceipt:
        """Sign ``call`` from ``account`` with fixed gas and fees, send it, wait for it.

        Nothing is estimated: on the embedded chain a gas estimate is a search over whole
        executions, and would take most of the run's time.
        """
        tx = call.build_transaction(
            {
                "from": account.address,
                "gas": TX_GAS,
                "maxFeePerGas": MAX_FEE,
                "maxPriorityFeePerGas": 1,
                "chainId": self.chain_id,
                "nonce": self.w3.eth.get_transaction_count(account.address, "pending"),
            }
        )
        tx_hash = self.w3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction)
        return self.w3.eth.wait_for_transaction_receipt(tx_hash)

    def _expect_revert(
        self,
        account: LocalAccount,
        call: Any,
        send: Callable[[], object],
        expected: Revert,
        force: bool,
    ) -> None:
        """The call is rejected with ``expected`` (by daofed's client, from its gas estimate).

        Forced, the same call is also mined and must revert on chain without logs. The
        invariants then compare the views with the model, which did not change; from the
        non-member, its own flags are read too.
        """
        event(f"revert {expected[0]}")
        with pytest.raises(ContractRevert) as info:
            send()
        assert (info.value.error, info.value.args_by_name) == expected
        if force:
            receipt = self._mine(account, call)
            assert receipt["status"] == 0 and not receipt["logs"]
        if account is OUTSIDER:
            flags = self.fed.contract.functions
            current, address = self.current, OUTSIDER.address
            assert not self.fed.has_submitted(current, address)
            assert not self.fed.has_voted(current, address)
            assert not self.fed.is_member(address, current)
            assert not self.fed.is_member(address, current + 1)
            assert not flags.hasVotedOn(len(self.proposals), address).call()
            assert not self.fed.has_posted_shares(current, address)
            assert not self.fed.has_posted_recovery(current, address)

    # -- round rules -----------------------------------------------------------------

    @rule(
        member=senders, choice=round_choices, blob=update_refs, samples=sample_counts, force=mined
    )
    def submit(self, member: int, choice: str, blob: BlobRef, samples: int, force: bool) -> None:
        """Anyone submits; ``member`` -1: one that did in the current round, a valid update."""
        if member == -1 and (done := self.rounds[self.current].submitted):
            self._submit(self._repeater(done), self.current, UPDATES[1], 5, force)
            return
        self._submit(self._caller(max(member, 0)), self._round_number(choice), blob, samples, force)

    @rule(
        action=st.sampled_from(["submit", "vote"]),
        blob=st.sampled_from(BALLOTS),
        skip=st.one_of(st.none(), members),
    )
    def everyone(self, action: str, blob: BlobRef, skip: int | None) -> None:
        """Every member who still can submits (or votes for ``blob``), but ``skip``.

        This moves rounds on. Skipping one keeps the round in its submit phase, where a
        repeat submission meets AlreadySubmitted rather than WrongPhase, or short of a
        quorum of all members.
        """
        number = self.current
        for i, account in enumerate(POOL):
            if self.current != number:
                break  # accepted: the next round is in its submit phase
            now = self._timestamp("pending")
            if i == skip:
                continue
            if action == "submit":
                if self._predict_submit(account.address, number, UPDATES[0], 10, now) is None:
                    self._submit(account, number, UPDATES[0], 10, force=False)
            elif self._predict_vote(account.address, number, blob, now) is None:
                self._vote(account, number, blob, force=False)

    def _submit(
        self, account: LocalAccount, number: int, blob: BlobRef, samples: int, force: bool
    ) -> None:
        expected = self._predict_submit(
            account.address, number, blob, samples, self._timestamp("pending")
        )
        call = self.fed.contract.functions.submitUpdate(number, blob.digest, blob.locator, samples)
        if expected is not None:

            def send() -> TxResult:
                return self.fed.submit_update(account, number, blob, samples)

            self._expect_revert(account, call, send, expected, force)
            return
        assert account is not OUTSIDER
        self._transact(account, call)
        self.rounds[number].submitted.add(account.address)
        assert self.fed.has_submitted(number, account.address)

    @rule(member=senders, choice=round_choices, blob=aggregate_refs, force=mined)
    def vote(self, member: int, choice: str, blob: BlobRef, force: bool) -> None:
        """Anyone votes; ``member`` -1: one that did in the current round, a valid ballot."""
        if member == -1 and (done := self.rounds[self.current].voted):
            self._vote(self._repeater(done), self.current, AGGREGATES[1], force)
            return
        self._vote(self._caller(max(member, 0)), self._round_number(choice), blob, force)

    def _vote(self, account: LocalAccount, number: int, blob: BlobRef, force: bool) -> None:
        expected = self._predict_vote(account.address, number, blob, self._timestamp("pending"))
        call = self.fed.contract.functions.voteAggregate(number, blob.digest, blob.locator)
        if expected is not None:

            def send() -> TxResult:
                return self.fed.vote_aggregate(account, number, blob)

            self._expect_revert(account, call, send, expected, force)
            return
        assert account is not OUTSIDER
        block = self._transact(account, call)
        r = self.rounds[number]
        r.voted.add(account.address)
        r.tallies[blob] += 1
        assert self.fed.has_voted(number, account.address)
        # votes count per (digest, CID): a pair sharing the digest keeps its own tally
        for pair in (b for b in BALLOTS if b.digest == blob.digest):
            assert self.fed.tally(number, pair) == r.tallies[pair]
        if r.tallies[blob] == r.quorum:
            event("round accepted" + (" at the bogus CID" if blob == BOGUS else ""))
            r.outcome = Phase.ACCEPTED
            self._open(blob, self._timestamp(block))

    @rule(caller=callers, choice=round_choices, force=mined)
    def close(self, caller: int, choice: str, force: bool) -> None:
        """Anyone may close an expired round."""
        account = self._caller(caller)
        number = self._round_number(choice)
        expected = self._predict_close(number, self._timestamp("pending"))
        call = self.fed.contract.functions.closeRound(number)
        if expected is not None:

            def send() -> TxResult:
                return self.fed.close_round(account, number)

            self._expect_revert(account, call, send, expected, force)
            return
        block = self._transact(account, call)
        r = self.rounds[number]
        r.outcome = Phase.CLOSED
        self._open(r.base, self._timestamp(block))

    # -- governance rules ------------------------------------------------------------

    @rule(
        proposer=callers,
        change=changes,
        choices=ballots,
        rival=st.one_of(st.none(), st.sampled_from(VALID_CHANGES)),
        force=mined,
    )
    def propose(
        self,
        proposer: int,
        change: tuple[ProposalKind, ProposalValue],
        choices: list[bool | None],
        rival: tuple[ProposalKind, ProposalValue] | None,
        force: bool,
    ) -> None:
        """Anyone proposes a change; then each account of the pool votes as ``choices`` says.

        ``choices`` says yes, no or nothing, in the order of the pool; only the members of
        the proposal's round can vote. Then the same for the ``rival`` change, if any: two
        config changes voted against the same version, so executing one makes the other
        stale. Values daofed's client refuses go out as raw calls.
        """
        account = self._caller(proposer)
        self._propose(account, *change, choices, force)
        if rival is not None:
            self._propose(account, *rival, choices, force=False)

    def _propose(
        self,
        account: LocalAccount,
        kind: ProposalKind,
        value: ProposalValue,
        choices: list[bool | None],
        force: bool,
    ) -> None:
        expected = self._predict_propose(account.address, kind, value)
        call = self.fed.contract.functions[PROPOSE_FUNCTIONS[kind]](*call_args(value))
        if expected is not None:

            def send() -> object:
                if client_accepts(kind, value):
                    return self.fed.propose(account, kind, value)
                return send_transaction(self.w3, account, call, DECODER, what="proposing")

            self._expect_revert(account, call, send, expected, force)
            return
        block = self._transact(account, call)
        r = self.rounds[self.current]
        p = ModelProposal(
            proposal_id=len(self.proposals) + 1,
            proposer=account.address,
            kind=kind,
            value=value,
            round=self.current,
            # the voting period of the config the proposal's round was opened with
            vote_end=self._timestamp(block) + self.configs[r.config_version - 1].voting_period,
            votes_needed=r.member_count // 2 + 1,  # a strict majority of the round's members
            config_version=self.configs[-1].version,
        )
        self.proposals[p.proposal_id] = p
        assert self.fed.proposal_count() == p.proposal_id
        for voter, support in zip(POOL, choices, strict=True):
            if support is not None and self._is_member(voter.address, p.round):
                self._vote_on_proposal(voter, p.proposal_id, support, force=False)

    @rule(voter=callers, pick=proposal_picks, support=st.booleans(), force=mined)
    def vote_on_proposal(self, voter: int, pick: int, support: bool, force: bool) -> None:
        self._vote_on_proposal(self._caller(voter), self._proposal_id(pick), support, force)

    def _vote_on_proposal(
        self, account: LocalAccount, proposal_id: int, support: bool, force: bool
    ) -> None:
        expected = self._predict_proposal_vote(
            account.address, proposal_id, self._timestamp("pending")
        )
        call = self.fed.contract.functions.voteProposal(proposal_id, support)
        if expected is not None:

            def send() -> TxResult:
                return self.fed.vote_proposal(account, proposal_id, support)

            self._expect_revert(account, call, send, expected, force)
            return
        self._transact(account, call)
        p = self.proposals[proposal_id]
        p.voters.add(account.address)
        if support:
            p.yes += 1
        else:
            p.no += 1
        assert self.fed.has_voted_on(proposal_id, account.address)

    @rule(caller=callers, pick=st.one_of(st.just(-1), proposal_picks), force=mined)
    def execute(self, caller: int, pick: int, force: bool) -> None:
        """Anyone executes a proposal, at whatever time it is.

        ``pick`` -1: the oldest proposal that carried, if any (agents execute those).
        """
        carried = self._in_state(ProposalState.SUCCEEDED)
        proposal_id = carried[0] if pick == -1 and carried else self._proposal_id(max(pick, 0))
        self._execute(self._caller(caller), proposal_id, force)

    def _live(self) -> list[int]:
        """The proposals a transaction would find Active or Succeeded now, oldest first."""
        return self._in_state(ProposalState.ACTIVE, ProposalState.SUCCEEDED)

    def _in_state(self, *states: ProposalState) -> list[int]:
        """The proposals a transaction would find in one of ``states`` now, oldest first."""
        now, latest = self._timestamp("pending"), self.configs[-1].version
        return [i for i, p in self.proposals.items() if p.state(now, latest) in states]

    def _execute(self, account: LocalAccount, proposal_id: int, force: bool) -> None:
        now = self._timestamp("pending")
        if proposal_id in self.proposals:
            state = self.proposals[proposal_id].state(now, self.configs[-1].version)
            event(f"execute a proposal {state.label}")
        expected = self._predict_execute(proposal_id, now)
        call = self.fed.contract.functions.execute(proposal_id)
        if expected is not None:

            def send() -> TxResult:
                return self.fed.execute_proposal(account, proposal_id)

            self._expect_revert(account, call, send, expected, force)
            return
        self._transact(account, call)
        p = self.proposals[proposal_id]
        p.executed = True
        event(f"executed {p.kind.label}")
        if p.kind is K.ADD_MEMBER:
            assert isinstance(p.value, str)
            self._admit(p.value, self.current + 1)
        elif p.kind is K.REMOVE_MEMBER:
            assert isinstance(p.value, str)
            self.accounts[p.value].until_round = self.current + 1
            self.membership_log.append(("removed", p.value, self.current + 1))
        else:
            version = self.configs[-1].version
            if any(
                q.kind.changes_config and q.state(now, version) is ProposalState.SUCCEEDED
                for q in self.proposals.values()
            ):
                event("a succeeded config proposal went stale")
            self.configs.append(changed(self.configs[-1], p.kind, p.value))
            self.config_from.append(self.current + 1)

    # -- clock rules -----------------------------------------------------------------

    # -- node addresses --------------------------------------------------------------

    @rule(caller=callers, length=node_address_lengths, force=mined)
    def publish_node(self, caller: int, length: int, force: bool) -> None:
        """Anyone publishes node addresses of ``length`` bytes (0: withdraws its own)."""
        account = self._caller(caller)
        text = (f"/ip4/10.0.0.{caller}/tcp/4001 " * (length // 20 + 1))[:length].strip()
        text += "x" * (length - len(text))  # exactly ``length`` bytes, spaces inside
        expected = self._predict_node_addresses(account.address, length)
        call = self.fed.contract.functions.setNodeAddresses(text)
        if expected is not None:

            def send() -> object:
                if length <= MAX_NODE_ADDRESSES_LENGTH:
                    return self.fed.set_node_addresses(account, text.split())
                return send_transaction(self.w3, account, call, DECODER, what="publishing")

            self._expect_revert(account, call, send, expected, force)
            return
        self._transact(account, call)
        self.node_log.append((account.address, text))

    # -- secure aggregation ----------------------------------------------------------

    @rule(caller=callers, zero=st.booleans(), force=mined)
    def register_key(self, caller: int, zero: bool, force: bool) -> None:
        """Anyone registers (or rotates to) an encryption key; ``zero``: the zero key."""
        account = self._caller(caller)
        key = bytes(32) if zero else hashlib.sha256(f"key {len(self.key_log)}".encode()).digest()
        expected = ("ZeroEncryptionKey", {}) if zero else None
        expected = expected or self._current_or_coming_error(account.address)
        call = self.fed.contract.functions.setEncryptionKey(key)
        if expected is not None:  # the client refuses the zero key itself: sent raw
            send = (
                partial(send_transaction, self.w3, account, call, DECODER, what="registering")
                if zero
                else partial(self.fed.set_encryption_key, account, key)
            )
            self._expect_revert(account, call, send, expected, force)
            return
        self._transact(account, call)
        self.key_log.append((account.address, key))

    @rule(
        kind=st.sampled_from(["shares", "recovery"]),
        member=senders,
        choice=round_choices,
        blob=update_refs,
        force=mined,
    )
    def post(self, kind: str, member: int, choice: str, blob: BlobRef, force: bool) -> None:
        """Anyone posts a setup or recovery message; ``member`` -1: one that did already."""
        r = self.rounds[self.current]
        if member == -1 and (done := r.shared if kind == "shares" else r.recovered):
            account, number = self._repeater(done), self.current
        else:
            account, number = self._caller(max(member, 0)), self._round_number(choice)
        now = self._timestamp("pending")
        expected = self._predict_post(kind, account.address, number, blob, now)
        f = self.fed.contract.functions
        call = (f.postShares if kind == "shares" else f.postRecovery)(
            number, blob.digest, blob.locator
        )
        if expected is not None:
            post = self.fed.post_shares if kind == "shares" else self.fed.post_recovery
            send = partial(post, account, number, blob)
            self._expect_revert(account, call, send, expected, force)
            return
        assert account is not OUTSIDER
        self._transact(account, call)
        posted = self.rounds[number].shared if kind == "shares" else self.rounds[number].recovered
        posted.add(account.address)
        self.post_log[kind].append((number, account.address, blob))

    @rule(move=clock_moves)
    def advance(self, move: ClockMove) -> None:
        """Move the clock: some seconds on, or to a second or two of a deadline (if ahead).

        At a proposal's deadline (voting end, execution deadline, or weeks after it),
        ``move.executor``, if any, then tries to execute that proposal: on either side of
        the deadline, or at once if it has passed. Days and weeks go by: the open round
        expires (rounds last minutes), which is fine.
        """
        if move.to == "+":
            advance_time(self.w3, move.by)
            return
        if move.to in ("setup", "submit", "vote"):
            r = self.rounds[self.current]
            deadlines = {
                "setup": r.setup_deadline,
                "submit": r.submit_deadline,
                "vote": r.vote_deadline,
            }
            self._advance_to(deadlines[move.to] + move.by)
            return
        if not (live := self._live()):
            return
        proposal_id = live[-1 - move.pick % len(live)]
        p = self.proposals[proposal_id]
        after = {"vote end": 0, "execute by": EXECUTION_PERIOD, "long after": 3 * WEEK}
        self._advance_to(p.vote_end + after[move.to] + move.by)
        if move.executor is not None:
            self._execute(self._caller(move.executor), proposal_id, force=False)

    def _advance_to(self, target: int) -> None:
        gap = target - self._timestamp("pending")
        if gap > 0:
            advance_time(self.w3, gap)

    # -- invariants ------------------------------------------------------------------

    def _history(self) -> dict[type[ChainEvent], list[Any]]:
        """Every event since deployment, by kind: one log query per step, for the new blocks.

        Same decoding as ``Federation.events`` (``from_log``), but one ``eth_getLogs`` for
        the new blocks only instead of one per kind from the deployment on: the embedded
        chain's log queries are slow.
        """
        latest = int(self.w3.eth.block_number)
        if latest > self.history_to:
            logs = self.w3.eth.get_logs(
                {"address": self.fed.address, "fromBlock": self.history_to + 1, "toBlock": latest}
            )
            for log in logs:
                kind = _BY_TOPIC[HexBytes(log["topics"][0])]
                decoded = self.fed.contract.events[kind.__name__]().process_log(log)
                self.history[kind].append(from_log(kind, decoded))
            self.history_to = latest
        return self.history

    @invariant()
    def rounds_obey_the_rules(self) -> None:
        """From the events and the model: who submitted and voted, what was accepted."""
        history = self._history()
        opened = history[RoundOpened]
        submitted = history[UpdateSubmitted]
        voted = history[AggregateVoted]
        accepted = history[ModelAccepted]
        closed = history[RoundClosed]

        # rounds open one after the other, each once
        assert [e.round for e in opened] == list(range(1, self.current + 1))
        order = [(e.block_number, e.log_index) for e in opened]
        assert order == sorted(order)

        # at most one submission and one vote per member per round, members only
        for events in (submitted, voted):
            keys = [(e.round, e.member) for e in events]
            assert len(keys) == len(set(keys))
            assert all(self._is_member(e.member, e.round) for e in events)

        # an accepted (digest, CID) had quorum at acceptance; one outcome per round
        assert len({e.round for e in accepted}) == len(accepted)
        assert not {e.round for e in accepted} & {e.round for e in closed}
        for acc in accepted:
            at = (acc.block_number, acc.log_index)
            for_pair = [
                v
                for v in voted
                if v.round == acc.round
                and (v.digest, v.cid) == (acc.digest, acc.cid)
                and (v.block_number, v.log_index) < at
            ]
            quorum = opened[acc.round - 1].quorum
            assert len(for_pair) == quorum == acc.votes == for_pair[-1].tally
            assert not [
                v for v in voted if v.round == acc.round and (v.block_number, v.log_index) > at
            ]
            # the next round trains from it, fetched from the CID the quorum voted for
            assert (opened[acc.round].base_digest, opened[acc.round].base_cid) == (
                acc.digest,
                acc.cid,
            )
        for c in closed:
            assert (opened[c.round].base_digest, opened[c.round].base_cid) == (
                opened[c.round - 1].base_digest,
                opened[c.round - 1].base_cid,
            )

        # events tell the same story as the model
        for number, r in self.rounds.items():
            e = opened[number - 1]
            assert {v.member for v in submitted if v.round == number} == r.submitted
            assert {v.member for v in voted if v.round == number} == r.voted
            assert Counter(BlobRef(v.digest, v.cid) for v in voted if v.round == number) == (
                r.tallies
            )
            assert (e.base_digest, e.base_cid) == (r.base.digest, r.base.locator)
            assert (e.submit_deadline, e.reveal_deadline, e.vote_deadline) == (
                r.submit_deadline,
                r.submit_deadline,
                r.vote_deadline,
            )
            assert (e.quorum, e.member_count, e.config_version, e.commit_reveal) == (
                r.quorum,
                r.member_count,
                r.config_version,
                False,
            )

    @invariant()
    def governance_obeys_the_rules(self) -> None:
        """From the events and the model: proposals, their votes, executions and effects."""
        history = self._history()
        created = history[ProposalCreated]
        votes = history[ProposalVoted]
        executed = history[ProposalExecuted]
        configs = history[ConfigChanged]

        assert [
            (e.proposal_id, e.proposer, e.kind, e.value, e.round, e.vote_end, e.votes_needed)
            for e in created
        ] == [
            (p.proposal_id, p.proposer, p.kind, p.value, p.round, p.vote_end, p.votes_needed)
            for p in self.proposals.values()
        ]
        assert [e.config_version for e in created] == [
            p.config_version for p in self.proposals.values()
        ]
        assert len({(v.proposal_id, v.voter) for v in votes}) == len(votes)
        for p in self.proposals.values():
            mine = [v for v in votes if v.proposal_id == p.proposal_id]
            assert {v.voter for v in mine} == p.voters
            assert ((mine[-1].yes, mine[-1].no) if mine else (0, 0)) == (p.yes, p.no)
        assert {e.proposal_id for e in executed} == {
            p.proposal_id for p in self.proposals.values() if p.executed
        }
        assert len({e.proposal_id for e in executed}) == len(executed)

        # each execution, from the events alone: in time, carried, not stale, and its effect
        by_id = {e.proposal_id: e for e in created}
        changes = {e.tx_hash: e for e in configs}
        for e in executed:
            p = by_id[e.proposal_id]
            at = (e.block_number, e.log_index)
            yes = [v for v in votes if v.proposal_id == p.proposal_id and v.support]
            assert all((v.block_number, v.log_index) < at for v in yes)
            assert len(yes) >= p.votes_needed
            assert p.vote_end <= self._timestamp(e.block_number) < p.vote_end + EXECUTION_PERIOD
            if p.kind.changes_config:
                change = changes[e.tx_hash]
                assert change.version == p.config_version + 1  # voted against the latest
                assert change.from_round > p.round
                if isinstance(p.value, Windows):
                    assert (change.submit_window, change.vote_window, change.reveal_window) == (
                        p.value.submit,
                        p.value.vote,
                        p.value.reveal,
                    )
                else:
                    assert getattr(change, CONFIG_FIELDS[p.kind]) == p.value

        # the model's configs and memberships, as the events tell them
        assert [
            (
                FederationConfig(
                    version=c.version,
                    quorum=c.quorum,
                    submit_window=c.submit_window,
                    vote_window=c.vote_window,
                    rule=c.rule,
                    reveal_window=c.reveal_window,
                    voting_period=c.voting_period,
                    commit_reveal=c.commit_reveal,
                    max_samples=c.max_samples,
                ),
                c.from_round,
            )
            for c in configs
        ] == list(zip(self.configs, self.config_from, strict=True))
        membership = sorted(
            [*history[MemberAdded], *history[MemberRemoved]],
            key=lambda e: (e.block_number, e.log_index),
        )
        assert [
            ("added" if isinstance(e, MemberAdded) else "removed", e.account, e.from_round)
            for e in membership
        ] == self.membership_log
        published = [(e.account, e.addresses) for e in history[NodeAddressesSet]]
        assert published == self.node_log
        assert [(e.account, e.key) for e in history[EncryptionKeySet]] == self.key_log
        for kind, posts in ((SharesPosted, "shares"), (RecoveryPosted, "recovery")):
            assert [(e.round, e.member, e.ref) for e in history[kind]] == self.post_log[posts]

    @invariant()
    def views_follow_the_model(self) -> None:
        """Round and proposal views at the latest block are the model's.

        A view is read whenever the model's answer changed since it was last read, and at
        every step within a few seconds of a deadline it depends on (where an off-by-one
        would show); in between, the transactions the rules send probe the same state at
        random times. What only changes with a new round or config is read once per round
        or config.
        """
        now = self._timestamp("latest")
        f = self.fed.contract.functions
        for number in sorted(self.unsettled):
            r = self.rounds[number]
            expected = self._round_info(r, now)
            if self._stale_view(
                ("round", number), expected, now, r.submit_deadline, r.vote_deadline
            ):
                assert f.roundInfo(number).call()._asdict() == expected, (number, now)
            if r.outcome is not None:
                self.unsettled.discard(number)
        if ("round", self.current) not in self.checked:
            assert self.fed.setup_deadline(self.current) == self.rounds[self.current].setup_deadline
            assert self.fed.setup_deadline(self.current + 1) == 0
            assert self.fed.current_round() == self.current  # it only grows, one at a time
            assert self.fed.phase(self.current + 1) is Phase.NONE
            self.checked.add(("round", self.current))

        latest = self.configs[-1].version
        for proposal_id, p in self.proposals.items():
            info = p.info(now, latest)
            if p.settled or not self._stale_view(
                ("proposal", proposal_id), info, now, p.vote_end, info.execute_by
            ):
                continue
            assert self.fed.proposal(proposal_id) == info
            assert self.fed.proposal_state(proposal_id) is info.state
            event(f"proposal seen {info.state.label}")
            p.settled = info.state in SETTLED or (
                info.state is ProposalState.EXPIRED and not p.kind.changes_config
            )
        if ("proposal", len(self.proposals) + 1) not in self.checked:
            assert self.fed.proposal_state(len(self.proposals) + 1) is ProposalState.NONE
            self.checked.add(("proposal", len(self.proposals) + 1))

        published = dict(self.node_log)  # each account's latest
        keys = dict(self.key_log)
        r = self.rounds[self.current]
        for account in [*POOL, OUTSIDER]:
            text = published.get(account.address, "")
            if self._stale_view(("node", int(account.address, 16)), text, now):
                assert f.nodeAddresses(account.address).call() == text
            key = keys.get(account.address, bytes(32))
            if self._stale_view(("key", int(account.address, 16)), key, now):
                assert f.encryptionKey(account.address).call() == key
            posted = (account.address in r.shared, account.address in r.recovered)
            if self._stale_view((f"posts {account.address}", self.current), posted, now):
                assert (
                    self.fed.has_posted_shares(self.current, account.address),
                    self.fed.has_posted_recovery(self.current, account.address),
                ) == posted

        governed = ("governed", len(self.configs), len(self.membership_log), self.current)
        if governed not in self.checked:
            assert self.fed.config() == self.configs[-1]
            assert self.fed.member_count() == len(self._coming())
            assert self.fed.members(self.current) == [
                a for a in self.accounts if self._is_member(a, self.current)
            ]
            self.checked.add(governed)

    def _stale_view(
        self, key: tuple[str, int], expected: object, now: int, *deadlines: int
    ) -> bool:
        """Whether the view ``key`` is due a read: its answer changed, or a deadline is near."""
        due = self.last_read.get(key) != expected or any(
            abs(now - deadline) <= NEAR for deadline in deadlines
        )
        self.last_read[key] = expected
        return due

    def _round_info(self, r: ModelRound, now: int) -> dict[str, object]:
        """``roundInfo`` of round ``r`` as the model has it, member by member."""
        accepted = self.rounds[r.number + 1].base if r.outcome is Phase.ACCEPTED else ZERO
        return {
            "baseDigest": r.base.digest,
            "acceptedDigest": accepted.digest,
            "startTime": r.start,
            "submitDeadline": r.submit_deadline,
            "revealDeadline": r.submit_deadline,  # no commit-reveal here
            "voteDeadline": r.vote_deadline,
            "configVersion": r.config_version,
            "quorum": r.quorum,
            "memberCount": r.member_count,
            "commits": 0,
            "submissions": len(r.submitted),
            "commitReveal": False,
            "phase": r.phase(now),
            "maxSamples": r.max_samples,
        }


FederationMachine.TestCase.settings = settings(
    max_examples=30,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@pytest.mark.slow
class TestFederationMachine(FederationMachine.TestCase):  # type: ignore[misc,valid-type]
    """30 examples of up to 50 steps each: about 1,300 steps and 1,000 transactions per run."""
