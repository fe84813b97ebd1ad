"""aggregate_round on its own: too few valid updates keep the base; held updates are not fetched."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from daofed.chain import UpdateSubmitted
from daofed.errors import BlobNotFound
from daofed.learning import ModelConfig, model_spec
from daofed.learning.aggregation import l2_norm, parse_rule
from daofed.protocol import UpdatePolicy, aggregate_round
from daofed.storage import BlobRef, LocalStore, Weights, encode
from tests.federations import DIGITS


def submission(member: int, data: bytes, store: LocalStore) -> UpdateSubmitted:
    ref = store.put(data)
    return UpdateSubmitted(
        round=1,
        member=f"0x{member:040x}",
        digest=ref.digest,
        cid=ref.locator,
        num_samples=10,
        block_number=1,
        tx_hash="0x" + "00" * 32,
        log_index=member,
    )


def test_too_few_valid_updates_for_the_rule_keep_the_base(tmp_path: Path) -> None:
    """Multi-Krum f=1 needs 5 updates: with one of 5 bad, every member keeps the base."""
    store = LocalStore(tmp_path)
    config = ModelConfig()
    base = DIGITS.initial_weights(0)
    good = encode({name: np.full_like(value, 0.01) for name, value in base.items()})
    submissions = [submission(i, good, store) for i in range(1, 5)]
    submissions.append(submission(5, b"not a model", store))
    rule = parse_rule("krum:f=1")
    assert rule.min_updates == 5

    result = aggregate_round(1, base, submissions, store, model_spec(config), rule, UpdatePolicy())

    assert [e.reason for e in result.excluded] == ["not-safetensors"]
    assert len(result.included) == 4
    assert result.blob == encode(base)


def test_enough_valid_updates_are_aggregated(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    config = ModelConfig()
    base = DIGITS.initial_weights(0)
    good = encode({name: np.full_like(value, 0.01) for name, value in base.items()})
    submissions = [submission(i, good, store) for i in range(1, 6)]

    result = aggregate_round(
        1, base, submissions, store, model_spec(config), parse_rule("krum:f=1"), UpdatePolicy()
    )

    assert result.excluded == ()
    assert result.blob != encode(base)


class CountingStore(LocalStore):
    """A local store that remembers which blobs were fetched."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.fetched: list[bytes] = []

    def get(self, ref: BlobRef, *, max_bytes: int | None = None) -> bytes:
        self.fetched.append(ref.digest)
        return super().get(ref, max_bytes=max_bytes)


SPEC = model_spec(ModelConfig())


def two_updates(store: LocalStore) -> tuple[Weights, list[Weights], list[UpdateSubmitted]]:
    """The digits model, two small deltas of it, and their submissions (blobs in ``store``)."""
    base = DIGITS.initial_weights(0)
    deltas = [{name: np.full_like(value, 0.01 * i) for name, value in base.items()} for i in (1, 2)]
    return base, deltas, [submission(i, encode(delta), store) for i, delta in enumerate(deltas, 1)]


def test_held_updates_are_not_fetched_and_give_the_same_aggregate(tmp_path: Path) -> None:
    """A held delta replaces the fetch of its digest; the policy still applies to it."""
    store = CountingStore(tmp_path)
    base, deltas, submissions = two_updates(store)
    rule = parse_rule("fedavg")
    fetched = aggregate_round(1, base, submissions, store, SPEC, rule, UpdatePolicy())
    assert sorted(store.fetched) == sorted(s.digest for s in submissions)

    store.fetched.clear()
    held = {submissions[0].digest: deltas[0]}
    result = aggregate_round(1, base, submissions, store, SPEC, rule, UpdatePolicy(), held=held)
    assert store.fetched == [submissions[1].digest]
    assert result.blob == fetched.blob

    bounded = UpdatePolicy(max_norm=0.5 * l2_norm(deltas[0]))
    result = aggregate_round(1, base, submissions, store, SPEC, rule, bounded, held=held)
    assert [e.reason for e in result.excluded] == ["norm-bound", "norm-bound"]


def test_a_held_sender_fault_excludes_without_fetching_again(tmp_path: Path) -> None:
    """A blob a prefetch found missing is excluded at once, not searched for a second time."""
    store = CountingStore(tmp_path)
    base, _, submissions = two_updates(store)
    missing = BlobNotFound("no connected peer provided it within 20 s")
    held = {submissions[0].digest: missing}
    rule = parse_rule("fedavg")
    result = aggregate_round(1, base, submissions, store, SPEC, rule, UpdatePolicy(), held=held)
    assert store.fetched == [submissions[1].digest]
    assert [(e.member, e.reason, e.message) for e in result.excluded] == [
        (submissions[0].member, "missing-blob", str(missing))
    ]
    assert result.included == (submissions[1].member,)
