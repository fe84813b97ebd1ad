"""Memory of a long-running member agent: resident set size round after round.

The agent keeps only what the current round needs (its base, its update, the round's
aggregate) and drops it when the next round opens, so its memory must stay flat however
many rounds it runs. This runs one member as its own OS process, the real
:class:`~daofed.agent.MemberAgent` in the :func:`~daofed.agent.runner.run_agent` loop of
``daofed agent run`` without any instruments (``python -m bench.member --untimed``),
in a federation on anvil whose other members are agents in this process, one local blob
store shared by all, FedAvg, quorum = every member.

Each round the process's memory is read from ``/proc/<pid>/status`` at the same point of
its work: after it has voted, while it waits for the round to end holding that round's
work (the other members vote only then, so the round cannot end and move it on first).
``rss`` is ``VmRSS`` at that point; ``peak`` is ``VmHWM``, the highest RSS since the
previous round's reading (reset through ``/proc/<pid>/clear_refs``), i.e. during this
round's training and aggregation. Linux only, like the other benchmarks. 1 MiB = 2^20 B.

Growth is measured from round 10 (when allocator pools and caches have warmed up) to the
last round; the goal is that over those rounds the agent retains less than one update's
bytes in total: a leak of anything per round would exceed it.
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from rich.table import Table
from web3 import Web3

from bench.chain import bench_account, bench_accounts, fund
from bench.member import MemberRun, member_processes, member_stderr, start_members
from bench.models import MODELS, parameter_count
from daofed.agent import MemberAgent, MemberSettings
from daofed.chain import AnvilNode, Federation, Phase
from daofed.errors import DaofedError
from daofed.learning.builtin_tasks import mlp_task
from daofed.learning.data import split_federated
from daofed.learning.model import model_spec
from daofed.protocol import genesis_blob
from daofed.storage import LocalStore

MIB = 2**20
GROWTH_FROM = 10
"""Growth is measured from this round (or the first, in shorter runs) to the last."""
WINDOW = 600  # seconds: no deadline passes in a healthy run; rounds end by quorum
ROUND_TIMEOUT = 600.0
POLL = 0.05  # seconds between this process's chain reads while waiting


@dataclass(frozen=True)
class MemoryConfig:
    """What to run: rounds, federation size, model (a name in :data:`MODELS`), training."""

    rounds: int = 50
    members: int = 3
    model: str = "5M"
    epochs: int = 1
    seed: int = 0
    poll: float = 0.2  # the measured agent's poll interval

    @classmethod
    def quick(cls) -> MemoryConfig:
        """Return a few rounds of the small model (about a minute): for CI."""
        return cls(rounds=4, members=2, model="100k")


@dataclass(frozen=True)
class RoundMemory:
    """The measured agent's memory in one round, in MiB."""

    round: int
    rss_mib: float  # VmRSS after voting, holding the round's work
    peak_mib: float  # VmHWM since the previous reading: training and aggregating this round
    seconds: float  # from the previous reading to this one


@dataclass(frozen=True)
class MemoryResult:
    """One agent's memory over every round of one federation."""

    config: MemoryConfig
    parameters: int
    update_mib: float  # one float32 update of the model: what a retained update would add
    ready_mib: float  # RSS after imports and data loading, before round 1
    rounds: tuple[RoundMemory, ...]

    @property
    def first(self) -> float:
        """RSS after the first round."""
        return self.rounds[0].rss_mib

    @property
    def last(self) -> float:
        """RSS after the last round."""
        return self.rounds[-1].rss_mib

    @property
    def max(self) -> float:
        """Highest RSS at any round's reading."""
        return max(r.rss_mib for r in self.rounds)

    @property
    def max_peak(self) -> float:
        """Highest RSS at any moment (the peaks)."""
        return max(r.peak_mib for r in self.rounds)

    @property
    def growth_from(self) -> int:
        """The round growth is measured from: :data:`GROWTH_FROM`, or 1 in shorter runs."""
        return GROWTH_FROM if len(self.rounds) > GROWTH_FROM else 1

    @property
    def growth(self) -> float:
        """RSS after the last round minus RSS after round :attr:`growth_from`, MiB."""
        return self.last - self.rounds[self.growth_from - 1].rss_mib

    @property
    def peak_growth(self) -> float:
        """The same for the per-round peaks."""
        return self.rounds[-1].peak_mib - self.rounds[self.growth_from - 1].peak_mib

    @property
    def flat(self) -> bool:
        """Neither grew by one update's bytes over the measured rounds."""
        return max(self.growth, self.peak_growth) < self.update_mib


Progress = Callable[[str], None]


def measure_memory(
    config: MemoryConfig | None = None, progress: Progress = lambda _m: None
) -> MemoryResult:
    """Start an anvil of its own, run :func:`run_memory` on it and stop it."""
    with AnvilNode.start() as anvil:
        return run_memory(anvil.web3(), anvil.url, config or MemoryConfig(), progress)


def run_memory(
    w3: Web3, rpc_url: str, config: MemoryConfig, progress: Progress = lambda _m: None
) -> MemoryResult:
    """Run ``config.rounds`` rounds on the chain at ``rpc_url``; read member 0's memory."""
    model = MODELS[config.model]
    task = mlp_task(model)
    split = split_federated(task.dataset(), config.members, alpha=None, seed=config.seed)
    deployer, accounts = bench_account(0), bench_accounts(1, config.members)
    fund(w3, [deployer, *accounts])
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # every member trains on one thread, as `daofed agent run` does
    try:
        with tempfile.TemporaryDirectory(prefix="daofed-bench-memory-") as tmp:
            workdir = Path(tmp)
            store = LocalStore(workdir / "blobs")
            run = MemberRun(
                config.members, model, config.epochs, config.seed, rpc_url,
                f"local:{workdir / 'blobs'}", config.rounds, config.poll, untimed=True,
            )  # fmt: skip
            with member_processes(run, [0], workdir) as (proc,):
                ready = process_memory(proc.pid)[0]
                federation = Federation.deploy(
                    w3,
                    deployer,
                    members=[a.address for a in accounts],
                    quorum=config.members,
                    submit_window=WINDOW,
                    vote_window=WINDOW,
                    rule="fedavg",
                    genesis=store.put(genesis_blob(task, config.seed)),
                )
                others = [
                    MemberAgent(
                        federation,
                        store,
                        accounts[i],
                        task,
                        task.as_data(split.members[i].train),
                        MemberSettings(options={"epochs": config.epochs}, seed=config.seed),
                    )
                    for i in range(1, config.members)
                ]
                reset_peak(proc.pid)
                start_members([proc], federation)
                rounds = _run_rounds(federation, proc, accounts[0].address, others, config,
                                     workdir, progress)  # fmt: skip
                proc.wait(timeout=ROUND_TIMEOUT)
                if proc.returncode != 0:
                    raise DaofedError(f"the measured member failed:\n{member_stderr(workdir, 0)}")
    finally:
        torch.set_num_threads(threads)
    return MemoryResult(
        config=config,
        parameters=parameter_count(model),
        update_mib=model_spec(model).encoded_size / MIB,
        ready_mib=ready / MIB,
        rounds=tuple(rounds),
    )


def _run_rounds(
    federation: Federation,
    proc: subprocess.Popen[str],
    measured: str,
    others: list[MemberAgent],
    config: MemoryConfig,
    workdir: Path,
    progress: Progress,
) -> list[RoundMemory]:
    """Step the in-process members through every round; read the process once per round."""
    rounds: list[RoundMemory] = []
    last = time.monotonic()
    for r in range(1, config.rounds + 1):
        deadline = time.monotonic() + ROUND_TIMEOUT
        while not federation.has_voted(r, measured):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise DaofedError(
                    f"the measured member did not vote in round {r}:\n{member_stderr(workdir, 0)}"
                )
            if federation.current_round() != r:
                raise DaofedError(f"round {r} ended before the measured member voted in it")
            if federation.phase(r) is Phase.VOTE:
                for agent in others:
                    agent.aggregate(r)  # ready to vote, but hold the vote (see module doc)
            else:
                for agent in others:
                    agent.step()
            time.sleep(POLL)
        rss, peak = process_memory(proc.pid)
        reset_peak(proc.pid)
        now = time.monotonic()
        rounds.append(RoundMemory(r, rss / MIB, peak / MIB, now - last))
        last = now
        progress(f"round {r}: RSS {rss / MIB:.1f} MiB, peak {peak / MIB:.1f} MiB")
        while federation.current_round() == r:
            for agent in others:
                agent.step()
            time.sleep(POLL)
    return rounds


def process_memory(pid: int) -> tuple[int, int]:
    """Return the resident set size of process ``pid`` and its high-water mark, in bytes."""
    fields = dict(
        line.split(":", 1)
        for line in Path(f"/proc/{pid}/status").read_text().splitlines()
        if ":" in line
    )
    return int(fields["VmRSS"].split()[0]) * 1024, int(fields["VmHWM"].split()[0]) * 1024


def reset_peak(pid: int) -> None:
    """Make process ``pid``'s high-water mark start again from its current RSS."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def check_memory(result: MemoryResult) -> None:
    """Assert the measurement is sane (never how much memory): for the quick run in CI."""
    assert [r.round for r in result.rounds] == list(range(1, result.config.rounds + 1))
    assert result.ready_mib > 0
    assert all(r.rss_mib > 0 and r.peak_mib >= r.rss_mib for r in result.rounds), result.rounds
    assert all(r.seconds > 0 for r in result.rounds)


def memory_table(result: MemoryResult) -> Table:
    """Show the readings round by round as a rich table."""
    c = result.config
    table = Table(
        title=f"Member agent memory: {c.members} members, {c.model} model "
        f"({result.parameters:,} parameters, {result.update_mib:.1f} MiB per update), "
        f"{c.epochs} epoch(s) per round; RSS after imports {result.ready_mib:.1f} MiB"
    )
    for column in ("round", "RSS MiB", "peak MiB", "seconds"):
        table.add_column(column, justify="right")
    for r in result.rounds:
        table.add_row(str(r.round), f"{r.rss_mib:.1f}", f"{r.peak_mib:.1f}", f"{r.seconds:.1f}")
    return table


def summary(result: MemoryResult) -> str:
    """First, last and highest RSS, and the growth over the measured rounds."""
    return (
        f"RSS first {result.first:.1f} MiB, last {result.last:.1f} MiB, max {result.max:.1f} "
        f"MiB (peak {result.max_peak:.1f}); growth from round {result.growth_from} to "
        f"{result.rounds[-1].round}: RSS {result.growth:+.1f} MiB, peak "
        f"{result.peak_growth:+.1f} MiB (one update is {result.update_mib:.1f} MiB)"
    )


def main(argv: list[str] | None = None) -> None:
    """``python -m bench.memory [--rounds 50] [--members 3] [--model 5M]``."""
    import argparse

    from rich.console import Console

    defaults = MemoryConfig()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=defaults.rounds)
    parser.add_argument("--members", type=int, default=defaults.members)
    parser.add_argument("--model", choices=sorted(MODELS), default=defaults.model)
    parser.add_argument("--epochs", type=int, default=defaults.epochs)
    args = parser.parse_args(argv)
    config = MemoryConfig(args.rounds, args.members, args.model, args.epochs)
    err = Console(stderr=True)
    result = measure_memory(config, progress=lambda m: err.print(f"[cyan]memory[/] {m}"))
    check_memory(result)
    console = Console()
    console.print(memory_table(result))
    console.print(summary(result))


if __name__ == "__main__":
    main()
