"""The benchmark's goals, checked against what a run measured, each with its exact gap.

A goal that is missed is not an error: the benchmark's job is to say by how much, so the
report carries every check with the measured value, the target and the gap.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench import gas as gas_bench
from bench.aggregation import GOAL_FRACTION
from bench.overhead import GOAL_MEMBER_OVERHEAD, GOAL_OVERHEAD
from bench.runner import BenchReport
from bench.store import MAX_COPIES

COPY_SLACK = 0.02
"""I/O buffers of a few hundred KB ride on top of any blob: 2 % of the blob is allowed."""


@dataclass(frozen=True)
class GoalCheck:
    """One goal: what was measured against what was wanted."""

    goal: str
    measured: str
    met: bool
    gap: str  # "" when met


def check_goals(report: BenchReport) -> tuple[GoalCheck, ...]:
    """Every goal the run has measurements for."""
    checks: list[GoalCheck] = []
    if report.gas is not None:
        for row in report.gas.rows:
            if row.goal is not None and row.members == max(r.members for r in report.gas.rows):
                over = row.gas.high - row.goal
                checks.append(
                    GoalCheck(
                        f"{row.action} <= {row.goal:,} gas",
                        f"{row.gas.high:,.0f} gas at {row.members} members",
                        over <= 0,
                        "" if over <= 0 else f"{over:,.0f} gas ({over / row.goal:+.1%}) over",
                    )
                )
        for flat in report.gas.flat:
            if flat.action in (gas_bench.VOTE_FINAL, gas_bench.CLOSE):
                sizes = ", ".join(f"{m}: {g:,.0f}" for m, g in flat.medians)
                checks.append(
                    GoalCheck(
                        f"{flat.action} gas does not grow with members",
                        sizes,
                        flat.flat,
                        "" if flat.flat else f"grows by {flat.growth:,.0f} gas",
                    )
                )
    if report.aggregation is not None:
        for rule in report.aggregation.rules:
            wanted = GOAL_FRACTION * rule.floor_gb_per_s
            checks.append(
                GoalCheck(
                    f"{rule.rule} >= {GOAL_FRACTION:.0%} of the copy floor",
                    f"{rule.gb_per_s:.2f} GB/s = {rule.fraction_of_floor:.1%} of "
                    f"{rule.floor_gb_per_s:.2f}",
                    rule.meets_goal,
                    "" if rule.meets_goal else f"{wanted / rule.gb_per_s:.1f}x too slow",
                )
            )
    if report.store is not None:
        largest = max(row.size_mb for row in report.store.rows)
        for blob_row in report.store.rows:
            if blob_row.size_mb == largest:
                copies = max(blob_row.put_copies, blob_row.get_copies)
                met = copies <= MAX_COPIES + COPY_SLACK
                checks.append(
                    GoalCheck(
                        f"{blob_row.backend} holds a {largest} MB blob <= {MAX_COPIES:.0f}x",
                        f"put {blob_row.put_copies:.2f}x, get {blob_row.get_copies:.2f}x",
                        met,
                        "" if met else f"{copies - MAX_COPIES:.2f} copies over",
                    )
                )
    for case in report.overhead:
        if case.model == "5M" and case.members == 10 and case.store == "ipfs":
            met = case.overhead <= GOAL_OVERHEAD
            checks.append(
                GoalCheck(
                    f"round overhead at 10 members, 5M model <= {GOAL_OVERHEAD:.0%}",
                    f"{case.overhead:+.0%} wall, {case.measured.cpu_ratio - 1:+.0%} CPU",
                    met,
                    "" if met else f"{case.overhead - GOAL_OVERHEAD:.0%} points over",
                )
            )
            member = case.measured.member_overhead
            checks.append(
                GoalCheck(
                    f"member overhead at 10 members, 5M model <= {GOAL_MEMBER_OVERHEAD:.0%} "
                    "(member CPU beyond training, over training CPU)",
                    f"{member:+.1%}",
                    member <= GOAL_MEMBER_OVERHEAD,
                    ""
                    if member <= GOAL_MEMBER_OVERHEAD
                    else f"{member - GOAL_MEMBER_OVERHEAD:.1%} points over",
                )
            )
    if report.memory is not None:
        memory = report.memory
        last = memory.rounds[-1].round
        over = max(memory.growth, memory.peak_growth) - memory.update_mib
        checks.append(
            GoalCheck(
                f"member agent memory flat, rounds {memory.growth_from}-{last}: grows by less "
                f"than one update ({memory.update_mib:.1f} MiB)",
                f"RSS {memory.growth:+.1f} MiB, peak {memory.peak_growth:+.1f} MiB",
                memory.flat,
                "" if memory.flat else f"{over:.1f} MiB over",
            )
        )
    return tuple(checks)
