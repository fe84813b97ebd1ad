"""The member cost account: nested, threaded timings net out, and a real round adds up."""

from __future__ import annotations

import threading
import time

import pytest

from bench import member
from bench.timeline import KINDS, Interval, account, overhead_of
from tests.bench.conftest import ScriptRun


def spin(seconds: float) -> None:
    """Burn CPU on this thread for about ``seconds``."""
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def test_nested_calls_count_once_and_other_threads_work_is_their_own() -> None:
    member._intervals.clear()
    worker = threading.Thread(target=lambda: _timed_spin("fetch", 0.05))
    with member.timed("aggregate"):
        spin(0.03)
        with member.timed("decode"):
            spin(0.05)
        worker.start()
        worker.join()  # the main thread waits: its CPU is not the worker's
    by_kind = {interval.kind: interval for interval in member._intervals}
    member._intervals.clear()

    assert set(by_kind) == {"aggregate", "decode", "fetch"}
    assert by_kind["decode"].cpu == pytest.approx(0.05, abs=0.02)
    assert by_kind["fetch"].cpu == pytest.approx(0.05, abs=0.02)
    assert by_kind["aggregate"].cpu == pytest.approx(0.03, abs=0.02)  # net of decode only
    outer = by_kind["aggregate"]
    assert outer.wall < outer.end - outer.start  # the decode's wall time is taken out


def _timed_spin(kind: str, seconds: float) -> None:
    with member.timed(kind) as call:
        call.bytes = 1000
        spin(seconds)


def test_an_account_sums_a_round_s_intervals_by_kind() -> None:
    intervals = [
        Interval("train", 1.0, 2.0, wall=1.0, cpu=0.9),
        Interval("fetch", 2.0, 2.5, wall=0.5, cpu=0.1, bytes=4000),
        Interval("upload", 2.5, 2.6, wall=0.1, cpu=0.05, bytes=1000),
        Interval("tx", 2.6, 2.7, wall=0.1, cpu=0.01, method="eth_sendRawTransaction"),
        Interval("read", 2.7, 2.8, wall=0.1, cpu=0.01, method="eth_call"),
        Interval("read", 2.8, 2.9, wall=0.1, cpu=0.01),  # answered from the cache
        Interval("train", 5.0, 6.0, wall=1.0, cpu=0.9),  # the next round's
    ]
    result = account("0xabc", 1, intervals, (0.5, 5.0), cpu_total=1.1)

    assert tuple(result.cpu) == KINDS and tuple(result.wall) == KINDS
    assert result.cpu["train"] == 0.9 and result.cpu["read"] == pytest.approx(0.02)
    assert (result.uploaded, result.downloaded) == (1000, 4000)
    assert result.requests == {"eth_sendRawTransaction": 1, "eth_call": 1}
    assert result.unaccounted == pytest.approx(1.1 - 1.08)
    assert result.overhead == pytest.approx(0.2 / 0.9)
    assert overhead_of([result, result]) == pytest.approx(result.overhead)


@pytest.mark.slow
@pytest.mark.anvil
@pytest.mark.ipfs
def test_a_real_round_s_account_adds_up(quick_run: ScriptRun) -> None:
    """Every member's kinds add up to its process CPU clock; each moved its blobs."""
    (case,) = quick_run.report.overhead
    accounts = case.measured.accounts
    assert len(accounts) == case.members
    for result in accounts:
        assert tuple(result.cpu) == KINDS
        assert result.training_cpu > 0 and result.cpu["aggregate"] > 0
        assert abs(result.unaccounted) <= 0.1 * result.cpu_total + 0.05
        assert result.uploaded > 0 and result.downloaded > 0
        assert {"eth_sendRawTransaction", "eth_call"} <= set(result.requests)
    assert case.measured.member_overhead == pytest.approx(overhead_of(accounts))
