"""Communication: bytes per update and accuracy under fp16/int8 compression and local DP.

It measures the accuracy effect and the bytes saved of each update encoding. It
runs the federated rounds in one process through the protocol core's own simulation
(:func:`daofed.protocol.simulation.simulate`): every member makes its update exactly as
an agent does (:func:`daofed.protocol.make_update`: train from the global model, clip and
noise it if private, encode it as the rule's ``compress=`` says) and every round is
aggregated by :func:`daofed.protocol.aggregate_round`, which decodes each update strictly
and applies FedAvg. Only the chain and the store's transport are left out; neither
changes a byte of an update.

Bytes are those of the canonical safetensors blob (header included) that a member puts in
the store and every other member fetches; "saved" is against the float32 encoding of the
same update. Accuracy is on the held-out test split after the last round. Epsilon is what
a private member would report after those rounds (Opacus's RDP accountant, one release
per round; the module docstring of :mod:`daofed.learning.privacy` says what that assumes).

Correctness is checked while measuring: every update of every round passed the
aggregators' strict decoding (which accepts only blobs laid out exactly as the compressed
model spec says, so of exactly its size), none was excluded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from rich.table import Table

from bench.models import MODELS, parameter_count
from daofed.learning.aggregation import parse_rule
from daofed.learning.builtin_tasks import mlp_task
from daofed.learning.compression import Compression, compressed_spec
from daofed.learning.data import FederatedSplit, load_digits, split_federated
from daofed.learning.model import ModelConfig, model_spec
from daofed.learning.privacy import Adjacency, PrivacySettings, epsilon
from daofed.learning.train import TrainConfig
from daofed.protocol import RoundAggregate
from daofed.protocol.simulation import SimulationConfig, members_of, simulate


@dataclass(frozen=True)
class CompressionConfig:
    """What to run: federation size, rounds, the DP settings tried, the rule."""

    members: int = 5
    rounds: int = 5
    epochs: int = TrainConfig().epochs
    sigmas: tuple[float, ...] = (0.1, 1.0)  # noise multipliers tried, besides no DP
    clip: float = 5.0  # DP clip norm; an update of the digits MLP measures ~10 here
    delta: float = 1e-5
    rule: str = "fedavg"
    alpha: float | None = None  # data split: None = IID, else Dirichlet label skew
    seed: int = 0

    @classmethod
    def quick(cls) -> CompressionConfig:
        """Small and fast (a few seconds): for CI, where only correctness is checked."""
        return cls(members=3, rounds=2, epochs=1, sigmas=(0.1,))


@dataclass(frozen=True)
class CompressionCase:
    """One encoding (and DP setting), run for every round of the configuration."""

    compression: str  # none | fp16 | int8
    sigma: float | None  # DP noise multiplier; None = no DP
    update_bytes: int  # bytes of one encoded update (the same for every update)
    float32_bytes: int  # bytes of the same update as float32
    accuracies: tuple[float, ...]  # test accuracy after each round
    aggregates: tuple[str, ...]  # sha256 of each round's aggregate: reproducible anywhere
    epsilon: float | None  # after all rounds, add/remove adjacency (None without DP)
    epsilon_replace: float | None  # after all rounds, any change of the member's data

    @property
    def saved(self) -> float:
        """Fraction of the float32 bytes this encoding saves."""
        return 1.0 - self.update_bytes / self.float32_bytes

    @property
    def final_accuracy(self) -> float:
        """Test accuracy after the last round."""
        return self.accuracies[-1]


@dataclass(frozen=True)
class UpdateSize:
    """Bytes of one update of a model under each encoding (no training needed)."""

    model: str
    parameters: int
    blob_bytes: dict[str, int]  # encoding -> canonical blob size

    def saved(self, compression: str) -> float:
        """Fraction of the float32 bytes ``compression`` saves."""
        return 1.0 - self.blob_bytes[compression] / self.blob_bytes[Compression.NONE.value]


@dataclass(frozen=True)
class CompressionResult:
    """Every case of one configuration, and update sizes of the larger benchmark models."""

    config: CompressionConfig
    parameters: int
    cases: tuple[CompressionCase, ...]
    sizes: tuple[UpdateSize, ...]


Progress = Callable[[str], None]


def measure_compression(
    config: CompressionConfig | None = None, progress: Progress = lambda _m: None
) -> CompressionResult:
    """Run every encoding without DP and with each of ``config.sigmas``; return the cases."""
    config = config or CompressionConfig()
    model = ModelConfig()
    split = split_federated(load_digits(), config.members, alpha=config.alpha, seed=config.seed)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the digits MLP trains fastest on one thread
    try:
        cases = []
        for sigma in (None, *config.sigmas):
            for compression in Compression:
                dp = "no DP" if sigma is None else f"DP sigma={sigma:g}"
                progress(f"compression {compression.value}, {dp}")
                cases.append(_run_case(config, model, split, compression, sigma))
    finally:
        torch.set_num_threads(threads)
    return CompressionResult(
        config=config,
        parameters=parameter_count(model),
        cases=tuple(cases),
        sizes=update_sizes({"digits": model, **MODELS}),
    )


def update_sizes(models: dict[str, ModelConfig]) -> tuple[UpdateSize, ...]:
    """Bytes of one encoded update of each model, from its compressed spec (exact)."""
    return tuple(
        UpdateSize(
            name,
            parameter_count(cfg),
            {c.value: compressed_spec(model_spec(cfg), c).encoded_size for c in Compression},
        )
        for name, cfg in models.items()
    )


def _run_case(
    config: CompressionConfig,
    model: ModelConfig,
    split: FederatedSplit,
    compression: Compression,
    sigma: float | None,
) -> CompressionCase:
    task = mlp_task(model)
    spec = model_spec(model)
    rule_spec = config.rule if compression is Compression.NONE else _with(config.rule, compression)
    privacy = None
    if sigma is not None:
        privacy = PrivacySettings(clip=config.clip, noise=sigma, delta=config.delta)
    members = members_of(task, split)
    result = simulate(
        task,
        members,
        SimulationConfig(
            rule=parse_rule(rule_spec),
            rounds=config.rounds,
            seed=config.seed,
            options={"epochs": config.epochs},
            privacy=privacy,
        ),
        test=task.as_data(split.test),
    )
    for done in result.rounds:
        _check_all_counted(done.aggregate, len(members))
    return CompressionCase(
        compression=compression.value,
        sigma=sigma,
        update_bytes=compressed_spec(spec, compression).encoded_size,
        float32_bytes=spec.encoded_size,
        accuracies=result.series("accuracy"),
        aggregates=tuple(done.aggregate_digest for done in result.rounds),
        epsilon=None if privacy is None else epsilon(privacy, config.rounds),
        epsilon_replace=(
            None if privacy is None else epsilon(privacy, config.rounds, Adjacency.REPLACE)
        ),
    )


def _check_all_counted(aggregate: RoundAggregate, members: int) -> None:
    """Every update decoded strictly (so it had exactly its spec's size) and was counted."""
    if aggregate.excluded or len(aggregate.included) != members:
        raise AssertionError(
            f"round {aggregate.round}: {len(aggregate.included)} of {members} updates "
            f"aggregated; excluded: {aggregate.excluded}"
        )


def _with(rule: str, compression: Compression) -> str:
    return f"{rule}{',' if ':' in rule else ':'}compress={compression.value}"


def check_compression(result: CompressionResult) -> None:
    """Assert the measurement is sane (never how accurate): for the quick run in CI.

    Sizes were checked against the spec while measuring; here: each case ran every round,
    compression saves bytes (fp16 about half, int8 about three quarters), accuracies are
    fractions, and epsilon is given exactly for DP cases and falls as sigma grows.
    """
    rounds = result.config.rounds
    for case in result.cases:
        assert len(case.accuracies) == rounds, case
        assert all(0.0 <= a <= 1.0 for a in case.accuracies), case
        assert (case.epsilon is None) == (case.sigma is None), case
        if case.compression == "none":
            assert case.update_bytes == case.float32_bytes, case
        if case.compression == "fp16":
            assert 0.45 < case.saved < 0.5, case
        if case.compression == "int8":
            assert 0.65 < case.saved < 0.75, case
    for size in result.sizes:
        assert size.blob_bytes["int8"] < size.blob_bytes["fp16"] < size.blob_bytes["none"], size
    private = sorted(
        (c.sigma, c.epsilon) for c in result.cases if c.sigma is not None and c.epsilon is not None
    )
    epsilons = [e for _, e in private]
    assert epsilons == sorted(epsilons, reverse=True), private


def compression_table(result: CompressionResult) -> Table:
    """Show the cases as a rich table (what the benchmark report prints)."""
    c = result.config
    table = Table(
        title=f"Update encodings: {c.members} members, {c.rounds} rounds of {c.epochs} epochs, "
        f"{c.rule}, {result.parameters:,} parameters; DP clip {c.clip:g}, delta {c.delta:g}"
    )
    for column in ("encoding", "DP sigma", "bytes/update", "saved", "final accuracy",
                   "epsilon", "epsilon (replace)"):  # fmt: skip
        table.add_column(column, justify="left" if column == "encoding" else "right")
    for row in rows(result):
        table.add_row(*row)
    return table


def sizes_table(result: CompressionResult) -> Table:
    """Show the bytes of one update of each model under each encoding as a rich table."""
    table = Table(title="Bytes per update by encoding (canonical safetensors, header included)")
    for column in ("model", "parameters", "float32", "fp16", "int8", "fp16 saves", "int8 saves"):
        table.add_column(column, justify="left" if column == "model" else "right")
    for size in result.sizes:
        table.add_row(*size_row(size))
    return table


def size_row(size: UpdateSize) -> tuple[str, ...]:
    """One formatted row of :func:`sizes_table`."""
    return (
        size.model,
        f"{size.parameters:,}",
        *(f"{size.blob_bytes[c.value]:,}" for c in Compression),
        f"{size.saved('fp16'):.1%}",
        f"{size.saved('int8'):.1%}",
    )


def markdown_table(result: CompressionResult) -> str:
    """Show the cases as a Markdown table (what docs/compression.md shows)."""
    header = ("encoding", "DP sigma", "bytes/update", "saved", "final accuracy", "epsilon",
              "epsilon (replace)")  # fmt: skip
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows(result)]
    sizes = ("model", "parameters", "float32", "fp16", "int8", "fp16 saves", "int8 saves")
    lines += ["", "| " + " | ".join(sizes) + " |", "|" + "---|" * len(sizes)]
    lines += ["| " + " | ".join(size_row(size)) + " |" for size in result.sizes]
    return "\n".join(lines)


def rows(result: CompressionResult) -> list[tuple[str, ...]]:
    """One formatted row per case, as both tables show it."""
    return [
        (
            case.compression,
            "-" if case.sigma is None else f"{case.sigma:g}",
            f"{case.update_bytes:,}",
            f"{case.saved:.1%}",
            f"{case.final_accuracy:.3f}",
            "-" if case.epsilon is None else f"{case.epsilon:.3g}",
            "-" if case.epsilon_replace is None else f"{case.epsilon_replace:.3g}",
        )
        for case in result.cases
    ]


def main(argv: list[str] | None = None) -> None:
    """``python -m bench.compression [--quick] [--sigmas 0.1,1]``: print Markdown."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes (seconds)")
    parser.add_argument("--sigmas", help="comma-separated DP noise multipliers to try")
    args = parser.parse_args(argv)
    config = CompressionConfig.quick() if args.quick else CompressionConfig()
    if args.sigmas:
        sigmas = tuple(float(s) for s in args.sigmas.split(","))
        config = CompressionConfig(**{**config.__dict__, "sigmas": sigmas})
    result = measure_compression(config)
    check_compression(result)
    print(markdown_table(result))


if __name__ == "__main__":
    main()
