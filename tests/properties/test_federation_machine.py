"""Stateful property test of the real Federation contract on the embedded chain.

Hypothesis drives a freshly deployed contract with random sequences of submissions,
votes, duplicates, wrong round numbers, calls from a non-member, clock jumps (some aimed
at the exact deadline seconds) and closes. A small Python model of the round rules
predicts every outcome, down to the custom error and its arguments; after every step the
invariants are checked against the contract's own events and views:

- at most one submission and one vote per member per round (from the events);
- an accepted digest had quorum at acceptance (its AggregateVoted events in that round,
  before ModelAccepted, number the round's quorum);
- the round number only grows, and rounds open 1, 2, 3 ... each on the right base;
- non-members change nothing (views identical before and after their calls, also when
  their reverted transactions are mined);
- every round's phase is the one its deadlines, submissions and outcome imply.

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
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)
from web3 import Web3

from daofed.chain import (
    AggregateVoted,
    ChainEvent,
    Federation,
    ModelAccepted,
    Phase,
    RoundClosed,
    RoundOpened,
    TxResult,
    UpdateSubmitted,
    advance_time,
    dev_account,
    embedded_chain,
)
from daofed.chain.events import from_log
from daofed.errors import ContractRevert
from daofed.storage import BlobRef

SUBMIT_WINDOW = 600
VOTE_WINDOW = 600
MEMBERS: list[LocalAccount] = [dev_account(i) for i in range(1, 5)]
OUTSIDER = dev_account(9)
DEPLOYER = dev_account(0)
MAX_U64 = 2**64 - 1
FORCED_GAS = 500_000
AHEAD_OF_WALL_CLOCK = 86_400  # seconds; see the module docstring


def ref(name: str) -> BlobRef:
    digest = hashlib.sha256(name.encode()).digest()
    return BlobRef(digest, "Qm" + digest.hex()[:44])


ZERO = BlobRef(b"\x00" * 32, "zero")
GENESIS = ref("genesis")
UPDATES = [ref(f"update-{i}") for i in range(3)]
AGGREGATES = [ref(f"aggregate-{i}") for i in range(3)]  # few, so votes split and agree

# Mostly the current round; sometimes the wrong one.
round_choices = st.sampled_from(["current"] * 6 + ["previous", "next", "zero", "max"])
members = st.integers(0, len(MEMBERS) - 1)
update_refs = st.sampled_from([*UPDATES, *UPDATES, *UPDATES, ZERO])
aggregate_refs = st.sampled_from([*AGGREGATES, *AGGREGATES, *AGGREGATES, ZERO])
sample_counts = st.sampled_from([1, 10, 1000, MAX_U64, 10, 1000, 1, 10, 1000, 0])
# Mostly small steps (phases change within a window), sometimes past whole windows.
clock_steps = st.one_of(st.integers(0, 120), st.integers(0, 2 * (SUBMIT_WINDOW + VOTE_WINDOW)))
mined = st.booleans()  # a predicted revert is also sent as a mined transaction


@dataclass
class ModelRound:
    """What the model knows of one round."""

    number: int
    base: bytes
    quorum: int
    member_count: int
    submit_deadline: int
    vote_deadline: int
    submitted: set[str] = field(default_factory=set)
    voted: set[str] = field(default_factory=set)
    tallies: Counter[bytes] = field(default_factory=Counter)
    outcome: Phase | None = None  # ACCEPTED or CLOSED once decided

    def phase(self, now: int) -> Phase:
        if self.outcome is not None:
            return self.outcome
        if now < self.submit_deadline and len(self.submitted) < self.member_count:
            return Phase.SUBMIT
        if now < self.vote_deadline:
            return Phase.VOTE
        return Phase.EXPIRED


Revert = tuple[str, dict[str, object]]


class FederationMachine(RuleBasedStateMachine):
    """A Federation of four members, a non-member, and a model of the round rules."""

    w3: Web3
    fed: Federation
    quorum: int

    def __init__(self) -> None:
        super().__init__()
        self.rounds: dict[int, ModelRound] = {}
        self.current = 0
        self.highest_round_seen = 0

    # -- setup -----------------------------------------------------------------------

    @initialize(quorum=st.integers(1, len(MEMBERS)))
    def deploy(self, quorum: int) -> None:
        self.w3 = embedded_chain()
        # views then skip eth-tester's guess of a sender (three account lookups per call)
        self.w3.eth.default_account = OUTSIDER.address
        advance_time(self.w3, AHEAD_OF_WALL_CLOCK)
        self.quorum = quorum
        self.fed = Federation.deploy(
            self.w3,
            DEPLOYER,
            members=[m.address for m in MEMBERS],
            quorum=quorum,
            submit_window=SUBMIT_WINDOW,
            vote_window=VOTE_WINDOW,
            rule="median",
            genesis=GENESIS,
        )
        self._open(GENESIS.digest, self._timestamp("latest"))

    # -- clocks and the model ----------------------------------------------------------

    def _timestamp(self, block: str | int) -> int:
        return int(self.w3.eth.get_block(block)["timestamp"])  # type: ignore[arg-type]

    def _open(self, base: bytes, start: int) -> None:
        self.current += 1
        self.rounds[self.current] = ModelRound(
            number=self.current,
            base=base,
            quorum=self.quorum,
            member_count=len(MEMBERS),
            submit_deadline=start + SUBMIT_WINDOW,
            vote_deadline=start + SUBMIT_WINDOW + VOTE_WINDOW,
        )

    def _round_number(self, choice: str) -> int:
        return {
            "current": self.current,
            "previous": self.current - 1,
            "next": self.current + 1,
            "zero": 0,
            "max": MAX_U64,
        }[choice]

    def _entry_error(self, account: str, number: int, expected: Phase, now: int) -> Revert | None:
        """The contract's checks shared by submit and vote, in its order."""
        # members belong to rounds [1, 2**64 - 1): the contract's "forever" is exclusive
        if account not in {m.address for m in MEMBERS} or not 1 <= number < MAX_U64:
            return "NotMember", {"account": account, "round": number}
        r = self.rounds.get(number)
        if r is None or r.outcome is not None:
            return "WrongRound", {"given": number, "current": self.current}
        if (phase := r.phase(now)) is not expected:
            return "WrongPhase", {"round": number, "current": phase, "expected": expected}
        return None

    def _predict_submit(
        self, account: str, number: int, blob: BlobRef, samples: int, now: int
    ) -> Revert | None:
        if blob.digest == ZERO.digest:
            return "ZeroDigest", {}
        if samples == 0:
            return "ZeroSamples", {}
        if error := self._entry_error(account, number, Phase.SUBMIT, now):
            return error
        if account in self.rounds[number].submitted:
            return "AlreadySubmitted", {"round": number, "member": account}
        return None

    def _predict_vote(self, account: str, number: int, blob: BlobRef, now: int) -> Revert | None:
        if blob.digest == ZERO.digest:
            return "ZeroDigest", {}
        if error := self._entry_error(account, number, Phase.VOTE, now):
            return error
        if account in self.rounds[number].voted:
            return "AlreadyVoted", {"round": number, "member": account}
        return None

    def _predict_close(self, number: int, now: int) -> Revert | None:
        r = self.rounds.get(number)
        phase = Phase.NONE if r is None else r.phase(now)
        if phase is not Phase.EXPIRED:
            return "WrongPhase", {"round": number, "current": phase, "expected": Phase.EXPIRED}
        return None

    # -- sending ---------------------------------------------------------------------

    def _expect_revert(
        self,
        account: LocalAccount,
        call: Any,
        send: Callable[[], object],
        expected: Revert,
        force: bool,
    ) -> None:
        """The call is rejected with ``expected``.

        Forced, the same call is also mined (with a fixed gas limit, so no estimate stops
        it) and must revert on chain without logs or any change a view can see. Unforced
        and from a member, it never reaches a block, so there is nothing more to compare.
        """
        compare = force or account is OUTSIDER
        before = self._observable() if compare else None
        with pytest.raises(ContractRevert) as info:
            send()
        assert (info.value.error, info.value.args_by_name) == expected
        if force:
            tx = call.build_transaction(
                {
                    "from": account.address,
                    "gas": FORCED_GAS,
                    "nonce": self.w3.eth.get_transaction_count(account.address, "pending"),
                }
            )
            signed = account.sign_transaction(tx)
            tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
            receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash)
            assert receipt["status"] == 0 and not receipt["logs"]
        if compare:
            assert self._observable() == before

    def _observable(self) -> tuple[object, ...]:
        """What the views tell of the open round, except its phase (the clock moves it).

        The submission count and the tallies cover every member's flags; the outsider's
        own flags and membership are read directly.
        """
        current = self.fed.current_round()
        return (
            current,
            self.fed.current_base(),
            replace(self.fed.round_info(current), phase=Phase.NONE),
            [self.fed.tally(current, blob.digest) for blob in AGGREGATES],
            self.fed.has_submitted(current, OUTSIDER.address),
            self.fed.has_voted(current, OUTSIDER.address),
            self.fed.is_member(OUTSIDER.address, current),
            self.fed.is_member(OUTSIDER.address, current + 1),
        )

    # -- rules -----------------------------------------------------------------------

    @rule(
        member=members, choice=round_choices, blob=update_refs, samples=sample_counts, force=mined
    )
    def submit(self, member: int, choice: str, blob: BlobRef, samples: int, force: bool) -> None:
        self._submit(MEMBERS[member], self._round_number(choice), blob, samples, force)

    @precondition(lambda self: bool(self.rounds[self.current].submitted))
    @rule(data=st.data(), force=mined)
    def submit_again(self, data: st.DataObject, force: bool) -> None:
        """A member that already submitted in the current round tries once more."""
        address = data.draw(st.sampled_from(sorted(self.rounds[self.current].submitted)))
        account = next(m for m in MEMBERS if m.address == address)
        self._submit(
            account, self.current, data.draw(update_refs.filter(lambda b: b != ZERO)), 5, force
        )

    @rule(skip=st.one_of(st.none(), members))
    def everyone_submits(self, skip: int | None) -> None:
        """Every member who can still submit does, but ``skip`` (moves rounds on).

        Skipping one keeps the round in its submit phase, where a repeat submission meets
        AlreadySubmitted rather than WrongPhase.
        """
        for i, account in enumerate(MEMBERS):
            number, now = self.current, self._timestamp("pending")
            if (
                i != skip
                and self._predict_submit(account.address, number, UPDATES[0], 10, now) is None
            ):
                self._submit(account, number, UPDATES[0], 10, force=False)

    def _submit(
        self, account: LocalAccount, number: int, blob: BlobRef, samples: int, force: bool
    ) -> None:
        expected = self._predict_submit(
            account.address, number, blob, samples, self._timestamp("pending")
        )
        call = self.fed.contract.functions.submitUpdate(number, blob.digest, blob.locator, samples)

        def send() -> TxResult:
            return self.fed.submit_update(account, number, blob, samples)

        if expected is not None:
            self._expect_revert(account, call, send, expected, force)
            return
        assert not self.fed.has_submitted(number, account.address)
        send()
        self.rounds[number].submitted.add(account.address)
        assert self.fed.has_submitted(number, account.address)

    @rule(member=members, choice=round_choices, blob=aggregate_refs, force=mined)
    def vote(self, member: int, choice: str, blob: BlobRef, force: bool) -> None:
        self._vote(MEMBERS[member], self._round_number(choice), blob, force)

    @precondition(lambda self: bool(self.rounds[self.current].voted))
    @rule(data=st.data(), force=mined)
    def vote_again(self, data: st.DataObject, force: bool) -> None:
        """A member that already voted in the current round tries once more."""
        address = data.draw(st.sampled_from(sorted(self.rounds[self.current].voted)))
        account = next(m for m in MEMBERS if m.address == address)
        self._vote(account, self.current, data.draw(st.sampled_from(AGGREGATES)), force)

    @rule(blob=st.sampled_from(AGGREGATES), skip=st.one_of(st.none(), members))
    def everyone_votes(self, blob: BlobRef, skip: int | None) -> None:
        """Every member who can still vote in the current round votes for ``blob``, but ``skip``."""
        number = self.current
        for i, account in enumerate(MEMBERS):
            if self.current != number:
                break  # accepted: the next round is in its submit phase
            now = self._timestamp("pending")
            if i != skip and self._predict_vote(account.address, number, blob, now) is None:
                self._vote(account, number, blob, force=False)

    def _vote(self, account: LocalAccount, number: int, blob: BlobRef, force: bool) -> None:
        expected = self._predict_vote(account.address, number, blob, self._timestamp("pending"))
        call = self.fed.contract.functions.voteAggregate(number, blob.digest, blob.locator)

        def send() -> TxResult:
            return self.fed.vote_aggregate(account, number, blob)

        if expected is not None:
            self._expect_revert(account, call, send, expected, force)
            return
        assert not self.fed.has_voted(number, account.address)
        result = send()
        assert self.fed.has_voted(number, account.address)
        r = self.rounds[number]
        r.voted.add(account.address)
        r.tallies[blob.digest] += 1
        if r.tallies[blob.digest] == r.quorum:
            r.outcome = Phase.ACCEPTED
            self._open(blob.digest, self._timestamp(result.block_number))

    @rule(caller=st.integers(0, len(MEMBERS)), choice=round_choices, force=mined)
    def close(self, caller: int, choice: str, force: bool) -> None:
        """Anyone may close an expired round; index len(MEMBERS) is the non-member."""
        account = OUTSIDER if caller == len(MEMBERS) else MEMBERS[caller]
        number = self._round_number(choice)
        expected = self._predict_close(number, self._timestamp("pending"))
        call = self.fed.contract.functions.closeRound(number)

        def send() -> TxResult:
            return self.fed.close_round(account, number)

        if expected is not None:
            self._expect_revert(account, call, send, expected, force)
            return
        result = send()
        r = self.rounds[number]
        r.outcome = Phase.CLOSED
        self._open(r.base, self._timestamp(result.block_number))

    @rule(choice=round_choices, blob=update_refs, samples=sample_counts, force=mined)
    def outsider_submits(self, choice: str, blob: BlobRef, samples: int, force: bool) -> None:
        number = self._round_number(choice)
        expected = self._predict_submit(
            OUTSIDER.address, number, blob, samples, self._timestamp("pending")
        )
        assert expected is not None  # a non-member is always rejected
        call = self.fed.contract.functions.submitUpdate(number, blob.digest, blob.locator, samples)

        def send() -> TxResult:
            return self.fed.submit_update(OUTSIDER, number, blob, samples)

        self._expect_revert(OUTSIDER, call, send, expected, force)

    @rule(choice=round_choices, blob=aggregate_refs, force=mined)
    def outsider_votes(self, choice: str, blob: BlobRef, force: bool) -> None:
        number = self._round_number(choice)
        expected = self._predict_vote(OUTSIDER.address, number, blob, self._timestamp("pending"))
        assert expected is not None
        call = self.fed.contract.functions.voteAggregate(number, blob.digest, blob.locator)

        def send() -> TxResult:
            return self.fed.vote_aggregate(OUTSIDER, number, blob)

        self._expect_revert(OUTSIDER, call, send, expected, force)

    @rule(seconds=clock_steps)
    def advance(self, seconds: int) -> None:
        advance_time(self.w3, seconds)

    @rule(deadline=st.sampled_from(["submit", "vote"]), offset=st.integers(-2, 1))
    def advance_to_deadline(self, deadline: str, offset: int) -> None:
        """Put the next transaction within a second or two of a deadline of the current round."""
        r = self.rounds[self.current]
        target = (r.submit_deadline if deadline == "submit" else r.vote_deadline) + offset
        gap = target - self._timestamp("pending")
        if gap > 0:
            advance_time(self.w3, gap)

    # -- invariants ------------------------------------------------------------------

    def _history(self) -> dict[type[ChainEvent], list[Any]]:
        """Every round event since deployment, by kind, from one log query.

        Same decoding as ``Federation.events`` (``from_log``), but one ``eth_getLogs``
        instead of one per kind: the embedded chain's log queries are the slow part here.
        """
        kinds: list[type[ChainEvent]] = [
            RoundOpened, UpdateSubmitted, AggregateVoted, ModelAccepted, RoundClosed
        ]  # fmt: skip
        by_topic = {HexBytes(self.fed.contract.events[k.__name__].topic): k for k in kinds}
        history: dict[type[ChainEvent], list[Any]] = {kind: [] for kind in kinds}
        logs = self.w3.eth.get_logs(
            {"address": self.fed.address, "fromBlock": self.fed.deploy_block, "toBlock": "latest"}
        )
        for log in logs:
            kind = by_topic.get(HexBytes(log["topics"][0]))
            if kind is not None:
                decoded = self.fed.contract.events[kind.__name__]().process_log(log)
                history[kind].append(from_log(kind, decoded))
        return history

    @invariant()
    def history_obeys_the_rules(self) -> None:
        history = self._history()
        opened = history[RoundOpened]
        submitted = history[UpdateSubmitted]
        voted = history[AggregateVoted]
        accepted = history[ModelAccepted]
        closed = history[RoundClosed]
        current = self.fed.current_round()

        # the round number only grows; rounds open one after the other, each once
        assert current >= self.highest_round_seen
        self.highest_round_seen = current
        assert current == self.current
        assert [e.round for e in opened] == list(range(1, current + 1))
        order = [(e.block_number, e.log_index) for e in opened]
        assert order == sorted(order)

        # at most one submission and one vote per member per round, members only
        member_set = {m.address for m in MEMBERS}
        for events in (submitted, voted):
            keys = [(e.round, e.member) for e in events]
            assert len(keys) == len(set(keys))
            assert {e.member for e in events} <= member_set

        # an accepted digest had quorum at acceptance; one outcome per round
        quorum_of = {e.round: e.quorum for e in opened}
        assert len({e.round for e in accepted}) == len(accepted)
        assert not {e.round for e in accepted} & {e.round for e in closed}
        for acc in accepted:
            at = (acc.block_number, acc.log_index)
            for_digest = [
                v
                for v in voted
                if v.round == acc.round
                and v.digest == acc.digest
                and (v.block_number, v.log_index) < at
            ]
            assert len(for_digest) >= quorum_of[acc.round] == acc.votes == len(for_digest)
            assert not [
                v for v in voted if v.round == acc.round and (v.block_number, v.log_index) > at
            ]
            assert opened[acc.round].base_digest == acc.digest  # the next round trains from it
        for c in closed:
            assert opened[c.round].base_digest == opened[c.round - 1].base_digest

        # events tell the same story as the model
        for number, r in self.rounds.items():
            assert {e.member for e in submitted if e.round == number} == r.submitted
            assert {e.member for e in voted if e.round == number} == r.voted
            assert Counter(e.digest for e in voted if e.round == number) == r.tallies
            assert opened[number - 1].base_digest == r.base
            assert (opened[number - 1].submit_deadline, opened[number - 1].vote_deadline) == (
                r.submit_deadline,
                r.vote_deadline,
            )
            assert opened[number - 1].quorum == r.quorum

    @invariant()
    def phases_follow_the_deadlines(self) -> None:
        now = self._timestamp("latest")
        for number, r in self.rounds.items():
            expected = r.phase(now)
            assert self.fed.phase(number) is expected, (number, now, r)
            if number < self.current:
                assert expected in (Phase.ACCEPTED, Phase.CLOSED)
        assert self.fed.phase(self.current + 1) is Phase.NONE
        info = self.fed.round_info(self.current)
        r = self.rounds[self.current]
        assert info.submissions == len(r.submitted) and info.base.digest == r.base
        for blob in AGGREGATES:
            assert self.fed.tally(self.current, blob.digest) == r.tallies[blob.digest]


FederationMachine.TestCase.settings = settings(
    max_examples=30,
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@pytest.mark.slow
class TestFederationMachine(FederationMachine.TestCase):  # type: ignore[misc,valid-type]
    """30 examples of up to 20 steps each: about 500 contract steps per run."""
