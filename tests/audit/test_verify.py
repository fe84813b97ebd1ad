"""verify_history: every round re-checked; tampering and wrong stores are named exactly."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest

from daofed.audit import History, Verdict, verify_history
from daofed.errors import ConfigError, StorageError
from daofed.storage import LocalStore

from .scenario import Scenario

StoreCopy = Callable[[], LocalStore]


def test_every_finished_round_verifies(scenario: Scenario, history: History) -> None:
    result = verify_history(history, scenario.store)
    assert result.ok and result.findings == ()
    assert [r.verdict for r in result.rounds] == [
        Verdict.VERIFIED,
        Verdict.VERIFIED,
        Verdict.CLOSED,
        Verdict.OPEN,
    ]
    for verified, record in zip(result.rounds[:2], history.rounds[:2], strict=True):
        assert verified.recomputed_digest == record.accepted_digest
    assert result.model.names == ("0.bias", "0.weight", "2.bias", "2.weight")
    assert result.task == "digits-mlp"  # as the genesis model pins it


def test_a_members_bad_update_is_an_exclusion_of_a_verified_round(
    scenario: Scenario, history: History
) -> None:
    two = verify_history(history, scenario.store).rounds[1]
    assert two.verdict is Verdict.VERIFIED
    (exclusion,) = two.exclusions
    assert exclusion.member == scenario.members[2].address
    assert exclusion.reason == "not-safetensors"
    assert set(two.included) == {m.address for m in scenario.members[:2]}


def test_an_overwritten_update_blob_names_its_round_and_member(
    scenario: Scenario, history: History, store_copy: StoreCopy
) -> None:
    store = store_copy()
    victim = history.round(1).updates[1]
    path = store.path_for(victim.digest)
    path.write_bytes(path.read_bytes()[:-4] + b"\x00\x00\x80\x7f")  # one weight changed

    result = verify_history(history, store)

    assert not result.ok
    one = result.rounds[0]
    assert one.verdict is Verdict.MISMATCH
    assert one.recomputed_digest != history.round(1).accepted_digest
    by_reason = {f.reason: f for f in one.findings}
    assert set(by_reason) == {"aggregate-mismatch", "wrong-digest"}
    culprit = by_reason["wrong-digest"]
    assert (culprit.round, culprit.member, culprit.digest) == (1, victim.member, victim.digest)
    assert culprit.message == (
        f"round 1: update of {victim.member} (digest {victim.digest.hex()[:12]}..) "
        "does not match its blob: wrong-digest"
    )
    recomputed, accepted = one.recomputed_digest, history.round(1).accepted_digest
    assert recomputed is not None and accepted is not None
    assert by_reason["aggregate-mismatch"].message.startswith(
        f"round 1: recomputed aggregate {recomputed.hex()[:12]}.. != accepted "
        f"{accepted.hex()[:12]}.."
    )
    assert [r.verdict for r in result.rounds[1:]] == [
        Verdict.VERIFIED,
        Verdict.CLOSED,
        Verdict.OPEN,
    ]


def test_a_deleted_update_blob_is_reported_missing(
    scenario: Scenario, history: History, store_copy: StoreCopy
) -> None:
    store = store_copy()
    victim = history.round(2).updates[1]
    store.path_for(victim.digest).unlink()
    two = verify_history(history, store).rounds[1]
    assert two.verdict is Verdict.MISMATCH
    assert {(f.member, f.reason) for f in two.findings if f.member} == {
        (victim.member, "missing-blob"),
        (scenario.members[2].address, "not-safetensors"),  # a suspect too: it is excluded
    }


def test_a_tampered_accepted_model_is_blamed_on_its_own_round(
    history: History, store_copy: StoreCopy
) -> None:
    """Round 2 still verifies: its base is the bytes the auditor recomputed for round 1."""
    store = store_copy()
    accepted = history.round(1).accepted_digest
    assert accepted is not None
    store.path_for(accepted).write_bytes(b"a different model")
    one, two, *_ = verify_history(history, store).rounds
    assert one.verdict is Verdict.MISMATCH and two.verdict is Verdict.VERIFIED
    (finding,) = one.findings
    assert (finding.round, finding.member, finding.reason) == (1, None, "wrong-digest")
    assert finding.message.startswith(
        f"round 1: accepted model {accepted.hex()[:12]}.. does not match its blob: wrong-digest ("
    )


def test_a_store_without_the_genesis_model_is_the_wrong_store(
    history: History, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match="does not hold this federation's genesis model") as error:
        verify_history(history, LocalStore(tmp_path / "elsewhere"))
    assert history.genesis_digest.hex() in str(error.value) and "--store" in str(error.value)


def test_a_corrupt_genesis_copy_stops_the_audit(history: History, store_copy: StoreCopy) -> None:
    store = store_copy()
    store.path_for(history.genesis_digest).write_bytes(b"not the genesis")
    with pytest.raises(StorageError, match="does not match the digest committed on chain"):
        verify_history(history, store)


def test_the_rule_in_force_is_the_one_recomputed(scenario: Scenario, history: History) -> None:
    """Claiming round 1 ran under another rule makes its accepted digest unreproducible."""
    rounds = list(history.rounds)
    rounds[0] = dataclasses.replace(rounds[0], rule="median")
    forged = dataclasses.replace(history, rounds=tuple(rounds))
    one = verify_history(forged, scenario.store).rounds[0]
    assert one.verdict is Verdict.MISMATCH and one.rule == "median"
    assert [f.reason for f in one.findings] == ["aggregate-mismatch"]


def test_a_base_that_is_not_the_previous_result_is_a_mismatch(
    scenario: Scenario, history: History
) -> None:
    rounds = list(history.rounds)
    rounds[3] = dataclasses.replace(rounds[3], base_digest=history.genesis_digest)
    forged = dataclasses.replace(history, rounds=tuple(rounds))
    four = verify_history(forged, scenario.store).rounds[3]
    assert four.verdict is Verdict.MISMATCH
    (finding,) = four.findings
    assert finding.reason == "base-mismatch"
    assert finding.message == (
        f"round 4: base {history.genesis_digest.hex()[:12]}.. is not the model round 3 left "
        f"({history.round(3).base_digest.hex()[:12]}..)"
    )


def test_an_unknown_rule_is_reported_not_raised(scenario: Scenario, history: History) -> None:
    rounds = list(history.rounds)
    rounds[1] = dataclasses.replace(rounds[1], rule="majority-of-friends")
    two = verify_history(dataclasses.replace(history, rounds=tuple(rounds)), scenario.store)
    assert [f.reason for f in two.rounds[1].findings] == ["unknown-rule"]
