"""A federation member: the protocol core driven over a chain and a blob store.

Each :meth:`MemberAgent.step` reads a snapshot of the current round at one block, asks
the protocol core what this member owes it (:func:`daofed.protocol.next_action`), and
does that one thing with the core's own functions (:func:`~daofed.protocol.make_update`,
:func:`~daofed.protocol.aggregate_round`). Nothing is remembered between steps that the
chain or the store does not also hold, except the current round's work and the previous
round's aggregate (so a long-running agent's memory stays flat); an agent killed at any
point and started again carries on where it was (it retrains to the very same bytes), and
the contract's once-per-member rules make a repeated step harmless.

A member does no work twice: it aggregates its own update from the delta it trained,
never fetching or decoding its own bytes, and while it waits for the others it fetches
their updates as they are submitted (:class:`~daofed.agent.prefetch.Prefetcher`).

In a private round (a rule with ``secagg=``) it also posts a setup message before its
update, submits its update masked, and posts a recovery message before it votes for the
unmasked sum (:mod:`daofed.agent.private`). While a private rule is in force or coming, it
registers its encryption key, so it takes part from the first private round on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from eth_account.signers.local import LocalAccount

from daofed.agent.events import AgentEvent, EventSink, Step, discard
from daofed.agent.prefetch import Prefetcher
from daofed.agent.private import MemberKeys, PrivateRound
from daofed.agent.retention import Retention
from daofed.chain import Federation, Phase, RoundSnapshot, UpdateSubmitted
from daofed.chain.commitment import derive_salt
from daofed.errors import (
    BlobNotFound,
    ContractRevert,
    DigestMismatch,
    LearningError,
    StorageError,
    TaskError,
)
from daofed.learning.aggregation import AggregationRule, parse_rule
from daofed.learning.aggregation.server import max_global_model_size
from daofed.learning.privacy import Adjacency, PrivacySettings, epsilon, noise_seed
from daofed.learning.task import Scalar, Task
from daofed.peering import NodeDirectory, join
from daofed.protocol import (
    Action,
    Genesis,
    PrivateFacts,
    RoundAggregate,
    Update,
    UpdatePolicy,
    UpdateRecipe,
    aggregate_round,
    check_task,
    decode_model,
    fetch_genesis,
    fetch_model,
    fit_config,
    make_update,
    next_action,
)
from daofed.secagg import Layout, SecAggError
from daofed.storage import BlobRef, BlobStore, Weights
from daofed.storage.store import sha256_digest


@dataclass(frozen=True)
class MemberSettings:
    """How this member trains and checks; its own business, not the federation's."""

    options: Mapping[str, Scalar] = field(default_factory=dict)  # passed to the task's fit
    policy: UpdatePolicy = field(default_factory=UpdatePolicy)
    seed: int = 0
    auto_vote: bool = True
    privacy: PrivacySettings | None = None  # local DP of the update (clip + Gaussian noise)
    announce: tuple[str, ...] = ()  # multiaddrs to publish for its IPFS node (default: its own)


LOST_RACES = frozenset(
    {"WrongPhase", "WrongRound", "AlreadySubmitted", "AlreadyCommitted", "AlreadyVoted"}
)
"""Reverts that mean another transaction got there first: expected, not errors."""


@dataclass
class _RoundWork:
    """What this process computed for one round; dropped when the next round opens.

    ``update`` holds this member's update bytes from training to the end of the round: in
    a commit-reveal round they wait here, unpublished, between the commit and the reveal;
    ``delta`` is the same update decoded, for this member's own aggregation.
    ``seen_block`` is the last block whose submissions were handed to the prefetcher.
    ``previous_aggregate`` is the blob this member aggregated in the round before (at most
    one blob is carried over): when the quorum accepted it, this round's base is read from
    these bytes, so a member never depends on a store for a model it computed itself.
    """

    round: int
    previous_aggregate: bytes | None = None
    rule: AggregationRule | None = None
    base_ref: BlobRef | None = None
    base: Weights | None = None
    update: bytes | None = None
    delta: Weights | None = None
    update_ref: BlobRef | None = None  # located (commit) or stored: the same ref either way
    published: bool = False
    num_examples: int = 0
    task_failure: str | None = None
    aggregate: RoundAggregate | None = None
    aggregated: tuple[UpdateSubmitted, ...] = ()  # the submissions ``aggregate`` was made of
    aggregate_ref: BlobRef | None = None
    seen_block: int | None = None
    private: PrivateRound | None = None  # a private round's keys, secrets and messages

    def next_round(self, round_number: int) -> _RoundWork:
        """Start the work of ``round_number``, carrying this round's aggregate if it follows."""
        aggregate = self.aggregate if round_number == self.round + 1 else None
        return _RoundWork(round_number, None if aggregate is None else aggregate.blob)


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
        self._prefetcher = Prefetcher(store)
        self._retention = Retention(store)
        self._nodes = NodeDirectory(federation)
        self._keys = MemberKeys(federation, account)
        self._snapshot: RoundSnapshot | None = None  # the last read, with its block

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
        """Read the current round at one block and do what it needs from this member.

        The round is read again only when a block has been added since the last read: at
        the same block every view gives the same answer, so an idle poll costs one request.
        """
        block = self.federation.block_number()
        if self._snapshot is None or self._snapshot.block != block:
            self._snapshot = self.federation.snapshot(self.address)
        return self.act(self._snapshot, until_round)

    def act(self, snapshot: RoundSnapshot, until_round: int | None = None) -> AgentEvent:
        """Do the one thing ``snapshot`` says this member owes its round, and report it.

        The chain may have moved on since the snapshot was read (another member closed
        the round or completed the quorum first): the transaction then reverts, and the
        event says LOST_RACE and what happened instead. With ``until_round``, a member
        that finds that round ended does nothing more and reports DONE (decided on the
        same snapshot, so it never starts the next round).
        """
        round_number = snapshot.round
        if until_round is not None and round_number > until_round:
            return self._emit(Step.DONE, until_round, "target round ended")
        if self._work.round != round_number:
            self._enter_round(round_number)
        private = self._private(round_number)
        facts = None if private is None else private.facts(snapshot)
        action = next_action(snapshot, facts)
        if action is not Action.WAIT:
            _ = self.genesis  # stop before any work if this member's task is not the federation's
        if action is Action.POST_SHARES:
            return self._post_shares(round_number)
        if action is Action.POST_RECOVERY:
            return self._post_recovery(round_number)
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
        submitting = snapshot.phase in (Phase.SUBMIT, Phase.REVEAL)
        if private is None and snapshot.submitted and submitting:  # no use for masked updates
            self._prefetch(snapshot)
        return self._emit(Step.WAITING, round_number, _waiting(snapshot, facts))

    def _enter_round(self, round_number: int) -> None:
        """Drop the last round's work and, on an IPFS node, prepare the node for this round.

        It releases what the ended rounds held (:mod:`daofed.agent.retention`), keeping the
        round's base, publishes the node's addresses if they changed, and connects to the
        members' nodes (:func:`daofed.peering.join`).
        """
        self._work = self._work.next_round(round_number)
        self._prefetcher.clear()
        if _is_private(self.federation.config().rule):
            self._keys.register()  # counts from the next round it opens before
        node = self._retention.node
        if node is None:
            return
        base = self._work.base_ref = self.federation.round_info(round_number).base
        self._retention.release(round_number, keep=base)
        peered = join(self.federation, node, self.account, self._nodes, self.settings.announce)
        self._emit(Step.PEERED, round_number, peered.summary(), **asdict(peered))

    def aggregate(self, round_number: int) -> RoundAggregate:
        """Return this member's aggregate of a round (kept for the current round only).

        In a private round, raises SecAggError while the sum cannot be unmasked yet.
        """
        work = self._work
        if work.round == round_number and work.aggregate is not None:
            return work.aggregate
        private = self._private(round_number)
        if private is not None:
            unmasked = private.aggregate(self._base(round_number), self._rule(round_number))
            work.aggregate = unmasked
            work.aggregated = tuple(self.federation.updates(round_number))
            return unmasked
        held = self._prefetcher.held() if work.round == round_number else {}
        if work.round == round_number and work.delta is not None and work.update_ref is not None:
            held[work.update_ref.digest] = work.delta
        submissions = tuple(self.federation.updates(round_number))
        result = aggregate_round(
            round_number,
            self._base(round_number),
            submissions,
            self.store,
            self.genesis.spec,
            self._rule(round_number),
            self.settings.policy,
            held=held,
        )
        if work.round == round_number:
            work.aggregate, work.aggregated = result, submissions
        return result

    def local_update(self, round_number: int) -> Update:
        """Train from the round's base on this member's data; the update as published.

        Seeded by (seed, round, member), so a member restarted after uploading and before
        submitting, or between its commit and its reveal, produces the very same bytes,
        hence the same digest and locator, again.
        With ``settings.privacy`` the delta is clipped and noised (noise seeded from the
        key, so it is reproducible too); it is encoded as the round's rule says.
        """
        rule = self._rule(round_number)
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
            proximal_mu=rule.proximal_mu,
        )
        return make_update(
            self.task,
            self._base(round_number),
            self.data,
            config=config,
            spec=self.genesis.spec,
            recipe=recipe,
        )

    def _private(self, round_number: int) -> PrivateRound | None:
        """Return the private round ``round_number`` is, or None for a plain round."""
        work = self._work
        threshold = self._rule(round_number).secure_threshold
        if threshold is None or work.round != round_number:
            return None
        if work.private is None:
            work.private = PrivateRound.open(
                self.federation,
                self.store,
                self._keys,
                self.account,
                round_number,
                threshold,
                Layout.of_spec(self.genesis.spec),
            )
        return work.private

    def _post_shares(self, round_number: int) -> AgentEvent:
        """Upload this member's setup message and post its digest."""
        private = self._private(round_number)
        assert private is not None  # decided for a private round
        ref = self.store.put(private.setup_blob())  # kept for good, as its updates
        if lost := self._transact(
            round_number,
            Action.POST_SHARES,
            lambda: self.federation.post_shares(self.account, round_number, ref),
        ):
            return lost
        return self._emit(
            Step.SHARES_POSTED,
            round_number,
            f"posted setup message {ref.hex[:12]} (mask key and encrypted shares)",
            digest=ref.digest,
            cid=ref.locator,
        )

    def _post_recovery(self, round_number: int) -> AgentEvent:
        """Reveal the shares the sum needs, once every message it depends on is readable."""
        private = self._private(round_number)
        assert private is not None  # decided for a private round
        try:
            blob = private.recovery_blob()
        except (SecAggError, BlobNotFound, DigestMismatch) as waiting:
            return self._emit(
                Step.WAITING, round_number, f"waiting to post the recovery message: {waiting}"
            )
        ref = self.store.put(blob)  # kept for good, as its updates
        if lost := self._transact(
            round_number,
            Action.POST_RECOVERY,
            lambda: self.federation.post_recovery(self.account, round_number, ref),
        ):
            return lost
        return self._emit(
            Step.RECOVERY_POSTED,
            round_number,
            f"posted recovery message {ref.hex[:12]} (the shares the sum needs)",
            digest=ref.digest,
            cid=ref.locator,
        )

    def _rule(self, round_number: int) -> AggregationRule:
        """Return the round's rule, read from the chain once per round."""
        work = self._work
        if work.round == round_number and work.rule is not None:
            return work.rule
        rule = parse_rule(self.federation.rule_of(round_number))
        if work.round == round_number:
            work.rule = rule
        return rule

    def _prefetch(self, snapshot: RoundSnapshot) -> None:
        """Start fetching the updates submitted since the last look (none if no new block)."""
        work = self._work
        if work.seen_block is not None and snapshot.block <= work.seen_block:
            return
        start = (
            self.federation.opening_block(snapshot.round)
            if work.seen_block is None
            else work.seen_block + 1
        )
        submitted = self.federation.events(UpdateSubmitted, from_block=start, round=snapshot.round)
        work.seen_block = max([snapshot.block, *(event.block_number for event in submitted)])
        own = None if work.update_ref is None else work.update_ref.digest
        compression = self._rule(snapshot.round).compression
        for event in submitted:
            if event.digest != own:
                self._prefetcher.fetch(event.ref, self.genesis.spec, compression)

    def _base(self, round_number: int) -> Weights:
        """Get the round's base model by its digest; the chain's CID only says where to look.

        A base this member computed itself (its aggregate of the previous round, which the
        quorum accepted) is decoded from its own bytes, so no store, and no CID, is needed.
        """
        work = self._work
        if work.round == round_number and work.base is not None:
            return work.base
        current = work.round == round_number
        ref = (current and work.base_ref) or self.federation.round_info(round_number).base
        own = work.previous_aggregate if current else None
        if own is not None and sha256_digest(own) == ref.digest:
            base = decode_model(own, self.genesis)
        else:
            base = fetch_model(self.store, ref, self.genesis)
        self._retention.keep(ref, max_bytes=max_global_model_size(self.genesis.spec))
        if current:
            work.base, work.previous_aggregate = base, None
        return base

    def _trained(self, round_number: int) -> bytes | None:
        """Train this member's update, once per round and process; None if the task failed."""
        work = self._work
        if work.update is None and work.task_failure is None:
            try:
                update = self.local_update(round_number)
            except TaskError as failure:
                work.task_failure = str(failure)
                self._emit(
                    Step.ERROR,
                    round_number,
                    f"{failure}; not submitting this round",
                    error="TaskError",
                )
            else:
                private = self._private(round_number)
                blob = (
                    update.blob
                    if private is None
                    else private.masked_blob(update.delta, update.num_examples)
                )
                work.update, work.num_examples, work.delta = blob, update.num_examples, update.delta
        return work.update

    def _update_ref(self, round_number: int, *, publish: bool) -> BlobRef | None:
        """Name this member's update in the store, uploading it only if ``publish``.

        A commit-reveal member commits to the located ref and publishes at its reveal, so
        nobody can read its update before then; the store must file it under the very
        ref it located, which the commitment binds. None when the task failed.
        """
        blob = self._trained(round_number)
        if blob is None:
            return None
        work = self._work
        if publish and not work.published:
            stored = self.store.put(blob)
            if work.update_ref is not None and stored != work.update_ref:
                raise StorageError(
                    f"the {self.store.describe()} filed this member's update of round "
                    f"{round_number} under {stored.locator}, not under {work.update_ref.locator} "
                    "as it located it before: the store's settings changed in between; "
                    "use a store that names blobs the same way every time"
                )
            work.update_ref, work.published = stored, True
        elif work.update_ref is None:
            work.update_ref = self.store.locate(blob)
        return work.update_ref

    def _submit(self, round_number: int) -> AgentEvent:
        ref = self._update_ref(round_number, publish=True)
        if ref is None:
            return self._task_failed(round_number)
        num_samples = self._work.num_examples
        if lost := self._transact(
            round_number,
            Action.SUBMIT,
            lambda: self.federation.submit_update(self.account, round_number, ref, num_samples),
        ):
            return lost
        return self._submitted(round_number, ref, "submitted")

    def _commit(self, round_number: int) -> AgentEvent:
        """Commit to the update's digest and locator without publishing it (commit-reveal)."""
        ref = self._update_ref(round_number, publish=False)
        if ref is None:
            return self._task_failed(round_number)
        commitment = Federation.commitment(
            round_number, self.address, ref, self._work.num_examples, self._salt(round_number, ref)
        )
        if lost := self._transact(
            round_number,
            Action.COMMIT,
            lambda: self.federation.commit_update(self.account, round_number, commitment),
        ):
            return lost
        return self._emit(
            Step.COMMITTED,
            round_number,
            f"committed to update {ref.hex[:12]} (unpublished until the reveal)",
            commitment=commitment,
            digest=ref.digest,
            cid=ref.locator,
        )

    def _reveal(self, round_number: int) -> AgentEvent:
        """Publish the committed update and reveal it; after a restart it is retrained."""
        ref = self._update_ref(round_number, publish=False)
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
                "(was the agent restarted with other data, seed, settings or store?)",
            )
        self._update_ref(round_number, publish=True)
        if lost := self._transact(
            round_number,
            Action.REVEAL,
            lambda: self.federation.reveal_update(
                self.account, round_number, ref, num_samples, salt
            ),
        ):
            return lost
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
            digest=ref.digest,
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
        try:
            ref = self._aggregate_ref(round_number)
        except (SecAggError, BlobNotFound, DigestMismatch) as waiting:
            if self._private(round_number) is None:
                raise
            return self._emit(Step.WAITING, round_number, f"waiting to unmask the sum: {waiting}")
        detail = {
            "digest": ref.digest,
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
        if lost := self._transact(
            round_number,
            Action.VOTE,
            lambda: self.federation.vote_aggregate(self.account, round_number, ref),
        ):
            return lost
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
            if self._retention.node is not None:
                own = None if work.update_ref is None else work.update_ref.digest
                verified = [
                    event.ref
                    for event in work.aggregated
                    if event.member in result.included and event.digest != own
                ]
                self._retention.hold(round_number, [*verified, work.aggregate_ref])
        return work.aggregate_ref

    def _close(self, round_number: int) -> AgentEvent:
        if lost := self._transact(
            round_number,
            Action.CLOSE,
            lambda: self.federation.close_round(self.account, round_number),
        ):
            return lost
        return self._emit(Step.CLOSED, round_number, f"closed round {round_number} without quorum")

    def _transact(
        self, round_number: int, action: Action, send: Callable[[], object]
    ) -> AgentEvent | None:
        """Send a transaction; None when it went through, the LOST_RACE event when it lost.

        Another member may have moved the round on between our read and our transaction
        (closed it, completed the quorum, ended a phase): that is normal and not an error,
        but it is reported as what it was, never as if this member had acted. Every other
        revert is a real problem and raises.
        """
        try:
            send()
        except ContractRevert as revert:
            if revert.error not in LOST_RACES:
                raise
            return self._emit(
                Step.LOST_RACE,
                round_number,
                f"too late to {action}: {_overtaken_by(revert)}",
                action=str(action),
                revert=revert.error,
            )
        return None

    def _emit(self, step: Step, round_number: int, message: str, **detail: object) -> AgentEvent:
        event = AgentEvent(step, round_number, self.address, message, dict(detail))
        self.on_event(event)
        return event


def _overtaken_by(revert: ContractRevert) -> str:
    """Say what got there first, from the revert of a transaction that lost a race."""
    args = revert.args_by_name
    if revert.error == "WrongPhase":
        round_number, phase = args["round"], args["current"]
        assert isinstance(phase, Phase)  # the revert decoder gives enums as such
        if phase is Phase.CLOSED:
            return f"round {round_number} was already closed by another member"
        if phase is Phase.ACCEPTED:
            return f"round {round_number} was already accepted by the other members' votes"
        return f"round {round_number} had already moved on to its {phase.label} phase"
    if revert.error == "WrongRound":
        return f"round {args['given']} had already ended; round {args['current']} is open"
    return f"an earlier transaction of this member's already did it ({revert.error})"


def _is_private(spec: str) -> bool:
    """Whether the rule ``spec`` makes rounds private; an unparsable one does not.

    A coming rule is read only to register the key in time: a rule no one can parse is
    the round's problem when it opens (every member reports it then), not this one's.
    """
    try:
        return parse_rule(spec).secure_threshold is not None
    except LearningError:
        return False


def _waiting(snapshot: RoundSnapshot, private: PrivateFacts | None) -> str:
    if not snapshot.is_member:
        return "not a member of this round"
    if private is not None and not private.participant:
        return (
            f"sitting out private round {snapshot.round}: no encryption key of this member "
            "was in force when it opened (registered now, it counts from the next round)"
        )
    if private is not None and snapshot.phase is Phase.SUBMIT and not private.setup_closed:
        return "waiting for the other members' setup messages (private round)"
    return f"waiting ({snapshot.phase.label} phase)"
