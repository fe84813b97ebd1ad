"""Real daofed processes for end-to-end tests: the CLI as a user runs it, and member agents.

Each agent is its own ``daofed agent run`` OS process with an encrypted keystore; its
JSON event lines go to a file a test reads while it runs, its stderr to another that a
failed wait prints.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from daofed.chain import Federation, connect, dev_account
from daofed.chain.deployment import Deployment
from daofed.chain.keystore import write_keystore

PASSWORD = "correct horse battery staple"
MEMBERS = 4
"""Members of the end-to-end federations (the keystores and data files of conftest.py)."""


def env() -> dict[str, str]:
    """The environment of every daofed process: the keystores' password, unbuffered output."""
    return {**os.environ, "DAOFED_PASSWORD": PASSWORD, "PYTHONUNBUFFERED": "1"}


def daofed(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a subprocess, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "daofed", *args],
        cwd=cwd,
        env=env(),
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )


def read_document(process: subprocess.Popen[str], what: str, timeout: float) -> dict[str, Any]:
    """Read the one JSON document a long-running ``--json`` command prints once it is up.

    ``what`` names the command in the failure; the process is left running.
    """
    assert process.stdout is not None
    text = ""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            raise AssertionError(f"{what} exited {process.wait()} before its JSON: {text}")
        text += line
        if line.rstrip() == "}":
            document: dict[str, Any] = json.loads(text)
            return document
    raise AssertionError(f"{what} printed no JSON within {timeout} s: {text}")


def deploy_members(root: Path, rpc_url: str, store: str, quorum: int) -> None:
    """``daofed deploy`` of the dev accounts 1..MEMBERS in ``root``, with 300 s windows.

    The dev account 0 pays; the genesis model goes to ``store``.
    """
    members = [arg for m in range(MEMBERS) for arg in ("-m", dev_account(m + 1).address)]
    daofed(
        "deploy", *members, "--quorum", str(quorum), "--rpc-url", rpc_url, "--store", store,
        "--submit-window", "300", "--vote-window", "300", "--dev", "0", cwd=root,
    )  # fmt: skip


def write_keystores(directory: Path, members: int) -> list[Path]:
    """Encrypted keystores of the dev accounts 1..members, as ``daofed account import`` writes.

    Written in this process (tests/cli runs the command itself): a CLI process per member
    would each spend seconds importing daofed.
    """
    return [write_keystore(dev_account(m + 1), PASSWORD, directory).path for m in range(members)]


@dataclass
class Federated:
    """One deployed federation and its member processes.

    ``options`` go to every agent (``--rounds``, ``--epochs``...); ``start_agent`` adds a
    member's own (its ``--store``).
    """

    root: Path
    keystores: list[Path]
    data: Path  # the members' data files, from ``daofed data split``
    agents: dict[int, subprocess.Popen[bytes]]
    options: tuple[str, ...] = ()

    @property
    def deployment(self) -> Deployment:
        return Deployment.load(self.root / "daofed.toml")

    def federation(self) -> Federation:
        """The deployed contract, through the RPC URL its deployment file names."""
        deployment = self.deployment
        w3 = connect(deployment.rpc_url)
        return Federation.at(w3, deployment.contract, deployment.deploy_block)

    def log(self, member: int) -> Path:
        return self.root / f"agent-{member}.jsonl"

    def events(self, member: int) -> list[dict[str, object]]:
        if not self.log(member).exists():
            return []
        lines = self.log(member).read_text().splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    def start_agent(self, member: int, *options: str) -> None:
        with (
            self.log(member).open("ab") as out,
            (self.root / f"agent-{member}.err").open("ab") as err,
        ):
            self.agents[member] = subprocess.Popen(
                [
                    sys.executable, "-m", "daofed", "agent", "run",
                    "--keystore", str(self.keystores[member]),
                    "--data", str(self.data / f"member-{member + 1}.npz"),
                    *self.options, *options,
                ],
                cwd=self.root, env=env(), stdout=out, stderr=err,
            )  # fmt: skip

    def wait_for(self, predicate: Callable[[], bool], what: str, timeout: float = 240) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            crashed = {m: p.returncode for m, p in self.agents.items() if p.poll() not in (None, 0)}
            if crashed or time.monotonic() > deadline:
                raise AssertionError(
                    f"{what}: agents exited {crashed} or timed out\n{self.stderr()}"
                )
            time.sleep(0.2)

    def wait_all(self, timeout: float = 240) -> None:
        self.wait_for(
            lambda: all(p.poll() == 0 for p in self.agents.values()), "all agents finish", timeout
        )

    def stderr(self) -> str:
        return "\n".join(
            f"--- member {m}:\n" + (self.root / f"agent-{m}.err").read_text()[-1500:]
            for m in sorted(self.agents)
        )

    def stop(self) -> None:
        for process in self.agents.values():
            if process.poll() is None:
                process.kill()
                process.wait()
