"""Run every measurement, full or quick, on services started here.

One anvil (gas and initcode limits lifted) and one IPFS node serve all measurements and
are stopped at the end. ``quick`` uses small sizes so the whole run takes about a minute
(CI runs it); it checks what it measured is correct, never how fast it was.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bench import gas, scale, store
from bench.aggregation import AggregationResult, measure_aggregation
from bench.chain import start_big_anvil
from bench.compression import (
    CompressionConfig,
    CompressionResult,
    check_compression,
    measure_compression,
)
from bench.gas import GasResult, measure_gas
from bench.governance_gas import governance_extras
from bench.machine import Machine, describe_machine
from bench.memory import MemoryConfig, MemoryResult, check_memory, run_memory
from bench.models import MODELS
from bench.overhead import OverheadResult, Services, run_overhead
from bench.scale import ScaleResult, run_scale
from bench.secagg import SecAggConfig, SecAggResult, check_secagg, measure_secagg
from bench.store import StoreResult, measure_stores
from daofed.errors import ConfigError
from daofed.storage.ipfs_node import IpfsNode

PARTS = ("gas", "aggregation", "store", "overhead", "scale", "compression", "memory", "secagg")


@dataclass(frozen=True)
class BenchConfig:
    """Sizes of every measurement; :meth:`quick` and :meth:`full` are the two presets."""

    quick: bool
    gas_sizes: tuple[int, ...]
    overhead_cases: tuple[tuple[str, int, str], ...]  # (model name, members, store)
    aggregation_model: str
    aggregation_members: int
    repeats: int
    store_sizes_mb: tuple[int, ...]
    scale_sizes: tuple[int, ...]
    memory: MemoryConfig
    secagg: SecAggConfig
    parts: tuple[str, ...] = PARTS

    @classmethod
    def full(cls) -> BenchConfig:
        """Return the full sizes, the ones docs/benchmarks.md reports."""
        return cls(
            quick=False,
            gas_sizes=gas.FULL_SIZES,
            overhead_cases=(
                ("100k", 4, "ipfs"),
                ("100k", 10, "ipfs"),
                ("100k", 20, "ipfs"),
                ("5M", 4, "ipfs"),
                ("5M", 10, "ipfs"),
                ("5M", 20, "ipfs"),
                ("5M", 10, "local"),  # how much of the overhead is the IPFS node's
            ),
            aggregation_model="5M",
            aggregation_members=10,
            repeats=3,
            store_sizes_mb=store.FULL_SIZES_MB,
            scale_sizes=scale.FULL_SIZES,
            memory=MemoryConfig(),
            secagg=SecAggConfig(),
        )

    @classmethod
    def quick_preset(cls) -> BenchConfig:
        """Small sizes: about a minute, for CI."""
        return cls(
            quick=True,
            gas_sizes=gas.QUICK_SIZES,
            overhead_cases=(("100k", 2, "ipfs"),),
            aggregation_model="100k",
            aggregation_members=5,
            repeats=2,
            store_sizes_mb=store.QUICK_SIZES_MB,
            scale_sizes=scale.QUICK_SIZES,
            memory=MemoryConfig.quick(),
            secagg=SecAggConfig.quick(),
        )

    def only(self, parts: tuple[str, ...]) -> BenchConfig:
        """Restrict this config to ``parts`` (names from :data:`PARTS`)."""
        unknown = sorted(set(parts) - set(PARTS))
        if unknown:
            raise ConfigError(
                f"unknown benchmark part(s) {unknown}: choose from {', '.join(PARTS)}"
            )
        return BenchConfig(**{**self.__dict__, "parts": parts})


@dataclass(frozen=True)
class BenchReport:
    """Everything one run measured, with when and where."""

    date: str
    machine: Machine
    quick: bool
    seconds: float
    gas: GasResult | None = None
    aggregation: AggregationResult | None = None
    store: StoreResult | None = None
    overhead: tuple[OverheadResult, ...] = field(default_factory=tuple)
    scale: tuple[ScaleResult, ...] = field(default_factory=tuple)
    compression: CompressionResult | None = None
    memory: MemoryResult | None = None
    secagg: SecAggResult | None = None


Progress = Callable[[str], None]


def run_bench(config: BenchConfig, progress: Progress = lambda _m: None) -> BenchReport:
    """Run the parts of ``config`` and return what they measured."""
    started = time.perf_counter()
    date = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    machine = describe_machine()
    results: dict[str, object] = {}
    anvil = start_big_anvil()
    try:
        with IpfsNode.start() as ipfs:
            services = Services(
                anvil.web3(), anvil.url, anvil.process.pid, ipfs.api_url, ipfs.pid or 0
            )
            if "gas" in config.parts:
                progress(f"gas at {config.gas_sizes} members")
                results["gas"] = measure_gas(services.w3, config.gas_sizes, governance_extras())
            if "aggregation" in config.parts:
                progress(f"aggregation, {config.aggregation_members} x {config.aggregation_model}")
                results["aggregation"] = measure_aggregation(
                    MODELS[config.aggregation_model], config.aggregation_members, config.repeats
                )
            if "store" in config.parts:
                progress(f"blob stores at {config.store_sizes_mb} MB")
                results["store"] = measure_stores(
                    ipfs.api_url, config.store_sizes_mb, max(1, config.repeats - 1)
                )
            if "overhead" in config.parts:
                cases = []
                for name, members, blobs in config.overhead_cases:
                    progress(f"round overhead, {name} model, {members} members, {blobs} store")
                    cases.append(run_overhead(services, name, MODELS[name], members, store=blobs))
                results["overhead"] = tuple(cases)
            if "scale" in config.parts:
                rows = []
                for members in config.scale_sizes:
                    progress(f"scale: one round with {members} members")
                    rows.append(run_scale(anvil.url, members))
                results["scale"] = tuple(rows)
            if "compression" in config.parts:
                progress("update compression and local DP, in-process rounds")
                preset = CompressionConfig.quick() if config.quick else CompressionConfig()
                results["compression"] = measure_compression(preset, progress)
            if "memory" in config.parts:
                m = config.memory
                progress(f"member agent memory over {m.rounds} rounds, {m.model} model")
                results["memory"] = run_memory(services.w3, services.rpc_url, m, progress)
            if "secagg" in config.parts:
                results["secagg"] = measure_secagg(config.secagg, progress)
    finally:
        anvil.stop()
    report = BenchReport(
        date=date,
        machine=machine,
        quick=config.quick,
        seconds=time.perf_counter() - started,
        **results,  # type: ignore[arg-type]
    )
    check_correctness(report)
    return report


def check_correctness(report: BenchReport) -> None:
    """Assert what was measured is right (never how fast): the quick run's only checks.

    Aggregate digests equal across repeats, store round trips and the overhead run's
    model digest against the baseline's are checked while measuring; this adds the rest.
    """
    if report.gas is not None:
        bad = [r for r in report.gas.rows if not r.gas.low > 0]
        assert not bad, f"non-positive gas measured: {bad}"
    for row in report.scale:
        assert row.accepted, f"the {row.members}-member round did not accept its aggregate"
        assert row.submit_gas > 0 and row.vote_gas > 0
    if report.aggregation is not None:
        assert all(r.gb_per_s > 0 for r in report.aggregation.rules)
    for case in report.overhead:
        assert all(t.seconds > 0 and t.baseline_seconds > 0 for t in case.rounds)
    if report.compression is not None:
        check_compression(report.compression)
    if report.memory is not None:
        check_memory(report.memory)
    if report.secagg is not None:
        check_secagg(report.secagg)
