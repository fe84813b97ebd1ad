#!/usr/bin/env python3
"""Poisoning experiment: final test accuracy of each aggregation rule under attack.

10 members train the digits MLP in one process, through the protocol core's simulation
(daofed.protocol.simulation: the very update and aggregation code the agents run, over an
in-memory store, without chain); 0, 1 or 3 of them attack with scaled sign flipping,
label flipping or Gaussian noise (see daofed.learning.attacks). Every (attack, attackers,
rule, seed) is its own federation run; the table shows the mean final test accuracy over
the seeds and its change against the same rule without attackers.

Acceptance check: with the largest number of sign-flip attackers, every rule that
claims to tolerate that many (median, trimmed mean with beta * n >= attackers, Multi-Krum
with f >= attackers) ends within --tolerance points of its attacker-free run; FedAvg's
drop is shown beside them. The script exits 1 if the check fails.

    python scripts/poisoning.py                 # full run (minutes; --jobs N to parallelise)
    python scripts/poisoning.py --quick         # small configuration (seconds)
    python scripts/poisoning.py --json out.json --rule fedavg --rule median
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from statistics import fmean

from experiment import digits_split, digits_task, one_thread, parse_alpha, parse_ints

from daofed.learning.aggregation import parse_rule
from daofed.learning.attacks import (
    ATTACK_NAMES,
    DEFAULT_NOISE_STD,
    DEFAULT_SCALE,
    SignFlip,
    claimed_tolerance,
    make_attack,
)
from daofed.protocol.simulation import SimMember, SimulationConfig, members_of, simulate

DEFAULT_RULES = (
    "fedavg",
    "median",
    "trimmed-mean:beta=0.2",
    "trimmed-mean:beta=0.3",
    "multi-krum:f=3,m=7",
)
CLEAN = "none"


@dataclass(frozen=True)
class Job:
    attack: str  # CLEAN or an attack name
    attackers: int
    rule: str
    seed: int
    members: int
    rounds: int
    epochs: int
    alpha: float | None
    scale: float
    noise_std: float


@dataclass(frozen=True)
class Run:
    attack: str
    attackers: int
    rule: str
    seed: int
    accuracies: tuple[float, ...]
    aggregates: tuple[str, ...]  # sha256 of each round's aggregate: reproducible anywhere
    seconds: float

    @property
    def final(self) -> float:
        return self.accuracies[-1]


def members(job: Job) -> list[SimMember]:
    """The job's federation: the first ``job.attackers`` members attack, the rest are honest."""
    split = digits_split(job.members, job.alpha, job.seed)
    honest = members_of(digits_task(), split)
    if job.attack == CLEAN:
        return honest
    attack = make_attack(job.attack, scale=job.scale, std=job.noise_std)
    return [
        SimMember(m.name, m.data, attack) if i < job.attackers else m for i, m in enumerate(honest)
    ]


def run_job(job: Job) -> Run:
    one_thread()
    started = time.perf_counter()
    task = digits_task()
    result = simulate(
        task,
        members(job),
        SimulationConfig(
            rule=parse_rule(job.rule),
            rounds=job.rounds,
            seed=job.seed,
            options={"epochs": job.epochs},
        ),
        test=task.as_data(digits_split(job.members, job.alpha, job.seed).test),
    )
    return Run(
        job.attack,
        job.attackers,
        job.rule,
        job.seed,
        result.series("accuracy"),
        tuple(done.aggregate_digest for done in result.rounds),
        time.perf_counter() - started,
    )


def scenarios(attacks: Sequence[str], attackers: Sequence[int]) -> list[tuple[str, int]]:
    """The attacker-free baseline, then every attack with every nonzero attacker count."""
    return [(CLEAN, 0)] + [(a, k) for a in attacks for k in attackers if k > 0]


def mean_final(runs: Sequence[Run], attack: str, attackers: int, rule: str) -> float:
    return fmean(
        r.final for r in runs if (r.attack, r.attackers, r.rule) == (attack, attackers, rule)
    )


@dataclass(frozen=True)
class Check:
    rule: str
    attackers: int
    clean: float
    attacked: float
    tolerates: int
    passed: bool | None  # None: the rule does not claim to tolerate this many attackers
    seed_drops: tuple[float, ...]  # points lost on each seed, for the spread behind the mean

    @property
    def drop_points(self) -> float:
        return 100.0 * (self.clean - self.attacked)


def acceptance(
    runs: Sequence[Run], rules: Sequence[str], attackers: int, members: int, tolerance: float
) -> list[Check]:
    """Sign-flip with ``attackers`` attackers against each rule's attacker-free run."""
    checks = []
    for rule in rules:
        clean = mean_final(runs, CLEAN, 0, rule)
        attacked = mean_final(runs, SignFlip.name, attackers, rule)
        tolerates = claimed_tolerance(parse_rule(rule), members)
        passed = (100.0 * (clean - attacked) <= tolerance) if tolerates >= attackers else None
        final = {(r.attack, r.attackers, r.seed): r.final for r in runs if r.rule == rule}
        drops = tuple(
            100.0 * (final[CLEAN, 0, s] - final[SignFlip.name, attackers, s])
            for s in sorted({r.seed for r in runs})
        )
        checks.append(Check(rule, attackers, clean, attacked, tolerates, passed, drops))
    return checks


def table(
    runs: Sequence[Run], rules: Sequence[str], rows: Sequence[tuple[str, int]], members: int
) -> str:
    head = ["attack", "attackers", *rules]
    lines = [head]
    for attack, k in rows:
        cells = [attack, f"{k}/{members}"]
        for rule in rules:
            acc = mean_final(runs, attack, k, rule)
            if k == 0:
                cells.append(f"{100 * acc:.1f}")
            else:
                delta = 100 * (acc - mean_final(runs, CLEAN, 0, rule))
                cells.append(f"{100 * acc:.1f} ({delta:+.1f})")
        lines.append(cells)
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    rendered = [
        "  ".join(
            c.ljust(w) if i < 2 else c.rjust(w)
            for i, (c, w) in enumerate(zip(line, widths, strict=True))
        )
        for line in lines
    ]
    rendered.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(rendered)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--quick", action="store_true", help="small configuration: 3 rounds x 2 epochs, seed 0"
    )
    p.add_argument("--members", type=int, default=10)
    p.add_argument("--rounds", type=int, help="federated rounds (default 10; --quick 3)")
    p.add_argument("--epochs", type=int, help="local epochs per round (default 5; --quick 2)")
    p.add_argument(
        "--seeds", type=parse_ints, help="comma-separated seeds (default 0,1,2; --quick 0)"
    )
    p.add_argument(
        "--alpha", type=parse_alpha, default=None, help="Dirichlet label skew, or 'iid' (default)"
    )
    p.add_argument(
        "--attacks",
        default=",".join(ATTACK_NAMES),
        help=f"comma-separated, from {', '.join(ATTACK_NAMES)}",
    )
    p.add_argument(
        "--attackers", type=parse_ints, default=[0, 1, 3], help="attacker counts (default 0,1,3)"
    )
    p.add_argument(
        "--rule",
        action="append",
        dest="rules",
        help=f"aggregation rule spec, repeatable (default: {'; '.join(DEFAULT_RULES)})",
    )
    p.add_argument(
        "--scale", type=float, default=DEFAULT_SCALE, help="sign-flip scale k (update * -k)"
    )
    p.add_argument(
        "--noise-std", type=float, default=DEFAULT_NOISE_STD, help="std of the noise attack"
    )
    p.add_argument(
        "--tolerance", type=float, default=3.0, help="accuracy points a robust rule may lose"
    )
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="parallel processes")
    p.add_argument("--json", type=Path, help="also write all runs and the summary here")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    rounds = args.rounds or (3 if args.quick else 10)
    epochs = args.epochs or (2 if args.quick else 5)
    seeds = args.seeds or ([0] if args.quick else [0, 1, 2])
    rules = args.rules or list(DEFAULT_RULES)
    attacks = [a.strip() for a in args.attacks.split(",") if a.strip()]
    for name in attacks:
        make_attack(name, scale=args.scale, std=args.noise_std)  # fail early on a typo
    for rule in rules:
        parse_rule(rule)
    if max(args.attackers, default=0) >= args.members:
        raise SystemExit("--attackers must stay below --members")
    rows = scenarios(attacks, args.attackers)
    jobs = [
        Job(
            attack,
            k,
            rule,
            seed,
            args.members,
            rounds,
            epochs,
            args.alpha,
            args.scale,
            args.noise_std,
        )
        for attack, k in rows
        for rule in rules
        for seed in seeds
    ]
    print(
        f"{len(jobs)} runs: {args.members} members, {rounds} rounds x {epochs} local epochs, "
        f"seeds {seeds}, {'IID' if args.alpha is None else f'Dirichlet({args.alpha})'}, "
        f"sign-flip scale {args.scale}, noise std {args.noise_std}, {args.jobs} process(es)",
        file=sys.stderr,
    )
    started = time.perf_counter()
    if args.jobs > 1:
        with ProcessPoolExecutor(args.jobs, initializer=one_thread) as pool:
            runs = list(pool.map(run_job, jobs))
    else:
        runs = [run_job(job) for job in jobs]
    seconds = time.perf_counter() - started

    print(
        f"\nFinal test accuracy (%), mean over seeds {seeds}; in brackets: change vs no attackers"
    )
    print(table(runs, rules, rows, args.members))
    checks: list[Check] = []
    worst = max(args.attackers, default=0)
    if SignFlip.name in attacks and worst > 0:
        checks = acceptance(runs, rules, worst, args.members, args.tolerance)
        print(
            f"\nAcceptance: {worst} of {args.members} sign-flip attackers (scale {args.scale}), "
            f"tolerance {args.tolerance:g} points on the mean over seeds"
        )
        for c in checks:
            verdict = {True: "ok", False: "FAIL", None: f"n/a (claims to tolerate {c.tolerates})"}[
                c.passed
            ]
            seeds_text = " ".join(f"{d:.1f}" for d in c.seed_drops)
            print(
                f"  {c.rule:<28} {100 * c.clean:5.1f} -> {100 * c.attacked:5.1f}  "
                f"drop {c.drop_points:5.1f} (per seed {seeds_text})  {verdict}"
            )
    print(f"\n{len(runs)} runs in {seconds:.0f} s", file=sys.stderr)

    if args.json:
        report = {
            "config": {
                "members": args.members,
                "rounds": rounds,
                "epochs": epochs,
                "seeds": seeds,
                "alpha": args.alpha,
                "attacks": attacks,
                "attackers": args.attackers,
                "rules": rules,
                "scale": args.scale,
                "noise_std": args.noise_std,
                "tolerance": args.tolerance,
            },
            "runs": [asdict(r) | {"final": r.final} for r in runs],
            "summary": [
                {
                    "attack": a,
                    "attackers": k,
                    "rule": rule,
                    "mean_final": mean_final(runs, a, k, rule),
                }
                for a, k in rows
                for rule in rules
            ],
            "acceptance": [asdict(c) | {"drop_points": c.drop_points} for c in checks],
            "seconds": seconds,
        }
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        print(f"wrote {args.json}", file=sys.stderr)
    return 1 if any(c.passed is False for c in checks) else 0


if __name__ == "__main__":
    sys.exit(main())
