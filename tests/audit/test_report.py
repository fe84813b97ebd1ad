"""run_audit: the whole audit in one call, as ``daofed audit`` runs it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from daofed.audit import History, run_audit
from daofed.errors import ConfigError

from .scenario import Scenario


def test_history_alone_needs_no_store_and_checks_nothing(
    scenario: Scenario, history: History
) -> None:
    report = run_audit(scenario.federation)
    assert report.ok is None and not report.verified  # reading events proves nothing
    assert report.code is None and report.verification is None and report.evaluation is None
    assert report.history.rounds == history.rounds


def test_verify_evaluate_and_plot_together(scenario: Scenario, tmp_path: Path) -> None:
    plot = tmp_path / "audit.png"
    report = run_audit(scenario.federation, scenario.store, verify=True, plot=plot)
    assert report.ok is True and report.verified and report.verification is not None
    assert report.code is not None and report.code.ok
    assert report.code.message.startswith(
        f"runtime code at {scenario.federation.address} is the shipped Federation (solc 0.8.37, "
        "sources sha256 "
    )
    assert report.evaluation is not None and len(report.evaluation.rounds) == 4
    assert report.evaluation.task == "digits-mlp" and report.unevaluated is None
    assert report.plot == plot and plot.stat().st_size > 0


def test_verifying_evaluates_the_pinned_task_too(scenario: Scenario) -> None:
    report = run_audit(scenario.federation, scenario.store, verify=True)
    assert report.evaluation is not None
    assert report.evaluation.metrics == ("accuracy", "loss")


def test_verifying_without_a_store_says_how_to_give_one(scenario: Scenario) -> None:
    with pytest.raises(ConfigError, match="--store"):
        run_audit(scenario.federation, verify=True)


def test_an_auditors_task_that_does_not_fit_stops_the_audit(scenario: Scenario) -> None:
    with pytest.raises(ConfigError, match=r"builds a different model: tensor '0\.weight'"):
        run_audit(scenario.federation, scenario.store, verify=True, task="breast-cancer")


def test_json_spells_every_digest_one_way(scenario: Scenario) -> None:
    """0x and 64 lower-case hex digits: a script can match any digest against any other."""
    document = run_audit(scenario.federation, scenario.store, verify=True).to_json()
    digests = dict(_digests(document))
    assert len(digests) > 20  # the genesis, bases, updates, votes, tallies, metrics
    assert {path: value for path, value in digests.items() if not _one_spelling(value)} == {}
    rounds = document["history"]["rounds"]
    assert rounds[1]["base_digest"] == rounds[0]["accepted_digest"]
    verified = document["verification"]["rounds"][0]
    assert verified["recomputed_digest"] == rounds[0]["accepted_digest"]
    assert document["evaluation"]["rounds"][0]["digest"] == document["history"]["genesis_digest"]


def _digests(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every value under a key that names a digest or commitment, with where it is."""
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}"
            if key.endswith(("digest", "commitment", "aggregate")) and item is not None:
                yield where, item
            else:
                yield from _digests(item, where)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _digests(item, f"{path}[{index}]")


def _one_spelling(value: Any) -> bool:
    return isinstance(value, str) and re.fullmatch(r"0x[0-9a-f]{64}", value) is not None
