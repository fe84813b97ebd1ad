"""Executions are paired with their changes by log, not by transaction.

Anyone may execute a succeeded proposal, also through a contract of their own that
executes two in one transaction. The audit must pair each change with the execution that
follows it in that transaction, and name who sent it.
"""

from __future__ import annotations

import pytest

from daofed.audit import History, check_governance, read_history, run_audit
from daofed.audit.executions import pair_changes
from daofed.chain import (
    AnvilNode,
    Federation,
    ProposalKind,
    ProposalState,
    advance_time,
    dev_accounts,
)
from daofed.learning import DEFAULT_TASK, load_task
from daofed.protocol import genesis_blob
from daofed.storage import LocalStore

from .attacker import call_raw, deploy_raw

VOTING_PERIOD = 60


@pytest.fixture(scope="module")
def executed_together(
    own_anvil: AnvilNode, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Federation, LocalStore]:
    """Four members pass a rule change and a new member; an outsider's contract executes both."""
    w3 = own_anvil.web3()
    store = LocalStore(tmp_path_factory.mktemp("executions") / "blobs")
    deployer, *members = dev_accounts(5)
    outsider, newcomer = dev_accounts(10)[8:]
    federation = Federation.deploy(
        w3,
        deployer,
        members=[m.address for m in members],
        quorum=3,
        submit_window=600,
        vote_window=600,
        voting_period=VOTING_PERIOD,
        rule="fedavg",
        genesis=store.put(genesis_blob(load_task(DEFAULT_TASK), 0)),
    )
    median = federation.propose(members[0], ProposalKind.SET_RULE, "median")
    admit = federation.propose(members[1], ProposalKind.ADD_MEMBER, newcomer.address)
    for proposal in (median, admit):
        for voter in members[: proposal.votes_needed]:
            federation.vote_proposal(voter, proposal.proposal_id, True)
    advance_time(w3, VOTING_PERIOD + 1)
    helper = deploy_raw(w3, outsider, "ExecuteBoth")
    ids = (median.proposal_id, admit.proposal_id)
    receipt = call_raw(w3, outsider, helper, "ExecuteBoth", "executeBoth", federation.address, *ids)
    assert receipt["status"] == 1
    return federation, store


@pytest.fixture(scope="module")
def together(executed_together: tuple[Federation, LocalStore]) -> History:
    return read_history(executed_together[0])


def test_two_executions_in_one_transaction_each_get_their_own_change(together: History) -> None:
    median, admit = together.proposals
    assert median.executed_tx == admit.executed_tx  # one transaction
    assert median.executed_log_index is not None and admit.executed_log_index is not None
    assert median.executed_log_index < admit.executed_log_index
    assert median.state is admit.state is ProposalState.EXECUTED
    assert (median.applies_from_round, admit.applies_from_round) == (2, 2)
    assert check_governance(together) == ()


def test_who_executed_is_the_sender_of_the_transaction(together: History) -> None:
    outsider = dev_accounts(10)[8].address
    assert [p.executed_by for p in together.proposals] == [outsider, outsider]


def test_verifying_finds_nothing_wrong(executed_together: tuple[Federation, LocalStore]) -> None:
    federation, store = executed_together
    report = run_audit(federation, store, verify=True)
    assert report.verification is not None and report.verification.governance == ()
    assert report.ok is True


def test_a_change_belongs_to_the_first_execution_after_it_in_its_transaction() -> None:
    executions = [("0xa", 3), ("0xa", 5), ("0xb", 1)]
    changes = [("0xa", 2), ("0xa", 4), ("0xb", 0), ("0xa", 6), ("0xc", 0)]
    assert pair_changes(changes, executions) == {
        ("0xa", 2): ("0xa", 3),
        ("0xa", 4): ("0xa", 5),
        ("0xb", 0): ("0xb", 1),
    }
