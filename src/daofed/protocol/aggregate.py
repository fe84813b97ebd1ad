"""A round's aggregate: what every honest member (and later the auditor) computes.

Given the round's base model, its on-chain submissions, the blob store and the rule in
force, every honest member (and later the auditor) must arrive at the same bytes. So this
module fixes the order (by member address), the validation (an update that fails any check
is excluded, with its reason) and the encoding (canonical safetensors). It is the only
implementation: agents run it over the chain's submissions and their store, simulations
over a :class:`~daofed.storage.MemoryStore`, the audit over history.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from daofed.errors import BlobNotFound, DigestMismatch, InvalidBlob, StorageError
from daofed.learning.aggregation import AggregationRule, MemberUpdate, l2_norm
from daofed.learning.aggregation.server import split_server_state
from daofed.learning.compression import Compression, compressed_spec, decode_update
from daofed.storage import BlobRef, BlobStore, ModelSpec, Weights, encode


class Submission(Protocol):
    """A submitted update as the chain records it (``UpdateSubmitted`` is one)."""

    @property
    def member(self) -> str:
        """The submitting member (an address on chain, any stable name in simulations)."""

    @property
    def digest(self) -> bytes:
        """sha256 of the update's bytes."""

    @property
    def cid(self) -> str:
        """Where to fetch it (a hint; the digest decides)."""

    @property
    def num_samples(self) -> int:
        """The update's FedAvg weight."""


@dataclass(frozen=True)
class SubmittedUpdate:
    """A submission made without a chain (simulations and experiments)."""

    member: str
    digest: bytes
    cid: str
    num_samples: int


@dataclass(frozen=True)
class UpdatePolicy:
    """Limits every fetched update must meet, beyond matching the model exactly.

    ``max_norm`` (L2 norm of the whole delta) rejects updates no honest training produces.
    No size limit is needed here: a fetch never reads past the model's exact encoded size.
    """

    max_norm: float | None = None


@dataclass(frozen=True)
class Exclusion:
    """An update left out of the aggregate, and why (``reason`` is a stable tag)."""

    member: str
    digest: bytes
    reason: str
    message: str


@dataclass(frozen=True)
class RoundAggregate:
    """The result of aggregating one round: the new global model and its canonical bytes.

    ``weights`` are every tensor of the blob: the model's, and the server optimiser's state
    when the rule has one (:func:`~daofed.learning.aggregation.server.model_weights`
    leaves the model's).
    """

    round: int
    weights: Weights
    blob: bytes
    included: tuple[str, ...]
    excluded: tuple[Exclusion, ...]


FETCH_WORKERS = 4
"""Updates fetched at once: enough to keep a store busy while the last ones decode."""

SENDER_FAULTS: tuple[type[StorageError], ...] = (InvalidBlob, DigestMismatch, BlobNotFound)
"""What a fetch of an update can find that is the sender's fault: a reason to exclude it."""

_REASONS: dict[type[Exception], str] = {
    DigestMismatch: "wrong-digest",
    BlobNotFound: "missing-blob",
}


def fetch_delta(
    store: BlobStore, ref: BlobRef, spec: ModelSpec, compression: Compression = Compression.NONE
) -> Weights:
    """Fetch one update's bytes (verified against ``ref.digest``) and decode them strictly.

    ``compression`` is the round's (its rule's ``compress=``): the blob must be encoded
    that way exactly, and comes back decompressed to the float32 delta. Raises
    BlobNotFound, DigestMismatch or InvalidBlob for bytes that are the sender's fault.
    Safe to call from several threads at once (agents fetch peers' updates in parallel).
    """
    wire = compressed_spec(spec, compression)
    return decode_update(store.get(ref, max_bytes=wire.encoded_size), spec, compression)


def check_policy(delta: Weights, policy: UpdatePolicy) -> None:
    """Raise InvalidBlob("norm-bound") if ``delta`` breaks the member's ``policy``."""
    if policy.max_norm is not None:
        norm = l2_norm(delta)
        if not norm <= policy.max_norm:
            raise InvalidBlob(
                "norm-bound",
                f"update norm {norm:.4g} exceeds the federation's bound {policy.max_norm:.4g}",
            )


def aggregate_round(
    round_number: int,
    base: Weights,
    submissions: Sequence[Submission],
    store: BlobStore,
    spec: ModelSpec,
    rule: AggregationRule,
    policy: UpdatePolicy,
    *,
    held: Mapping[bytes, Weights | StorageError] | None = None,
    workers: int = FETCH_WORKERS,
) -> RoundAggregate:
    """Aggregate a round's valid updates onto ``base`` under ``rule``.

    Updates are read as ``rule.compression`` encodes them; the new model is float32 always.
    ``base`` is a global model as its blob holds it: a server optimiser finds its state
    there and leaves its new state in the result.

    ``held`` maps the sha256 of an update's bytes to its decoded delta, for updates the
    caller already has (a member's own, the peers' it fetched while waiting): a submission
    with that digest is taken from there, not fetched and decoded again, and the policy
    is checked on it all the same. It may instead map to what a fetch already found wrong
    (one of SENDER_FAULTS), so a blob nobody provides is not searched for a second time. The
    others are fetched ``workers`` at a time.

    Bad or missing bytes are the submitting member's fault and are excluded, never fatal:
    the round goes on with the honest updates. A store that cannot be reached is *not* a
    reason to exclude (another member may reach it), so StoreUnavailable propagates and the
    caller retries later. With fewer valid updates than the rule can aggregate (none, or
    fewer than Multi-Krum's n > 2f + 2) the model stays as it was: a deterministic outcome
    every honest member agrees on, so one bad member cannot stall the round.
    """
    known = held or {}

    def load(submission: Submission) -> MemberUpdate:
        delta = known.get(submission.digest)
        if isinstance(delta, StorageError):
            raise delta
        if delta is None:
            ref = BlobRef(digest=submission.digest, locator=submission.cid)
            delta = fetch_delta(store, ref, spec, rule.compression)
        check_policy(delta, policy)
        return MemberUpdate(submission.member, submission.num_samples, delta)

    ordered = sorted(submissions, key=lambda s: s.member.lower())
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="daofed-fetch") as pool:
        loading = [pool.submit(load, submission) for submission in ordered]
    included: list[MemberUpdate] = []
    excluded: list[Exclusion] = []
    for submission, loaded in zip(ordered, loading, strict=True):
        try:
            included.append(loaded.result())
        except SENDER_FAULTS as error:
            reason = error.reason if isinstance(error, InvalidBlob) else _REASONS[type(error)]
            excluded.append(Exclusion(submission.member, submission.digest, reason, str(error)))
    if len(included) >= rule.min_updates:
        model, state = split_server_state(base)
        model, state = rule.server_step(model, state, rule.aggregate(included))
        weights = {**model, **state}
    else:
        weights = {name: np.array(value, copy=True) for name, value in base.items()}
    return RoundAggregate(
        round=round_number,
        weights=weights,
        blob=encode(weights),
        included=tuple(update.member for update in included),
        excluded=tuple(excluded),
    )
