"""The secure-aggregation benchmark: quick run, sizes against the formats, tables and JSON.

Consistency only (message sizes, byte accounting, the private aggregate equal to the
rule's): never a CPU time, since machines vary and share their cores.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from bench import BenchConfig, BenchReport, print_report, write_json
from bench.aggregation import make_updates
from bench.machine import describe_machine
from bench.models import MODELS, synthetic_delta
from bench.secagg import (
    PLAIN_STEPS,
    PRIVATE_STEPS,
    SecAggConfig,
    SecAggResult,
    check_secagg,
    measure_secagg,
)
from daofed.learning.aggregation import MemberUpdate, parse_rule
from daofed.storage import encode


@pytest.fixture(scope="module")
def quick() -> SecAggResult:
    messages: list[str] = []
    result = measure_secagg(SecAggConfig.quick(), messages.append)
    assert len(messages) == len(result.cases)
    return result


def test_quick_run_measures_every_case(quick: SecAggResult) -> None:
    check_secagg(quick)
    assert quick.config == BenchConfig.quick_preset().secagg
    assert [(c.model, c.members) for c in quick.cases] == [("100k", 3), ("100k", 5)]
    assert [c.threshold for c in quick.cases] == [2, 3]  # a majority
    for case in quick.cases:
        assert list(case.private_steps) == list(PRIVATE_STEPS)
        assert list(case.plain_steps) == list(PLAIN_STEPS)
        assert case.private_cpu > 0 and case.plain_cpu > 0 and case.repeats == 1
        assert math.isclose(case.cpu_ratio, case.private_cpu / case.plain_cpu)
        assert len(case.digest) == 64


def test_sizes_are_the_encodings_sizes(quick: SecAggResult) -> None:
    cfg = MODELS["100k"]
    delta = synthetic_delta(cfg, seed=0)
    float32 = len(encode(delta))
    uint64 = len(encode({name: np.zeros(a.shape, np.uint64) for name, a in delta.items()}))
    for case in quick.cases:
        n, bitmap = case.members, math.ceil(case.members / 8)
        sizes = case.sizes
        assert sizes.update == sizes.model == float32
        # header (magic, version, kind, round label: 58) + member + sample count + mask set
        assert sizes.masked == 58 + 20 + 8 + bitmap + uint64
        assert sizes.setup == 142 + 204 * n  # docs/privacy.md, Costs
        assert sizes.recovery == 80 + bitmap + 53 * n  # every member submitted


def test_bytes_are_counted_as_the_table_says(quick: SecAggResult) -> None:
    for case in quick.cases:
        s, n = case.sizes, case.members
        assert case.plain_up == s.update and case.plain_down == (n - 1) * s.update
        assert case.private_up == s.setup + s.masked + s.recovery
        assert case.private_down == (n - 1) * case.private_up
        assert case.private_up > case.plain_up and case.private_down > case.plain_down
        # a masked update is 8 bytes per parameter, a plain one 4: about twice the bytes
        assert 2.0 < case.bytes_ratio < 2.01


def test_the_digest_is_the_rules_aggregate(quick: SecAggResult) -> None:
    """The bench's private aggregate equals fedavg:secagg=t on the same plaintext updates."""
    case = quick.cases[0]
    updates: list[MemberUpdate] = make_updates(MODELS[case.model], case.members)
    rule = parse_rule(f"fedavg:secagg={case.threshold}")
    assert hashlib.sha256(encode(rule.aggregate(updates))).hexdigest() == case.digest


def test_tables_and_json(quick: SecAggResult, tmp_path: Path) -> None:
    report = BenchReport(
        date="now", machine=describe_machine(), quick=True, seconds=1.0, secagg=quick
    )
    out = io.StringIO()
    print_report(report, Console(file=out, width=240))
    text = out.getvalue()
    assert "Private (fedavg:secagg=t" in text and "CPU s per step" in text and "not sent" in text
    assert "read masked" in text and "plain fedavg" in text
    path = tmp_path / "bench.json"
    write_json(report, path)
    cases = json.loads(path.read_text())["report"]["secagg"]["cases"]
    assert [c["members"] for c in cases] == [3, 5]
    assert cases[0]["private_up"] == quick.cases[0].private_up
    assert cases[0]["bytes_ratio"] > 2 and set(cases[0]["private_steps"]) == set(PRIVATE_STEPS)
