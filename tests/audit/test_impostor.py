"""A contract emitting well-formed Federation events is not believed.

The impostor's round 1 was "accepted" with one vote, cast by a non-member on updates from
non-members. The audit sees that twice over: the code at the address is not the shipped
Federation, and the events break the round rules. On a real Federation the same acts,
sent as raw transactions by a non-member, revert: such events cannot exist there.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from daofed.audit import check_code, check_rounds, read_history, run_audit
from daofed.chain import AnvilNode, Federation, dev_accounts, load_artifact
from daofed.learning import DEFAULT_TASK, load_task
from daofed.protocol import genesis_blob
from daofed.storage import LocalStore
from tests.chain.raw import raw_call

from .impostor import Impostor, build_impostor


@pytest.fixture(scope="module")
def impostor(own_anvil: AnvilNode, tmp_path_factory: pytest.TempPathFactory) -> Impostor:
    return build_impostor(own_anvil.web3(), tmp_path_factory.mktemp("impostor") / "blobs")


@pytest.fixture(scope="module")
def opened(own_anvil: AnvilNode, impostor: Impostor) -> Federation:
    """The impostor, opened the way daofed opens any address (it answers deploymentBlock)."""
    return Federation.at(own_anvil.web3(), impostor.address)


def test_the_code_at_the_address_is_not_the_federation(opened: Federation) -> None:
    check = check_code(opened, opened.w3.eth.block_number)
    assert not check.ok
    shipped = len(bytes.fromhex(load_artifact("Federation").deployed_bytecode[2:]))
    assert check.problem is not None
    assert check.problem.startswith("its runtime code is ")
    assert check.problem.endswith(f" bytes long, the shipped one {shipped}")
    assert check.message == (
        f"the code at {opened.address} is not the daofed Federation this version ships: "
        f"{check.problem}"
    )


def test_the_round_rules_alone_flag_the_non_member_acts_and_the_missing_quorum(
    impostor: Impostor, opened: Federation
) -> None:
    history = read_history(opened)
    one = history.round(1)
    assert one.members == impostor.members and one.accepted_digest == impostor.accepted.digest
    first, second = (o.address for o in impostor.outsiders)
    findings = check_rounds(history)
    assert [(f.round, f.member, f.reason) for f in findings] == [
        (1, first, "non-member-update"),
        (1, second, "non-member-update"),
        (1, first, "non-member-vote"),
        (1, None, "no-quorum"),
    ]
    assert findings[2].message == f"round 1: {first} voted but is not a member of round 1"
    assert findings[3].message == (
        f"round 1: model {impostor.accepted.hex[:12]}.. at {impostor.accepted.locator!r} was "
        "accepted with 0 of the 3 member votes its quorum needs"
    )


def test_verifying_reports_the_code_and_the_broken_round_together(
    impostor: Impostor, opened: Federation
) -> None:
    report = run_audit(opened, impostor.store, verify=True)
    assert report.ok is False
    assert report.code is not None and not report.code.ok
    assert report.verification is not None
    reasons = {f.reason for f in report.verification.rounds[0].findings}
    assert {"non-member-vote", "non-member-update", "no-quorum"} <= reasons


def test_a_non_member_cannot_submit_or_vote_on_a_real_federation(
    own_anvil: AnvilNode, tmp_path: Path
) -> None:
    """The same acts as raw transactions, past daofed's client: the contract refuses them."""
    w3 = own_anvil.web3()
    store = LocalStore(tmp_path / "blobs")
    deployer, *members = dev_accounts(4)
    outsider = dev_accounts(10)[9]
    federation = Federation.deploy(
        w3,
        deployer,
        members=[m.address for m in members],
        quorum=3,
        submit_window=600,
        vote_window=600,
        rule="fedavg",
        genesis=store.put(genesis_blob(load_task(DEFAULT_TASK), 0)),
    )
    digest = hashlib.sha256(b"an outsider's update").digest()
    for function, args in (
        ("submitUpdate", (1, digest, digest.hex(), 100)),
        ("voteAggregate", (1, digest, digest.hex())),
    ):
        revert = raw_call(federation, outsider, function, *args)
        assert revert is not None
        assert (revert.error, revert.args_by_name) == (
            "NotMember",
            {"account": outsider.address, "round": 1},
        )
    one = read_history(federation).round(1)
    assert one.updates == () and one.votes == ()
    report = run_audit(federation, store, verify=True)
    assert report.ok is True and report.code is not None and report.code.ok
