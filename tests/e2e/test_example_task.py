"""Bring your own model, end to end: the task in ``examples/`` trained by member processes.

The README's "Bring your own model" commands, as a user runs them: write the example's
data files, deploy a federation pinned to ``examples/wine_task.py:task`` on anvil, run one
``daofed agent run`` process per member, then ``daofed audit --verify`` re-computes every
round and evaluates each model with the task's own metrics (macro F1 among them).
A member that brings another task is refused before training, naming the tensor.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from daofed.chain import AnvilNode, dev_account

REPO = Path(__file__).resolve().parents[2]
TASK = f"{REPO / 'examples' / 'wine_task.py'}:task"
MEMBERS = 3
ROUNDS = 2
pytestmark = [pytest.mark.slow, pytest.mark.anvil]


def daofed(*args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "daofed", *args],
        cwd=cwd, env={**os.environ, "PYTHONUNBUFFERED": "1"}, capture_output=True, text=True,
        check=check, timeout=300,
    )  # fmt: skip


@pytest.fixture(scope="module")
def federation(own_anvil: AnvilNode, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("wine")
    subprocess.run(
        [sys.executable, str(REPO / "examples" / "wine_task.py"), "split", "data",
         "--members", str(MEMBERS)],
        cwd=root, check=True, capture_output=True,
    )  # fmt: skip
    members = [arg for m in range(MEMBERS) for arg in ("-m", dev_account(m + 1).address)]
    daofed(
        "deploy", *members, "--quorum", str(MEMBERS), "--rpc-url", own_anvil.url, "--task", TASK,
        "--submit-window", "300", "--vote-window", "300", "--dev", "0", cwd=root,
    )  # fmt: skip
    agents = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "daofed",
                "agent",
                "run",
                "--task",
                TASK,
                "--data",
                f"data/member-{m + 1}.csv",
                "--dev",
                str(m + 1),
                "--rounds",
                str(ROUNDS),
                "--poll",
                "0.2",
                "--fit-config",
                "epochs=5",
            ],
            cwd=root,
            stdout=(root / f"agent-{m}.jsonl").open("wb"),
            stderr=(root / f"agent-{m}.err").open("wb"),
        )
        for m in range(MEMBERS)
    ]
    try:
        codes = [agent.wait(timeout=400) for agent in agents]
    finally:
        for agent in agents:
            if agent.poll() is None:
                agent.kill()
    errors = "\n".join((root / f"agent-{m}.err").read_text()[-1500:] for m in range(MEMBERS))
    assert codes == [0] * MEMBERS, errors
    return root


def test_members_train_the_example_task_to_consensus(federation: Path) -> None:
    voted: dict[int, set[str]] = {}
    for m in range(MEMBERS):
        for line in (federation / f"agent-{m}.jsonl").read_text().splitlines():
            event = json.loads(line)
            if event["step"] == "voted":
                voted.setdefault(event["round"], set()).add(event["detail"]["digest"])
    assert sorted(voted) == list(range(1, ROUNDS + 1))
    assert all(len(digests) == 1 for digests in voted.values())


def test_audit_verifies_and_scores_with_the_tasks_metrics(federation: Path) -> None:
    out = daofed(
        "audit",
        "--verify",
        "--task",
        TASK,
        "--test-data",
        "data/test.csv",
        "--json",
        cwd=federation,
    )
    report = json.loads(out.stdout)
    text = json.dumps(report)
    assert "macro_f1" in text and "wine-mlp" in text
    assert report["ok"] is True


def test_a_member_with_another_task_stops_before_training(federation: Path) -> None:
    out = daofed(
        "agent",
        "run",
        "--task",
        "digits-mlp",
        "--data",
        "data/member-1.csv",
        "--dev",
        "1",
        "--rounds",
        "1",
        cwd=federation,
        check=False,
    )
    assert out.returncode == 1
    assert "task 'digits-mlp' (the federation trains 'wine-mlp') builds a different model" in (
        out.stderr
    )
    assert "Traceback" not in out.stderr
