#!/usr/bin/env python3
"""Learning experiment: each governed rule against centralised training, under label skew.

Members train the digits MLP in one process, through the protocol core's simulation
(daofed.protocol.simulation, as in scripts/poisoning.py); every (rule, members, skew, seed)
is its own federation run. Beside each federated result stands the centralised reference
of the same split and seed: the same model and training step, for the same number of
passes, on the pooled training data of the members (daofed.demo.train_centralized, as
``daofed demo`` reports it).

Per row: final test accuracy (mean +- sd over the seeds), best accuracy over the rounds
(mean of each run's best), the rounds a run needs to reach 95 % of its centralised
accuracy (mean over the seeds that get there; "-" when none does) and the centralised
accuracy.

Acceptance check: with 10 members, Dirichlet alpha = 0.3 and 20 rounds, the best rule
ends within --tolerance points (default 1) of centralised training, mean of the seeds.
The script exits 1 if that configuration was run and the check fails.

    python scripts/learning.py                            # full grid (tens of minutes)
    python scripts/learning.py --members 10 --alpha 0.3   # the acceptance configuration
    python scripts/learning.py --rule fedavg --rule 'fedavgm:lr=1.0,momentum=0.9' --seeds 0
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path
from statistics import fmean, pstdev

from experiment import digits_split, digits_task, one_thread, parse_alpha, parse_ints

from daofed.demo import train_centralized
from daofed.learning import Dataset
from daofed.learning.aggregation import parse_rule
from daofed.protocol.simulation import SimulationConfig, members_of, simulate

DEFAULT_RULES = (  # settings from a small sweep: docs/learning.md
    "fedavg",
    "fedavg:prox=0.01",
    "fedavgm:lr=1.0,momentum=0.9",
    "fedadam:lr=0.1,beta1=0.9,beta2=0.99,tau=0.01",
    "fedyogi:lr=0.03,beta1=0.9,beta2=0.99,tau=0.001",
    "fedadagrad:lr=0.1,tau=0.001",
    "fedavgm:lr=1.0,momentum=0.9,of=trimmed-mean,beta=0.2",
)
DEFAULT_ALPHAS: tuple[float | None, ...] = (None, 1.0, 0.3, 0.1)
DEFAULT_MEMBERS = (5, 10)
CENTRALIZED = "centralised"
"""The rule name of a centralised reference run."""
REACH = 0.95
"""A run reaches centralised accuracy when it gets to this fraction of it."""
ACCEPTANCE = (10, 0.3)
"""(members, alpha) of the acceptance check."""


@dataclass(frozen=True)
class Job:
    rule: str  # a rule spec, or CENTRALIZED
    members: int
    alpha: float | None
    seed: int
    rounds: int


@dataclass(frozen=True)
class Run:
    rule: str
    members: int
    alpha: float | None
    seed: int
    accuracies: tuple[float, ...]  # after each round; a centralised run has only the last
    seconds: float

    @property
    def final(self) -> float:
        return self.accuracies[-1]

    @property
    def best(self) -> float:
        return max(self.accuracies)


def run_job(job: Job) -> Run:
    one_thread()
    started = time.perf_counter()
    task = digits_task()
    split = digits_split(job.members, job.alpha, job.seed)
    test = task.as_data(split.test)
    if job.rule == CENTRALIZED:
        pooled = task.as_data(Dataset.concat([m.train for m in split.members]))
        weights = train_centralized(task, pooled, job.rounds, job.seed, {})
        accuracies: tuple[float, ...] = (task.evaluate(weights, test)["accuracy"],)
    else:
        config = SimulationConfig(rule=parse_rule(job.rule), rounds=job.rounds, seed=job.seed)
        accuracies = simulate(task, members_of(task, split), config, test=test).series()
    return Run(
        job.rule,
        job.members,
        job.alpha,
        job.seed,
        accuracies,
        time.perf_counter() - started,
    )


def skew_name(alpha: float | None) -> str:
    return "IID" if alpha is None else f"alpha={alpha:g}"


@dataclass(frozen=True)
class Row:
    """One rule on one (members, skew): the seeds' runs and their centralised references."""

    rule: str
    members: int
    alpha: float | None
    runs: tuple[Run, ...]
    references: tuple[Run, ...]  # the centralised run of each seed, in the same order

    @property
    def final(self) -> float:
        return fmean(r.final for r in self.runs)

    @property
    def final_sd(self) -> float:
        return pstdev(r.final for r in self.runs)

    @property
    def best(self) -> float:
        return fmean(r.best for r in self.runs)

    @property
    def centralized(self) -> float:
        return fmean(r.final for r in self.references)

    @property
    def centralized_sd(self) -> float:
        return pstdev(r.final for r in self.references)

    @property
    def gap_points(self) -> float:
        """Points behind centralised training (negative: ahead), mean final accuracy."""
        return 100.0 * (self.centralized - self.final)

    def rounds_to_reach(self) -> tuple[int | None, ...]:
        """Per seed: the first round at REACH of that seed's centralised accuracy, or None."""
        return tuple(
            next(
                (i for i, a in enumerate(run.accuracies, 1) if a >= REACH * ref.final),
                None,
            )
            for run, ref in zip(self.runs, self.references, strict=True)
        )


def rows(runs: Sequence[Run], rules: Sequence[str]) -> list[Row]:
    """Group runs by (members, skew, rule) in the order of the grid."""
    by_key = {(r.rule, r.members, r.alpha, r.seed): r for r in runs}
    groups = list(dict.fromkeys((r.members, r.alpha) for r in runs))
    seeds = sorted({r.seed for r in runs})
    out = []
    for members, alpha in groups:
        references = tuple(by_key[CENTRALIZED, members, alpha, s] for s in seeds)
        for rule in rules:
            mine = tuple(by_key[rule, members, alpha, s] for s in seeds)
            out.append(Row(rule, members, alpha, mine, references))
    return out


def reach_text(rounds: Sequence[int | None]) -> str:
    reached = [r for r in rounds if r is not None]
    if not reached:
        return "-"
    mean = f"{fmean(reached):.1f}"
    return mean if len(reached) == len(rounds) else f"{mean} ({len(reached)}/{len(rounds)})"


def table(found: Sequence[Row]) -> str:
    """A Markdown table, one line per row; accuracies in %."""
    head = ["members", "skew", "rule", "final", "best", "rounds to 95 %", "centralised"]
    lines = [
        "| " + " | ".join(head) + " |",
        "|" + "|".join(["---:", ":---", ":---", "---:", "---:", "---:", "---:"]) + "|",
    ]
    for row in found:
        cells = [
            str(row.members),
            skew_name(row.alpha),
            f"`{row.rule}`",
            f"{100 * row.final:.1f} ± {100 * row.final_sd:.1f}",
            f"{100 * row.best:.1f}",
            reach_text(row.rounds_to_reach()),
            f"{100 * row.centralized:.1f} ± {100 * row.centralized_sd:.1f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def parse_alphas(text: str) -> list[float | None]:
    try:
        return [parse_alpha(x.strip()) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated alphas or 'iid', got {text!r}"
        ) from None


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--members",
        type=parse_ints,
        default=list(DEFAULT_MEMBERS),
        help="comma-separated member counts (default 5,10)",
    )
    p.add_argument(
        "--alpha",
        type=parse_alphas,
        default=list(DEFAULT_ALPHAS),
        help="comma-separated Dirichlet label skews, 'iid' for none (default iid,1.0,0.3,0.1)",
    )
    p.add_argument("--rounds", type=int, default=20, help="federated rounds (default 20)")
    p.add_argument(
        "--seeds", type=parse_ints, default=[0, 1, 2], help="comma-separated seeds (default 0,1,2)"
    )
    p.add_argument(
        "--rule",
        action="append",
        dest="rules",
        help=f"aggregation rule spec, repeatable (default: {'; '.join(DEFAULT_RULES)})",
    )
    p.add_argument(
        "--tolerance", type=float, default=1.0, help="points the best rule may trail centralised"
    )
    p.add_argument(
        "--workers", "--jobs", type=int, default=2, help="parallel processes (default 2)"
    )
    p.add_argument("--json", type=Path, help="also write all runs and the summary here")
    return p


def run_all(jobs: Sequence[Job], workers: int) -> list[Run]:
    """Run every job, reporting each as it finishes on stderr; results in job order."""
    started = time.perf_counter()

    def report(done: int, run: Run) -> None:
        elapsed = time.perf_counter() - started
        print(
            f"[{done}/{len(jobs)} {elapsed:5.0f} s] {run.members} members "
            f"{skew_name(run.alpha)} seed {run.seed} {run.rule}: "
            f"final {100 * run.final:.1f} ({run.seconds:.0f} s)",
            file=sys.stderr,
            flush=True,
        )

    if workers <= 1:
        runs = []
        for i, job in enumerate(jobs, 1):
            runs.append(run_job(job))
            report(i, runs[-1])
        return runs
    with ProcessPoolExecutor(workers, initializer=one_thread) as pool:
        futures: dict[Future[Run], int] = {
            pool.submit(run_job, job): i for i, job in enumerate(jobs)
        }
        results: dict[int, Run] = {}
        for done, future in enumerate(as_completed(futures), 1):
            results[futures[future]] = future.result()
            report(done, results[futures[future]])
    return [results[i] for i in range(len(jobs))]


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    rules = args.rules or list(DEFAULT_RULES)
    for rule in rules:
        parse_rule(rule)  # fail early on a typo
    if CENTRALIZED in rules:
        raise SystemExit(f"{CENTRALIZED!r} is the reference, not a rule")
    jobs = [
        Job(rule, members, alpha, seed, args.rounds)
        for members in args.members
        for alpha in args.alpha
        for seed in args.seeds
        for rule in [CENTRALIZED, *rules]
    ]
    print(
        f"{len(jobs)} runs: {len(rules)} rules + centralised x members {args.members} x skews "
        f"{[skew_name(a) for a in args.alpha]} x seeds {args.seeds}, {args.rounds} rounds, "
        f"{args.workers} process(es)",
        file=sys.stderr,
    )
    started = time.perf_counter()
    runs = run_all(jobs, args.workers)
    seconds = time.perf_counter() - started
    found = rows(runs, rules)

    print(
        f"Test accuracy (%) after {args.rounds} rounds, mean ± sd over seeds {args.seeds}; "
        f"best: mean of each run's best round; rounds to {100 * REACH:.0f} %: first round at "
        f"{100 * REACH:.0f} % of the same seed's centralised accuracy (mean over the seeds "
        "that reach it, how many in brackets when not all do)\n"
    )
    print(table(found))
    accepted: bool | None = None
    members, alpha = ACCEPTANCE
    checked = [r for r in found if (r.members, r.alpha) == (members, alpha)]
    if checked:
        best = min(checked, key=lambda r: r.gap_points)
        accepted = best.gap_points <= args.tolerance
        print(
            f"\nAcceptance: {members} members, {skew_name(alpha)}, {args.rounds} rounds, "
            f"mean final accuracy over seeds {args.seeds}; centralised "
            f"{100 * checked[0].centralized:.1f}; the best rule must be within "
            f"{args.tolerance:g} point{'' if args.tolerance == 1 else 's'} of it"
        )
        for r in checked:
            print(
                f"  {r.rule:<56} {100 * r.final:5.1f}  "
                f"{-r.gap_points:+5.1f} vs centralised{'  <- best' if r is best else ''}"
            )
        print(f"  {'ok' if accepted else 'FAIL'}: {best.rule}")
    print(f"\n{len(runs)} runs in {seconds:.0f} s", file=sys.stderr)

    if args.json:
        report = {
            "config": {
                "members": args.members,
                "alphas": args.alpha,
                "rounds": args.rounds,
                "seeds": args.seeds,
                "rules": rules,
                "tolerance": args.tolerance,
            },
            "runs": [asdict(r) | {"final": r.final, "best": r.best} for r in runs],
            "summary": [
                {
                    "rule": r.rule,
                    "members": r.members,
                    "alpha": r.alpha,
                    "final": r.final,
                    "final_sd": r.final_sd,
                    "best": r.best,
                    "rounds_to_reach": r.rounds_to_reach(),
                    "centralised": r.centralized,
                }
                for r in found
            ],
            "accepted": accepted,
            "seconds": seconds,
        }
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        print(f"wrote {args.json}", file=sys.stderr)
    return 1 if accepted is False else 0


if __name__ == "__main__":
    sys.exit(main())
