"""bench/explorer.py's history builder: real rounds that the audit reads back."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import explorer as script
from daofed.audit import Outcome, read_history
from daofed.chain import AnvilNode, ProposalKind, ProposalState
from daofed.storage import LocalStore

pytestmark = pytest.mark.anvil

ROUNDS = 3
MEMBERS = 3


def test_filled_rounds_are_accepted_with_every_update_and_vote(
    own_anvil: AnvilNode, tmp_path: Path
) -> None:
    members = [script.member_address(i) for i in range(MEMBERS)]
    federation = script.deploy_federation(own_anvil, LocalStore(tmp_path), members, window=300)

    fill = script.fill_history(own_anvil, federation, members, ROUNDS, rule_every=2)

    # round 2 also proposes, votes on and executes a rule: 1 + MEMBERS + 1 transactions
    assert (fill.rounds, fill.transactions) == (ROUNDS, ROUNDS * 2 * MEMBERS + MEMBERS + 2)
    history = read_history(federation)
    *done, current = history.rounds
    assert [r.round for r in done] == list(range(1, ROUNDS + 1))
    assert (current.round, current.outcome) == (ROUNDS + 1, Outcome.OPEN)
    for record in done:
        n = record.round
        aggregate = script.aggregate_ref(n).digest
        assert record.outcome is Outcome.ACCEPTED
        assert record.accepted_digest == aggregate
        # one block per phase: the node may order the members' transactions within it
        assert sorted((u.member, u.digest, u.num_samples) for u in record.updates) == sorted(
            (m, script.update_ref(n, i).digest, script.SAMPLES + i) for i, m in enumerate(members)
        )
        assert sorted((v.member, v.digest) for v in record.votes) == sorted(
            (m, aggregate) for m in members
        )
    assert [r.base_digest for r in history.rounds[1:]] == [r.accepted_digest for r in done]
    (proposal,) = history.proposals
    executed = (ProposalKind.SET_RULE, "median", ProposalState.EXECUTED)
    assert (proposal.kind, proposal.value, proposal.state) == executed
    assert (proposal.round, proposal.yes) == (2, MEMBERS)
    assert [r.rule for r in history.rounds] == ["fedavg", "fedavg", "median", "median"]
