"""Time every round of a demo federation on both chains, to see whether rounds slow down.

``python -m bench.round_times [--members 10] [--rounds 30]`` runs ``daofed demo`` (real
agents, real training, one process) on the embedded chain and on anvil and prints each
round's wall time, and on anvil how many JSON-RPC requests the round sent, by method.
The figure that matters is the last round's time over the second's (the first pays for
warm-up): a member that re-read the whole history each round would make it grow with the
round number (it did: 3.6 s in round 1, 39.6 s in round 10 on the embedded chain).

Times are wall-clock on whatever else the machine is doing: read the trend, not the digits.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import torch
from web3 import HTTPProvider

from daofed.demo import ChainKind, DemoConfig, RoundReport, run_demo

GOAL_RATIO = 1.2
"""The goal: the last round costs at most this many times the second."""


@contextmanager
def counting_requests() -> Iterator[Counter[str]]:
    """Count the JSON-RPC requests every HTTPProvider sends (after web3's cache), by method."""
    sent: Counter[str] = Counter()
    original = HTTPProvider._make_request

    def counted(self: HTTPProvider, method: Any, request_data: bytes) -> bytes:
        sent[str(method)] += 1
        return original(self, method, request_data)

    HTTPProvider._make_request = counted  # type: ignore[method-assign]
    try:
        yield sent
    finally:
        HTTPProvider._make_request = original  # type: ignore[method-assign]


def time_rounds(chain: ChainKind, members: int, rounds: int) -> list[tuple[float, Counter[str]]]:
    """Run the demo on ``chain``; return each round's seconds and the requests it sent."""
    times: list[tuple[float, Counter[str]]] = []
    with counting_requests() as sent:
        last, seen = time.perf_counter(), Counter[str]()

        def on_round(_report: RoundReport) -> None:
            nonlocal last, seen
            now = time.perf_counter()
            times.append((now - last, sent - seen))
            last, seen = now, Counter(sent)

        run_demo(DemoConfig(members=members, rounds=rounds, chain=chain), on_round=on_round)
    return times


def print_rounds(chain: str, times: list[tuple[float, Counter[str]]]) -> float:
    """Print one line per round; return the last round's time over the second's."""
    print(f"\n{chain}: round, seconds, JSON-RPC requests (top methods)")
    for number, (seconds, sent) in enumerate(times, start=1):
        top = ", ".join(f"{method} {count}" for method, count in sent.most_common(4))
        total = sum(sent.values())
        print(f"{number:5d}  {seconds:6.2f}  {total:5d}  {top}")
    ratio = times[-1][0] / times[1][0]
    print(f"{chain}: round {len(times)} took {ratio:.2f}x round 2 (goal <= {GOAL_RATIO})")
    round_seconds = [s for s, _ in times]
    if len(round_seconds) >= 11:  # one round's time is noisy on a shared machine: 5 against 5
        steady = statistics.median(round_seconds[-5:]) / statistics.median(round_seconds[1:6])
        print(f"{chain}: median of the last 5 rounds / median of rounds 2-6 = {steady:.2f}")
    return ratio


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo on each chain and print its rounds' times and requests."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--members", type=int, default=10, help="members (default 10)")
    parser.add_argument("--rounds", type=int, default=30, help="rounds (default 30)")
    parser.add_argument(
        "--chain", choices=["embedded", "anvil"], action="append", help="default: both"
    )
    args = parser.parse_args(argv)
    if args.rounds < 2 or args.members < 1:
        parser.error("--rounds must be at least 2 and --members at least 1")
    torch.set_num_threads(1)  # as the CLI does
    ratios = {
        chain: print_rounds(chain, time_rounds(chain, args.members, args.rounds))
        for chain in args.chain or ["embedded", "anvil"]
    }
    return 0 if all(ratio <= GOAL_RATIO for ratio in ratios.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
