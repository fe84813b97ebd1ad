"""scripts/learning.py on a tiny grid: the table's shape and numbers, the JSON report."""

from __future__ import annotations

import json
from pathlib import Path

import learning
import pytest

RULES = ("fedavg", "fedavgm:lr=1.0,momentum=0.9")


def test_learning_script_prints_the_table_beside_centralised(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report.json"
    argv = [
        "--members", "3", "--alpha", "iid", "--rounds", "2", "--seeds", "0", "--workers", "1",
        "--rule", RULES[0], "--rule", RULES[1], "--json", str(out),
    ]  # fmt: skip
    assert learning.main(argv) == 0  # no acceptance configuration in this grid: nothing to fail
    captured = capsys.readouterr()
    assert "[3/3" in captured.err  # progress: one centralised run and two rules

    lines = [line for line in captured.out.splitlines() if line.startswith("|")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    assert header == [
        "members", "skew", "rule", "final", "best", "rounds to 95 %", "centralised",
    ]  # fmt: skip
    body = [[c.strip() for c in line.strip("|").split("|")] for line in lines[2:]]
    assert [row[2] for row in body] == [f"`{rule}`" for rule in RULES]

    report = json.loads(out.read_text())
    runs = {r["rule"]: r for r in report["runs"]}
    assert set(runs) == {learning.CENTRALIZED, *RULES}
    reference = runs[learning.CENTRALIZED]["final"]
    for row in body:
        members, skew, _rule, final, best, reach, centralised = row
        assert (members, skew) == ("3", "IID")
        mean, sd = (float(x) for x in final.split(" ± "))
        assert 0 <= mean <= float(best) <= 100 and sd == 0  # one seed: no spread
        assert float(centralised.split(" ± ")[0]) == pytest.approx(100 * reference, abs=0.05)
        assert reach == "-" or 1 <= float(reach) <= 2
    for rule in RULES:
        accuracies = runs[rule]["accuracies"]
        assert len(accuracies) == 2 and all(0 <= a <= 1 for a in accuracies)
    summary = {s["rule"]: s for s in report["summary"]}
    for rule in RULES:
        row = summary[rule]
        assert row["centralised"] == reference and row["best"] == max(runs[rule]["accuracies"])
        first = next(
            (i for i, a in enumerate(runs[rule]["accuracies"], 1) if a >= 0.95 * reference),
            None,
        )
        assert row["rounds_to_reach"] == [first]
