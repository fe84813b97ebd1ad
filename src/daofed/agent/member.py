"""A federation member: the protocol core driven over a chain and a blob store.

Each :meth:`MemberAgent.step` reads a snapshot of the current round at one block, asks
the protocol core what this member owes it (:func:`daofed.protocol.next_action`), and
does that one thing with the core's own functions (:func:`~daofed.protocol.make_update`,
:func:`~daofed.protocol.aggregate_round`). Nothing is remembered between steps that the
chain or the store does not also hold, except the current round's work (so a
long-running agent's memory stays flat); an agent killed at any point and started again
carries on where it was, and the contract's once-per-member rules make a repeated step
harmless.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from eth_account.signers.local import LocalAccount

from daofed.agent.events import AgentEvent, EventSink, Step, discard
from daofed.chain import Federation, RoundSnapshot
from daofed.chain.commitment import derive_salt
from daofed.errors import ContractRevert, TaskError
from daofed.learning.aggregation import parse_rule
from daofed.learning.privacy import Adjacency, PrivacySettings, epsilon, noise_seed
from daofed.learning.task import Scalar, Task
from daofed.protocol import (
    Action,
    Genesis,
    RoundAggregate,
    UpdatePolicy,
    UpdateRecipe,
    aggregate_round,
    check_task,
    fetch_genesis,
    fetch_model,
    fit_config,
    make_update,
    next_action,
)
from daofed.storage import BlobRef, BlobStore, Weights


@dataclass(frozen=True)
class MemberSettings:
    """How this member trains and checks; its own business, not the federation's."""

    options: Mapping[str, Scalar] = field(default_factory=dict)  # passed to the task's fit
    policy: UpdatePolicy = field(default_factory=UpdatePolicy)
    seed: int = 0
    auto_vote: bool = True
    privacy: PrivacySettings | None = None  # local DP of the update (clip + Gaussian noise)


LOST_RACES = frozenset(
    {"WrongPhase", "WrongRound", "AlreadySubmitted", "AlreadyCommitted", "AlreadyVoted"}
)
"""Reverts that mean another transaction got there first: expected, not errors."""


@dataclass
class _RoundWork:
    """What this process computed for one round; dropped when the next round opens."""

    round: int
    base: Weights | None = None
    update: BlobRef | None = None
    num_examples: int = 0
    task_failure: str | None = None
    aggregate: RoundAggregate | None = None
    aggregate_ref: BlobRef | None = None


class MemberAgent:
    """One member of a federation: its key, its task and data, its view of chain and store."""

    def __init__(
        self,
        federation: Federation,
        store: BlobStore,
        account: LocalAccount,
        task: Task[Any],
        data: Any,
        settings: MemberSettings | None = None,
        on_event: EventSink = discard,
        *,
        genesis: Genesis | None = None,
    ) -> None:
        self.federation = federation
        self.store = store
        self.account = account
        self.task = task
        self.data = data
        self.settings = settings or MemberSettings()
        self.on_event = on_event
        self._fetched = genesis  # the federation's genesis, if the caller already has it
        self._genesis: Genesis | None = None  # set once this member's task is checked
        self._work = _RoundWork(0)

    @property
    def address(self) -> str:
        """Checksum address of this member."""
        return str(self.account.address)

    @property
    def genesis(self) -> Genesis:
        """The federation's genesis model; this member's task is checked against it once."""
        if self._genesis is None:
            genesis = self._fetched or fetch_genesis(self.store, self.federation.genesis())
            check_task(self.task, genesis)
            self._genesis = genesis
        return self._genesis

    def step(self, until_round: int | None = None) -> AgentEvent:
        """Do the one thing the current round needs from this member, and report it.

        With ``until_round``, a member that finds that round ended does nothing more and
        reports DONE (decided on the same snapshot, so it never starts the next round).
        """
        snapshot = self.federation.snapshot(self.address)
        round_number = snapshot.round
        if until_round is not None and round_number > until_round:
            return self._emit(Step.DONE, until_round, "target round ended")
        if self._work.round != round_number:
            self._work = _RoundWork(round_number)
        action = next_action(snapshot)
        if action is not Action.WAIT:
            _ = self.genesis  # stop before any work if this member's task is not the federation's
        if action is Action.SUBMIT:
            return self._submit(round_number)
        if action is Action.COMMIT:
            return self._commit(round_number)
        if action is Action.REVEAL:
            return self._reveal(round_number)
        if action is Action.VOTE:
            return self._aggregate_and_vote(round_number)
        if action is Action.CLOSE:
            return self._close(round_number)
        return self._emit(Step.WAITING, round_number, _waiting(snapshot))

    def aggregate(self, round_number: int) -> RoundAggregate:
        """Return this member's aggregate of a round (kept for the current round only)."""
        work = self._work
        if work.round == round_number and work.aggregate is not None:
            return work.aggregate
        result = aggregate_round(
            round_number,
            self._base(round_number),
            self.federation.updates(round_number),
            self.store,
            self.genesis.spec,
            parse_rule(self.federation.rule_of(round_number)),
            self.settings.policy,
        )
        if work.round == round_number:
            work.aggregate = result
        return result

    def local_update(self, round_number: int) -> tuple[bytes, int]:
        """Train from the round's base on this member's data; the update's bytes and count.

        Seeded by (seed, round, member), so a member that crashed after uploading and
        before submitting produces the very same bytes, hence the same digest, again.
        With ``settings.privacy`` the delta is clipped and noised (noise seeded from the
        key, so it is reproducible too); it is encoded as the round's rule says.
        """
        rule = parse_rule(self.federation.rule_of(round_number))
        recipe = UpdateRecipe(
            compression=rule.compression,
            privacy=self.settings.privacy,
            noise_seed=noise_seed(bytes(self.account.key), self.federation.address, round_number),
        )
        config = fit_config(
            self.settings.options,
            round_number=round_number,
            seed=self.settings.seed,
            member=self.address,
        )
        update = make_update(
            self.task,
            self._base(round_number),
            self.data,
            config=config,
            spec=self.genesis.spec,
            recipe=recipe,
        )
        return update.blob, update.num_examples

    def _base(self, round_number: int) -> Weights:
        work = self._work
        if work.round == round_number and work.base is not None:
            return work.base
        base = fetch_model(self.store, self.federation.round_info(round_number).base, self.genesis)
        if work.round == round_number:
            work.base = base
        return base

    def _update_ref(self, round_number: int) -> BlobRef | None:
        """Train (once per round and process) and upload; None when the task failed."""
        work = self._work
        if work.update is None and work.task_failure is None:
            try:
                blob, work.num_examples = self.local_update(round_number)
            except TaskError as failure:
                work.task_failure = str(failure)
                self._emit(
                    Step.ERROR,
                    round_number,
                    f"{failure}; not submitting this round",
                    error="TaskError",
                )
                return None
            work.update = self.store.put(blob)
        return work.update

    def _submit(self, round_number: int) -> AgentEvent:
        ref = self._update_ref(round_number)
        if ref is None:
            return self._task_failed(round_number)
        num_samples = self._work.num_examples
        if not self._transact(
            lambda: self.federation.submit_update(self.account, round_number, ref, num_samples)
        ):
            return self._emit(Step.WAITING, round_number, "submission no longer possible")
        return self._submitted(round_number, ref, "submitted")

    def _commit(self, round_number: int) -> AgentEvent:
        """Commit to the update without showing it (commit-reveal rounds)."""
        ref = self._update_ref(round_number)
        if ref is None:
            return self._task_failed(round_number)
        commitment = Federation.commitment(
            round_number, self.address, ref, self._work.num_examples, self._salt(round_number, ref)
        )
        if not self._transact(
            lambda: self.federation.commit_update(self.account, round_number, commitment)
        ):
            return self._emit(Step.WAITING, round_number, "commitment no longer possible")
        return self._emit(
            Step.COMMITTED,
            round_number,
            f"committed to update {ref.hex[:12]} (hidden until the reveal)",
            commitment=commitment.hex(),
        )

    def _reveal(self, round_number: int) -> AgentEvent:
        """Reveal the committed update; after a restart it is retrained to the same bytes."""
        ref = self._update_ref(round_number)
        if ref is None:
            return self._task_failed(round_number)
        salt = self._salt(round_number, ref)
        num_samples = self._work.num_examples
        committed = self.federation.commitment_of(round_number, self.address)
        if Federation.commitment(round_number, self.address, ref, num_samples, salt) != committed:
            return self._emit(
                Step.ERROR,
                round_number,
                "cannot reveal: the retrained update differs from the one committed to "
                "(was the agent restarted with other data, seed or settings?)",
            )
        if not self._transact(
            lambda: self.federation.reveal_update(
                self.account, round_number, ref, num_samples, salt
            )
        ):
            return self._emit(Step.WAITING, round_number, "reveal no longer possible")
        return self._submitted(round_number, ref, "revealed")

    def _task_failed(self, round_number: int) -> AgentEvent:
        return self._emit(
            Step.WAITING,
            round_number,
            f"sitting this round out: {self._work.task_failure}",
        )

    def _salt(self, round_number: int, ref: BlobRef) -> bytes:
        return derive_salt(self.account, self.federation.address, round_number, ref.digest)

    def _submitted(self, round_number: int, ref: BlobRef, verb: str) -> AgentEvent:
        num_samples = self._work.num_examples
        privacy = self._privacy_spent(round_number)
        return self._emit(
            Step.SUBMITTED,
            round_number,
            f"{verb} update {ref.hex[:12]} ({num_samples} samples)"
            + (f", DP epsilon {privacy['dp_epsilon']:.3g}" if privacy else ""),
            digest=ref.hex,
            cid=ref.locator,
            num_samples=num_samples,
            **privacy,
        )

    def _privacy_spent(self, round_number: int) -> dict[str, float]:
        """Epsilon after this round's release, assuming one release in each round so far.

        An upper bound on this member's releases that needs no memory across restarts.
        """
        privacy = self.settings.privacy
        if privacy is None:
            return {}
        return {
            "dp_epsilon": epsilon(privacy, round_number),
            "dp_epsilon_replace": epsilon(privacy, round_number, Adjacency.REPLACE),
            "dp_delta": privacy.delta,
            "dp_rounds": round_number,
        }

    def _aggregate_and_vote(self, round_number: int) -> AgentEvent:
        ref = self._aggregate_ref(round_number)
        detail = {
            "digest": ref.hex,
            "cid": ref.locator,
            "included": len(self.aggregate(round_number).included),
        }
        if not self.settings.auto_vote:
            return self._emit(
                Step.WAITING,
                round_number,
                f"aggregate {ref.hex[:12]} ready; vote with `daofed vote aggregate`",
                **detail,
            )
        if not self._transact(
            lambda: self.federation.vote_aggregate(self.account, round_number, ref)
        ):
            return self._emit(Step.WAITING, round_number, "voting no longer possible")
        return self._emit(Step.VOTED, round_number, f"voted for aggregate {ref.hex[:12]}", **detail)

    def _aggregate_ref(self, round_number: int) -> BlobRef:
        """Aggregate, report exclusions and upload the result: once per round and process.

        A member waiting for a person's vote (``--manual-vote``) polls this every step;
        the exclusions are reported and the blob uploaded only the first time.
        """
        work = self._work
        if work.aggregate_ref is None:
            result = self.aggregate(round_number)
            for exclusion in result.excluded:
                self._emit(
                    Step.EXCLUDED,
                    round_number,
                    f"excluded update of {exclusion.member}: {exclusion.message}",
                    excluded_member=exclusion.member,
                    reason=exclusion.reason,
                    digest=exclusion.digest,
                )
            work.aggregate_ref = self.store.put(result.blob)
        return work.aggregate_ref

    def _close(self, round_number: int) -> AgentEvent:
        self._transact(lambda: self.federation.close_round(self.account, round_number))
        return self._emit(Step.CLOSED, round_number, "closed round without quorum")

    def _transact(self, send: Callable[[], object]) -> bool:
        """Send a transaction; False when the round moved on meanwhile (a lost race).

        Another member may have closed the phase between our read and our transaction:
        that is normal and not an error. Every other revert is a real problem and raises.
        """
        try:
            send()
        except ContractRevert as revert:
            if revert.error in LOST_RACES:
                return False
            raise
        return True

    def _emit(self, step: Step, round_number: int, message: str, **detail: object) -> AgentEvent:
        event = AgentEvent(step, round_number, self.address, message, dict(detail))
        self.on_event(event)
        return event


def _waiting(snapshot: RoundSnapshot) -> str:
    if not snapshot.is_member:
        return "not a member of this round"
    return f"waiting ({snapshot.phase.label} phase)"
