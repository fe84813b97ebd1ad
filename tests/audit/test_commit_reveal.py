"""A commit-reveal round: the committed-but-unrevealed update is left out, not a mismatch.

Driven by hand (no training: small synthetic deltas), so it runs in a few seconds.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from daofed.audit import Verdict, read_history, read_status, verify_history
from daofed.chain import (
    Federation,
    Phase,
    advance_time,
    dev_accounts,
    embedded_chain,
    new_salt,
)
from daofed.learning import load_task
from daofed.learning.aggregation import parse_rule
from daofed.protocol import UpdatePolicy, aggregate_round, fetch_genesis, genesis_blob
from daofed.storage import LocalStore, encode

WINDOW = 600


def test_an_unrevealed_commitment_is_left_out_and_the_round_verifies(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "blobs")
    deployer, *members = dev_accounts(4)
    task = load_task("digits-mlp")
    genesis_weights = task.initial_weights(0)
    federation = Federation.deploy(
        embedded_chain(),
        deployer,
        members=[m.address for m in members],
        quorum=2,
        submit_window=WINDOW,
        vote_window=WINDOW,
        rule="median",
        genesis=store.put(genesis_blob(task, 0)),
        commit_reveal=True,
    )
    rng = np.random.default_rng(0)
    refs, salts = [], []
    for member in members:
        delta = {
            k: rng.normal(0, 0.01, v.shape).astype(np.float32) for k, v in genesis_weights.items()
        }
        ref, salt = store.put(encode(delta)), new_salt()
        commitment = federation.commitment(1, member.address, ref, 100, salt)
        federation.commit_update(member, 1, commitment)
        refs.append(ref)
        salts.append(salt)
    assert federation.phase(1) is Phase.REVEAL
    for member, ref, salt in list(zip(members, refs, salts, strict=True))[:2]:
        federation.reveal_update(member, 1, ref, 100, salt)

    status = read_status(federation, store)
    assert status.commit_reveal and status.phase is Phase.REVEAL
    assert [(m.committed, m.submitted) for m in status.members] == [(True, True)] * 2 + [
        (True, False)
    ]
    assert status.expected_aggregate is None  # the third member may still reveal

    advance_time(federation.w3, 2 * WINDOW + 1)  # past the reveal deadline
    assert federation.phase(1) is Phase.VOTE
    genesis = fetch_genesis(store, federation.round_info(1).base)
    result = aggregate_round(
        1,
        genesis.weights,
        federation.updates(1),
        store,
        genesis.spec,
        parse_rule("median"),
        UpdatePolicy(),
    )
    aggregate = store.put(result.blob)
    assert read_status(federation, store).expected_aggregate == aggregate.digest
    for member in members[:2]:
        federation.vote_aggregate(member, 1, aggregate)

    history = read_history(federation)
    one = history.round(1)
    assert one.commit_reveal and one.reveal_deadline > one.submit_deadline
    assert len(one.commits) == 3 and len(one.updates) == 2
    assert one.unrevealed == (members[2].address,)
    assert one.accepted_digest == hashlib.sha256(result.blob).digest()
    verified = verify_history(history, store).rounds[0]
    assert verified.verdict is Verdict.VERIFIED
    assert set(verified.included) == {m.address for m in members[:2]}
    assert verified.exclusions == ()
    assert one.accepted_digest == aggregate.digest
