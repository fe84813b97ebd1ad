"""A federation member as a state machine driven only by chain state and the blob store.

Each :meth:`MemberAgent.step` reads where the current round stands on-chain and does the
one thing this member still owes it (train + submit, aggregate + vote, or close an expired
round). Nothing is remembered between steps that the chain or the store does not also
hold, so an agent killed at any point and started again carries on where it was, and the
contract's once-per-member rules make a repeated step harmless.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

from eth_account.signers.local import LocalAccount

from daofed.agent.events import AgentEvent, EventSink, Step, discard
from daofed.agent.round_aggregate import RoundAggregate, UpdatePolicy, aggregate_round
from daofed.chain import Federation, Phase
from daofed.chain.commitment import derive_salt
from daofed.errors import ContractRevert
from daofed.learning import MemberData, ModelConfig, TrainConfig, model_spec, train_local
from daofed.learning.aggregation import compute_delta, parse_rule
from daofed.learning.compression import encode_update
from daofed.learning.privacy import Adjacency, PrivacySettings, epsilon, noise_seed, privatize
from daofed.storage import BlobRef, BlobStore, Weights, decode


@dataclass(frozen=True)
class MemberSettings:
    """How this member trains; its own business, not the federation's."""

    model: ModelConfig = field(default_factory=ModelConfig)
    training: TrainConfig = field(default_factory=TrainConfig)
    policy: UpdatePolicy = field(default_factory=UpdatePolicy)
    seed: int = 0
    auto_vote: bool = True
    privacy: PrivacySettings | None = None  # local DP of the update (clip + Gaussian noise)


def training_seed(seed: int, round_number: int, member: str) -> int:
    """Derive a per-(round, member) seed, so a restarted member retrains the same update."""
    material = f"{seed}:{round_number}:{member.lower()}".encode()
    return int.from_bytes(hashlib.sha256(material).digest()[:8], "big") >> 1


LOST_RACES = frozenset(
    {"WrongPhase", "WrongRound", "AlreadySubmitted", "AlreadyCommitted", "AlreadyVoted"}
)
"""Reverts that mean another transaction got there first: expected, not errors."""


class MemberAgent:
    """One member of a federation: its key, its data, its view of the chain and store."""

    def __init__(
        self,
        federation: Federation,
        store: BlobStore,
        account: LocalAccount,
        data: MemberData,
        settings: MemberSettings | None = None,
        on_event: EventSink = discard,
    ) -> None:
        self.federation = federation
        self.store = store
        self.account = account
        self.data = data
        self.settings = settings or MemberSettings()
        self.on_event = on_event
        self.spec = model_spec(self.settings.model)
        self._aggregates: dict[int, RoundAggregate] = {}
        self._updates: dict[int, BlobRef] = {}
        self._aggregate_refs: dict[int, BlobRef] = {}

    @property
    def address(self) -> str:
        """Checksum address of this member."""
        return str(self.account.address)

    def step(self) -> AgentEvent:
        """Do the one thing the current round needs from this member, and report it."""
        round_number = self.federation.current_round()
        if not self.federation.is_member(self.address, round_number):
            return self._emit(Step.WAITING, round_number, "not a member of this round")
        info = self.federation.round_info(round_number)
        me = self.address
        if info.phase is Phase.SUBMIT:
            if info.commit_reveal and self.federation.commitment_of(round_number, me) is None:
                return self._commit(round_number)
            if not info.commit_reveal and not self.federation.has_submitted(round_number, me):
                return self._submit(round_number)
        if (
            info.phase is Phase.REVEAL
            and self.federation.commitment_of(round_number, me) is not None
            and not self.federation.has_submitted(round_number, me)
        ):
            return self._reveal(round_number)
        if info.phase is Phase.VOTE and not self.federation.has_voted(round_number, me):
            return self._aggregate_and_vote(round_number)
        if info.phase is Phase.EXPIRED:
            return self._close(round_number)
        return self._emit(Step.WAITING, round_number, f"waiting ({info.phase.label} phase)")

    def aggregate(self, round_number: int) -> RoundAggregate:
        """Compute this member's aggregate for a round (once; then it is cached)."""
        if round_number not in self._aggregates:
            info = self.federation.round_info(round_number)
            self._aggregates[round_number] = aggregate_round(
                round_number,
                self._fetch_model(info.base),
                self.federation.updates(round_number),
                self.store,
                self.spec,
                parse_rule(self.federation.rule_of(round_number)),
                self.settings.policy,
            )
        return self._aggregates[round_number]

    def local_update(self, round_number: int) -> bytes:
        """Train from the round's base on this member's data; return the update's bytes.

        Seeded by (seed, round, member), so a member that crashed after uploading and
        before submitting produces the very same bytes, hence the same digest, again.
        With ``settings.privacy`` the delta is clipped and noised (noise seeded from the
        key, so it is reproducible too); it is encoded as the round's rule says
        (``compress=``).
        """
        base = self._fetch_model(self.federation.round_info(round_number).base)
        trained = train_local(
            self.settings.model,
            base,
            self.data.train,
            train=self.settings.training,
            seed=training_seed(self.settings.seed, round_number, self.address),
        )
        delta = compute_delta(base, trained)
        privacy = self.settings.privacy
        if privacy is not None:
            seed = noise_seed(bytes(self.account.key), self.federation.address, round_number)
            delta = privatize(delta, privacy, seed)
        rule = parse_rule(self.federation.rule_of(round_number))
        return encode_update(delta, rule.compression)

    def _update_ref(self, round_number: int) -> BlobRef:
        """Train (once per round and process) and upload this member's update."""
        if round_number not in self._updates:
            self._updates[round_number] = self.store.put(self.local_update(round_number))
        return self._updates[round_number]

    def _submit(self, round_number: int) -> AgentEvent:
        ref = self._update_ref(round_number)
        num_samples = len(self.data.train)
        if not self._transact(
            lambda: self.federation.submit_update(self.account, round_number, ref, num_samples)
        ):
            return self._emit(Step.WAITING, round_number, "submission no longer possible")
        return self._submitted(round_number, ref, "submitted")

    def _commit(self, round_number: int) -> AgentEvent:
        """Commit to the update without showing it (commit-reveal rounds)."""
        ref = self._update_ref(round_number)
        num_samples = len(self.data.train)
        commitment = Federation.commitment(
            round_number, self.address, ref, num_samples, self._salt(round_number, ref)
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
        salt = self._salt(round_number, ref)
        num_samples = len(self.data.train)
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

    def _salt(self, round_number: int, ref: BlobRef) -> bytes:
        return derive_salt(self.account, self.federation.address, round_number, ref.digest)

    def _submitted(self, round_number: int, ref: BlobRef, verb: str) -> AgentEvent:
        num_samples = len(self.data.train)
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
        if round_number not in self._aggregate_refs:
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
            self._aggregate_refs[round_number] = self.store.put(result.blob)
        return self._aggregate_refs[round_number]

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

    def _fetch_model(self, ref: BlobRef) -> Weights:
        return decode(self.store.get(ref), self.spec)

    def _emit(self, step: Step, round_number: int, message: str, **detail: object) -> AgentEvent:
        event = AgentEvent(step, round_number, self.address, message, dict(detail))
        self.on_event(event)
        return event
