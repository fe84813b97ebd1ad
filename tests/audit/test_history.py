"""read_history rebuilds every round from events alone, on a chain it did not write."""

from __future__ import annotations

from pathlib import Path

import pytest

from daofed.audit import (
    History,
    HistoryReader,
    Outcome,
    Verdict,
    eventlog,
    read_history,
    verify_history,
)
from daofed.chain import Federation, advance_time, dev_accounts, embedded_chain
from daofed.learning import DEFAULT_TASK, load_task
from daofed.protocol import genesis_blob
from daofed.storage import LocalStore

from .governed import Governed
from .scenario import MEMBERS, WINDOW, Scenario


def test_every_round_and_its_outcome_is_rebuilt(history: History) -> None:
    assert [r.round for r in history.rounds] == [1, 2, 3, 4]
    assert [r.outcome for r in history.rounds] == [
        Outcome.ACCEPTED,
        Outcome.ACCEPTED,
        Outcome.CLOSED,
        Outcome.OPEN,
    ]
    assert [len(r.updates) for r in history.rounds] == [3, 3, 3, 1]
    assert [len(r.votes) for r in history.rounds] == [3, 3, 0, 0]


def test_bases_chain_from_genesis_through_accepted_models(history: History) -> None:
    one, two, three, four = history.rounds
    assert one.base_digest == history.genesis_digest
    assert two.base_digest == one.accepted_digest
    assert three.base_digest == two.accepted_digest
    assert four.base_digest == three.base_digest  # closed: the base carries over
    assert three.result_digest == three.base_digest


def test_updates_carry_member_digest_cid_and_samples(scenario: Scenario, history: History) -> None:
    one = history.round(1)
    samples = {
        account.address: len(data.train.y)
        for account, data in zip(scenario.members, scenario.split.members, strict=True)
    }
    assert {u.member: u.num_samples for u in one.updates} == samples
    for update in one.updates:
        assert update.cid == update.digest.hex()  # the local store's locator is the hex digest
        assert scenario.store.path_for(update.digest).is_file()
    bad = [u for u in history.round(2).updates if u.member == scenario.members[2].address]
    assert len(bad) == 1 and bad[0].num_samples == 100


def test_records_keep_where_their_events_were_emitted(scenario: Scenario, history: History) -> None:
    federation = scenario.federation
    for record in history.rounds[:2]:
        for records, events in (
            (record.updates, federation.updates(record.round)),
            (record.votes, federation.votes(record.round)),
        ):
            where = [(e.block_number, e.tx_hash, e.log_index, e.digest) for e in events]
            assert [(r.block_number, r.tx_hash, r.log_index, r.digest) for r in records] == where


def test_proposal_votes_keep_where_their_events_were_emitted(
    governed: Governed, governed_history: History
) -> None:
    events = governed.federation.proposal_votes()
    assert events
    records = [v for p in governed_history.proposals for v in p.votes]
    assert sorted((r.block_number, r.log_index, r.tx_hash) for r in records) == sorted(
        (e.block_number, e.log_index, e.tx_hash) for e in events
    )


def test_votes_are_tallied_per_digest_with_their_voters(
    scenario: Scenario, history: History
) -> None:
    for record in history.rounds[:2]:
        (tally,) = record.tallies
        assert tally.digest == record.accepted_digest
        assert tally.votes == MEMBERS == record.quorum
        assert set(tally.voters) == {m.address for m in scenario.members}


def test_rule_members_and_config_come_from_the_rounds_snapshot(
    scenario: Scenario, history: History
) -> None:
    addresses = tuple(m.address for m in scenario.members)
    for record in history.rounds:
        assert record.rule == "fedavg" and record.config_version == 1
        assert record.members == addresses and record.member_count == MEMBERS
    (config,) = history.configs
    assert (config.version, config.rule, config.quorum, config.from_round) == (1, "fedavg", 3, 1)
    assert [(c.account, c.from_round) for c in history.membership] == [(a, 1) for a in addresses]


def test_every_act_carries_the_time_of_its_block(history: History) -> None:
    for record in history.rounds:
        assert record.submit_deadline == record.opened_timestamp + WINDOW
        times = [u.timestamp for u in record.updates] + [v.timestamp for v in record.votes]
        assert all(record.opened_timestamp <= time for time in times)
        assert all(u.timestamp < record.submit_deadline for u in record.updates)
        assert all(v.timestamp < record.vote_deadline for v in record.votes)
    assert history.latest_timestamp >= history.rounds[-1].opened_timestamp


def test_a_closed_round_names_who_closed_it(scenario: Scenario, history: History) -> None:
    """Anyone may close an expired round; the sender of the closing transaction is kept."""
    assert [r.closed_by for r in history.rounds] == [None, None, scenario.members[0].address, None]


def test_a_round_past_its_vote_deadline_that_nobody_closed_is_expired(tmp_path: Path) -> None:
    w3 = embedded_chain()
    deployer, member = dev_accounts(2)
    store = LocalStore(tmp_path / "blobs")
    federation = Federation.deploy(
        w3,
        deployer,
        members=[member.address],
        quorum=1,
        submit_window=60,
        vote_window=60,
        rule="fedavg",
        genesis=store.put(genesis_blob(load_task(DEFAULT_TASK), 0)),
    )
    (running,) = read_history(federation).rounds
    assert running.outcome is Outcome.OPEN

    advance_time(w3, 121)
    history = read_history(federation)
    (expired,) = history.rounds
    assert expired.outcome is Outcome.EXPIRED and expired.closed_by is None
    assert history.latest_timestamp >= expired.vote_deadline
    (verified,) = verify_history(history, store).rounds
    assert verified.verdict is Verdict.EXPIRED

    federation.close_round(deployer, 1)  # anyone may
    closed, _ = read_history(federation).rounds
    assert (closed.outcome, closed.closed_by) == (Outcome.CLOSED, deployer.address)


def test_a_fresh_client_with_only_the_address_reads_the_same_history(
    scenario: Scenario, history: History
) -> None:
    """No deploy block, no store, no state: the address and a node are enough."""
    stranger = Federation.at(scenario.federation.w3, scenario.federation.address)
    again = read_history(stranger, to_block=history.latest_block)
    assert again == history
    assert history.deploy_block == stranger.deploy_block
    assert history.contract == scenario.federation.address


def test_a_history_up_to_an_earlier_block_stops_there(history: History, scenario: Scenario) -> None:
    one = history.round(1)
    accepted_block = max(v.block_number for v in one.votes)
    early = read_history(scenario.federation, to_block=accepted_block)
    assert [r.outcome for r in early.rounds] == [Outcome.ACCEPTED, Outcome.OPEN]
    assert early.rounds[0] == one


@pytest.mark.parametrize("reread", [0, 1, 64])
def test_a_reader_following_the_chain_reads_what_a_fresh_read_does(
    history: History, scenario: Scenario, reread: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Moving forward block by block (and back) gives the history a fresh read gives."""
    monkeypatch.setattr(eventlog, "REREAD_BLOCKS", reread)
    reader = HistoryReader(scenario.federation)
    for block in range(history.deploy_block, history.latest_block + 1):
        assert reader.read(block) == read_history(scenario.federation, to_block=block)
    assert reader.read(history.deploy_block + 2) == read_history(
        scenario.federation, to_block=history.deploy_block + 2
    )
    assert reader.read(history.latest_block) == history


def test_a_reader_over_governance_keeps_proposals_and_membership(
    governed: Governed, governed_history: History
) -> None:
    reader = HistoryReader(governed.federation)
    half = (governed_history.deploy_block + governed_history.latest_block) // 2
    assert reader.read(half) == read_history(governed.federation, to_block=half)
    assert reader.read(governed_history.latest_block) == governed_history
