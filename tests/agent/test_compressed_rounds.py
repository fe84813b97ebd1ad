"""Compressed updates end to end: members encode as the round's rule says, everyone decodes.

Unit level: ``aggregate_round`` excludes a badly compressed update with its reason. On the
embedded chain: a federation with ``fedavg:compress=int8`` accepts a round unanimously,
excludes a member's update that lacks its scales, switches to
``median:clip=1.0,compress=fp16`` by proposal, and the audit verifies every round.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from daofed.agent import MemberAgent, MemberSettings, Step
from daofed.audit import Verdict, read_history, verify_history
from daofed.chain import ProposalKind, UpdateSubmitted, advance_time, dev_accounts, embedded_chain
from daofed.learning import load_digits, split_federated
from daofed.learning.aggregation import MemberUpdate, apply_delta, parse_rule
from daofed.learning.compression import (
    SCALE_SUFFIX,
    Compression,
    compress,
    compressed_spec,
    decode_update,
    encode_update,
)
from daofed.protocol import UpdatePolicy, aggregate_round
from daofed.storage import LocalStore, ModelSpec, decode, encode
from tests.federations import DIGITS, deploy

MEMBERS = 3
WINDOW = 600
VOTING_PERIOD = 60
SETTINGS = MemberSettings(options={"epochs": 1})
SPEC = ModelSpec.from_arrays(DIGITS.initial_weights(0))


def _delta(seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {t.name: (rng.standard_normal(t.shape) * 0.01).astype(np.float32) for t in SPEC.tensors}


def _submission(member: str, data: bytes, store: LocalStore) -> UpdateSubmitted:
    ref = store.put(data)
    return UpdateSubmitted(
        round=1,
        member=member,
        digest=ref.digest,
        cid=ref.locator,
        num_samples=10,
        block_number=1,
        tx_hash=b"\0" * 32,
        log_index=0,
    )


def test_badly_compressed_updates_are_excluded_with_their_reason(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "blobs")
    rule = parse_rule("fedavg:compress=int8")
    good = {f"0x{i:040x}": _delta(i) for i in (1, 2, 3)}
    wrong_dtype = compress(_delta(4), Compression.INT8)
    wrong_dtype["0.bias" + SCALE_SUFFIX] = wrong_dtype["0.bias" + SCALE_SUFFIX].astype(np.float16)
    too_wide = compress(_delta(4), Compression.INT8)
    too_wide["0.bias" + SCALE_SUFFIX] = too_wide["0.bias" + SCALE_SUFFIX].astype(np.float64)
    missing = compress(_delta(5), Compression.INT8)
    del missing["2.weight" + SCALE_SUFFIX]
    bad = {
        "0x" + "a" * 40: encode(wrong_dtype),
        "0x" + "b" * 40: encode(missing),
        "0x" + "e" * 40: encode(too_wide),
        "0x" + "c" * 40: encode(_delta(6)),  # float32, as if the rule had no compress=
        "0x" + "d" * 40: encode_update(_delta(7), Compression.FP16),
    }
    submissions = [
        *(_submission(m, encode_update(d, Compression.INT8), store) for m, d in good.items()),
        *(_submission(m, data, store) for m, data in bad.items()),
    ]
    base = DIGITS.initial_weights(0)

    result = aggregate_round(1, base, submissions, store, SPEC, rule, UpdatePolicy())

    assert result.included == tuple(good)
    assert {e.member: e.reason for e in result.excluded} == {
        "0x" + "a" * 40: "wrong-dtype",
        "0x" + "b" * 40: "missing-tensor",
        # larger than any valid int8 update: refused while fetching, before decoding
        "0x" + "c" * 40: "oversized",
        "0x" + "d" * 40: "oversized",
        "0x" + "e" * 40: "oversized",
    }
    received = [
        MemberUpdate(
            m, 10, decode_update(encode_update(d, Compression.INT8), SPEC, rule.compression)
        )
        for m, d in good.items()
    ]
    expected = apply_delta(base, parse_rule("fedavg").aggregate(received))
    assert result.blob == encode(expected)
    assert all(array.dtype == np.float32 for array in result.weights.values())


def test_the_norm_bound_applies_to_the_decompressed_update(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "blobs")
    big = {name: array * 1000 for name, array in _delta(8).items()}
    submissions = [
        _submission("0x" + "1" * 40, encode_update(_delta(9), Compression.FP16), store),
        _submission("0x" + "2" * 40, encode_update(big, Compression.FP16), store),
    ]
    result = aggregate_round(
        1,
        DIGITS.initial_weights(0),
        submissions,
        store,
        SPEC,
        parse_rule("fedavg:compress=fp16"),
        UpdatePolicy(max_norm=10.0),
    )
    assert [e.reason for e in result.excluded] == ["norm-bound"]


@pytest.mark.slow
def test_a_compressed_federation_runs_switches_and_audits(tmp_path: Path) -> None:
    w3 = embedded_chain()
    store = LocalStore(tmp_path / "blobs")
    deployer, *members = dev_accounts(MEMBERS + 1)
    split = split_federated(load_digits(), MEMBERS, alpha=None, seed=0)
    federation = deploy(
        w3,
        store,
        deployer,
        members,
        window=WINDOW,
        voting_period=VOTING_PERIOD,
        rule="fedavg:compress=int8",
    )
    agents = [
        MemberAgent(federation, store, account, DIGITS, share.train, SETTINGS)
        for account, share in zip(members, split.members, strict=True)
    ]

    # round 1: int8 updates, a quarter of the float32 bytes; accepted unanimously
    submitted = [agent.step() for agent in agents]
    assert [e.step for e in submitted] == [Step.SUBMITTED] * MEMBERS
    int8 = compressed_spec(SPEC, Compression.INT8)
    for update in federation.updates(1):
        blob = store.get(update.ref)
        assert len(blob) == int8.encoded_size < 0.3 * SPEC.encoded_size
        assert decode(blob, int8)["0.weight"].dtype == np.int8
    voted = [agent.step() for agent in agents]
    assert [e.step for e in voted] == [Step.VOTED] * MEMBERS
    assert len({e.detail["digest"] for e in voted}) == 1
    (accepted,) = federation.accepted()
    assert accepted.round == 1 and accepted.votes == MEMBERS
    assert decode(store.get(accepted.ref), SPEC)["0.weight"].dtype == np.float32

    # round 2: member 3's update lacks a scale; a proposal switches to median + fp16
    proposal = federation.propose(
        members[0], ProposalKind.SET_RULE, "median:clip=1.0,compress=fp16"
    ).proposal_id
    for voter in members:
        federation.vote_proposal(voter, proposal, True)
    advance_time(w3, VOTING_PERIOD + 1)
    federation.execute_proposal(members[1], proposal)
    assert federation.rule_of(2) == "fedavg:compress=int8"  # from the next round on
    broken = compress(_delta(10), Compression.INT8)
    del broken["0.bias" + SCALE_SUFFIX]
    federation.submit_update(members[2], 2, store.put(encode(broken)), 50)
    assert [agent.step().step for agent in agents[:2]] == [Step.SUBMITTED] * 2
    events: list[list[Step]] = []
    for agent in agents:
        seen: list[Step] = []
        agent.on_event = lambda event, seen=seen: seen.append(event.step)
        agent.step()
        events.append(seen)
    assert events == [[Step.EXCLUDED, Step.VOTED]] * MEMBERS
    assert federation.round_info(2).accepted is not None

    # round 3: the new rule's fp16 updates
    assert federation.rule_of(3) == "median:clip=1.0,compress=fp16"
    assert [agent.step().step for agent in agents] == [Step.SUBMITTED] * MEMBERS
    fp16 = compressed_spec(SPEC, Compression.FP16)
    for update in federation.updates(3):
        assert decode(store.get(update.ref), fp16)["0.weight"].dtype == np.float16
    assert [agent.step().step for agent in agents] == [Step.VOTED] * MEMBERS

    # the audit recomputes every round from the compressed blobs
    history = read_history(federation)
    result = verify_history(history, store)
    assert result.ok, result.findings
    assert [r.verdict for r in result.rounds] == [Verdict.VERIFIED] * 3 + [Verdict.OPEN]
    assert [r.rule for r in result.rounds[:3]] == [
        "fedavg:compress=int8",
        "fedavg:compress=int8",
        "median:clip=1.0,compress=fp16",
    ]
    (exclusion,) = result.rounds[1].exclusions
    assert (exclusion.member, exclusion.reason) == (members[2].address, "missing-tensor")
    for verified in result.rounds[:3]:
        assert verified.recomputed_digest == verified.accepted_digest
    final = federation.round_info(4).base
    assert hashlib.sha256(store.get(final)).digest() == result.rounds[2].accepted_digest
