"""The ``compress=`` modifier: parsed like ``clip=``, changes the encoding, not the arithmetic."""

from __future__ import annotations

import pytest

from daofed.errors import LearningError
from daofed.learning.aggregation import (
    Clipped,
    Compressed,
    FedAvg,
    Median,
    MultiKrum,
    TrimmedMean,
    parse_rule,
)
from daofed.learning.compression import Compression

from .determinism_worker import make_updates


@pytest.mark.parametrize(
    ("spec", "rule"),
    [
        ("fedavg:compress=int8", Compressed(FedAvg(), Compression.INT8)),
        ("median:compress=fp16", Compressed(Median(), Compression.FP16)),
        (
            "median:clip=1.0,compress=fp16",
            Compressed(Clipped(Median(), 1.0), Compression.FP16),
        ),
        (
            "multi-krum:f=1,m=3,clip=0.5,compress=int8",
            Compressed(Clipped(MultiKrum(f=1, m=3), 0.5), Compression.INT8),
        ),
        ("trimmed-mean:beta=0.2,compress=int8", Compressed(TrimmedMean(0.2), Compression.INT8)),
    ],
)
def test_canonical_specs_round_trip(spec: str, rule: Compressed) -> None:
    parsed = parse_rule(spec)
    assert parsed == rule and parsed.spec == spec and parse_rule(parsed.spec) == parsed
    assert parsed.compression is rule.method


@pytest.mark.parametrize(
    ("spec", "canonical"),
    [
        ("fedavg: compress = int8", "fedavg:compress=int8"),
        ("median:compress=fp16,clip=1", "median:clip=1.0,compress=fp16"),
        ("multi-krum:compress=int8,m=1,f=2", "krum:f=2,compress=int8"),
    ],
)
def test_variants_parse_to_the_canonical_spec(spec: str, canonical: str) -> None:
    assert parse_rule(spec).spec == canonical


def test_rules_without_compress_send_float32() -> None:
    for spec in ("fedavg", "median:clip=1.0", "krum:f=1"):
        assert parse_rule(spec).compression is Compression.NONE


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("fedavg:compress=none", "compress must be one of fp16, int8"),
        ("fedavg:compress=int4", "compress must be one of fp16, int8"),
        ("fedavg:compress=", "key=value"),
        ("fedavg:compress=int8,compress=fp16", "given twice"),
        ("trimmed-mean:compress=int8", r"missing \['beta'\]"),
    ],
)
def test_bad_specs_say_what_to_write(spec: str, message: str) -> None:
    with pytest.raises(LearningError, match=message):
        parse_rule(spec)


def test_one_canonical_nesting() -> None:
    with pytest.raises(LearningError, match="twice"):
        Compressed(Compressed(FedAvg(), Compression.INT8), Compression.FP16)
    with pytest.raises(LearningError, match="fp16 or int8"):
        Compressed(FedAvg(), Compression.NONE)
    with pytest.raises(LearningError, match="inside prox and compress"):
        Clipped(Compressed(FedAvg(), Compression.INT8), 1.0)


@pytest.mark.parametrize("spec", ["fedavg", "median:clip=0.5", "multi-krum:f=1,m=3"])
def test_aggregation_is_the_inner_rules(spec: str) -> None:
    updates = make_updates(seed=7, n=8)
    plain = parse_rule(spec)
    for method in ("fp16", "int8"):
        compressed = parse_rule(f"{spec}{',' if ':' in spec else ':'}compress={method}")
        assert compressed.min_updates == plain.min_updates
        got, want = compressed.aggregate(updates), plain.aggregate(updates)
        assert all(got[k].tobytes() == want[k].tobytes() for k in want)
