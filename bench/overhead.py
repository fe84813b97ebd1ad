"""Round overhead: a real daofed round against the same training and FedAvg in one process.

The daofed side is what a deployment runs: N member processes (:mod:`bench.member`,
the real agent and its run loop), anvil and an IPFS node, all on this machine. Each
member trains, uploads its update to IPFS, submits its digest, waits for the others,
fetches and aggregates every update, uploads the aggregate and votes; the round ends when
the last (quorum = N) vote accepts it. The baseline (:mod:`bench.baseline`) does
the same arithmetic in one process and must reach the same model digest.

Members run ``rounds`` rounds; the last one is the measurement (the first also pays for
warm-up: first torch calls, new connections). Rounds are delimited by the members' own
clocks: a round ends when the finalizing vote's receipt arrives. Note that the member
processes share this machine's cores, so on a machine with fewer cores than members
their training is time-sliced: the CPU seconds per process say where the work went.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from web3 import Web3

from bench.baseline import BaselineRound, run_baseline
from bench.chain import bench_account, bench_accounts, fund
from bench.cpu import CpuSampler
from bench.member import (
    MemberRun,
    member_processes,
    member_stderr,
    open_bench_store,
    start_members,
)
from bench.models import parameter_count
from bench.timeline import Interval, MemberAccount, account, overhead_of
from daofed.chain import Federation
from daofed.errors import DaofedError
from daofed.learning.builtin_tasks import mlp_task
from daofed.learning.data import split_federated
from daofed.learning.model import ModelConfig
from daofed.protocol import genesis_blob

GOAL_OVERHEAD = 0.05
"""The goal: at 10 members a 5M-parameter round takes at most 5 % longer than the baseline."""
GOAL_MEMBER_OVERHEAD = 0.10
"""At 10 members with the 5M model a member spends at most 10 % more CPU than training."""
WINDOW = 3600  # seconds: no deadline passes during a measurement; rounds end by quorum
ROUND_TIMEOUT = 1800.0


@dataclass(frozen=True)
class Services:
    """The chain and IPFS node the members share, and their process ids."""

    w3: Web3
    rpc_url: str
    anvil_pid: int
    ipfs_url: str
    ipfs_pid: int


@dataclass(frozen=True)
class RoundTiming:
    """One round, daofed against the baseline."""

    round: int
    seconds: float
    baseline_seconds: float
    cpu_seconds: dict[str, float]  # "members", "anvil", "ipfs"
    baseline_cpu_seconds: float
    accounts: tuple[MemberAccount, ...]  # each member's cost account of this round
    digest: str  # the accepted model, equal to the baseline's

    @property
    def ratio(self) -> float:
        """Return daofed's wall time over the baseline's."""
        return self.seconds / self.baseline_seconds

    @property
    def cpu_ratio(self) -> float:
        """CPU seconds of all daofed processes over the baseline's."""
        return sum(self.cpu_seconds.values()) / self.baseline_cpu_seconds

    @property
    def member_overhead(self) -> float:
        """The members' CPU beyond training over their training CPU (see bench.timeline)."""
        return overhead_of(self.accounts)


@dataclass(frozen=True)
class OverheadResult:
    """One model and member count; ``rounds[-1]`` is the measurement."""

    model: str
    parameters: int
    members: int
    store: str  # "ipfs" or "local"
    epochs: int
    poll_seconds: float
    rounds: tuple[RoundTiming, ...]

    @property
    def measured(self) -> RoundTiming:
        """The steady-state round."""
        return self.rounds[-1]

    @property
    def overhead(self) -> float:
        """Extra wall time of the measured round, as a fraction of the baseline's."""
        return self.measured.ratio - 1.0


@dataclass(frozen=True)
class _MemberRecord:
    address: str
    intervals: tuple[Interval, ...]
    started: tuple[float, float]  # (monotonic, process CPU) when the member joined
    votes: dict[int, tuple[float, float]]  # round -> the same when its vote's receipt came

    def account(self, round_number: int) -> MemberAccount:
        """Return the member's account of a round: from its previous vote to this one."""
        start, cpu_start = self.votes.get(round_number - 1, self.started)
        end, cpu_end = self.votes[round_number]
        return account(
            self.address, round_number, self.intervals, (start, end), cpu_end - cpu_start
        )


def run_overhead(
    services: Services,
    name: str,
    model: ModelConfig,
    members: int,
    *,
    store: str = "ipfs",
    rounds: int = 2,
    epochs: int = 5,
    seed: int = 0,
    poll: float = 0.2,
) -> OverheadResult:
    """Run ``rounds`` daofed rounds with ``members`` processes, then the baseline.

    ``store`` is ``"ipfs"`` (the shared IPFS node, as deployed) or ``"local"`` (one local
    store directory all members share): the second tells how much of the overhead is
    the IPFS node's.
    """
    task = mlp_task(model)
    split = split_federated(task.dataset(), members, alpha=None, seed=seed)
    accounts = bench_accounts(1, members)
    deployer = bench_account(0)
    fund(services.w3, [deployer, *accounts])
    with tempfile.TemporaryDirectory(prefix="daofed-bench-round-") as tmp:
        workdir = Path(tmp)
        spec = f"ipfs:{services.ipfs_url}" if store == "ipfs" else f"local:{workdir / 'blobs'}"
        run = MemberRun(members, model, epochs, seed, services.rpc_url, spec, rounds, poll)
        with member_processes(run, range(members), workdir) as procs:
            genesis = open_bench_store(spec).put(genesis_blob(task, seed))
            federation = Federation.deploy(
                services.w3,
                deployer,
                members=[a.address for a in accounts],
                quorum=members,
                submit_window=WINDOW,
                vote_window=WINDOW,
                rule="fedavg",
                genesis=genesis,
            )
            pids = {f"member-{i}": p.pid for i, p in enumerate(procs)}
            pids |= {"anvil": services.anvil_pid, "ipfs": services.ipfs_pid}
            with CpuSampler(pids) as sampler:
                started = time.monotonic()
                start_members(procs, federation)
                _wait(procs, workdir)
            records = [_load(workdir / f"member-{i}.json") for i in range(members)]
        accepted = [event.digest.hex() for event in federation.accepted()]
    baseline = run_baseline(
        task,
        [(a.address, task.as_data(d.train)) for a, d in zip(accounts, split.members, strict=True)],
        options={"epochs": epochs},
        seed=seed,
        rounds=rounds,
    )
    timings = []
    start = started
    for r in range(1, rounds + 1):
        end = max(record.votes[r][0] for record in records)
        if accepted[r - 1] != baseline[r - 1].digest:
            raise AssertionError(
                f"round {r}: the federation accepted {accepted[r - 1]}, the in-process "
                f"baseline computed {baseline[r - 1].digest}: the work compared is not equal"
            )
        timings.append(_round_timing(r, start, end, records, sampler, baseline[r - 1]))
        start = end
    return OverheadResult(
        name, parameter_count(model), members, store, epochs, poll, tuple(timings)
    )


def _round_timing(
    r: int,
    start: float,
    end: float,
    records: list[_MemberRecord],
    sampler: CpuSampler,
    baseline: BaselineRound,
) -> RoundTiming:
    cpu = sampler.between(start, end)
    return RoundTiming(
        round=r,
        seconds=end - start,
        baseline_seconds=baseline.seconds,
        cpu_seconds={
            "members": sum(v for k, v in cpu.items() if k.startswith("member-")),
            "anvil": cpu["anvil"],
            "ipfs": cpu["ipfs"],
        },
        baseline_cpu_seconds=baseline.cpu_seconds,
        accounts=tuple(record.account(r) for record in records),
        digest=baseline.digest,
    )


def _wait(procs: list[subprocess.Popen[str]], workdir: Path) -> None:
    deadline = time.monotonic() + ROUND_TIMEOUT
    while any(p.poll() is None for p in procs):
        failed = [i for i, p in enumerate(procs) if p.poll() not in (None, 0)]
        if failed or time.monotonic() > deadline:
            i = failed[0] if failed else 0
            raise DaofedError(
                f"benchmark member {i} failed or the rounds took over {ROUND_TIMEOUT:.0f} s:\n"
                f"{member_stderr(workdir, i)}"
            )
        time.sleep(0.1)


def _load(path: Path) -> _MemberRecord:
    data = json.loads(path.read_text())
    votes = {
        int(e["round"]): (float(e["t"]), float(e["cpu"]))
        for e in data["events"]
        if e["step"] == "voted"
    }
    intervals = tuple(Interval(**i) for i in data["intervals"])
    started = (float(data["started"]["t"]), float(data["started"]["cpu"]))
    return _MemberRecord(data["member"], intervals, started, votes)
