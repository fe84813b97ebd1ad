from __future__ import annotations

import pytest

from daofed.errors import LearningError
from daofed.learning.aggregation import (
    RULE_NAMES,
    Clipped,
    FedAvg,
    Median,
    MultiKrum,
    TrimmedMean,
    parse_rule,
)


@pytest.mark.parametrize(
    ("spec", "rule"),
    [
        ("fedavg", FedAvg()),
        ("median", Median()),
        ("trimmed-mean:beta=0.2", TrimmedMean(0.2)),
        ("krum:f=1", MultiKrum(f=1, m=1)),
        ("multi-krum:f=1,m=3", MultiKrum(f=1, m=3)),
        ("fedavg:clip=1.0", Clipped(FedAvg(), 1.0)),
        ("multi-krum:f=2,m=4,clip=0.5", Clipped(MultiKrum(f=2, m=4), 0.5)),
        ("trimmed-mean:beta=0.1,clip=2.5", Clipped(TrimmedMean(0.1), 2.5)),
    ],
)
def test_canonical_specs_round_trip(spec: str, rule: object) -> None:
    parsed = parse_rule(spec)
    assert parsed == rule
    assert parsed.spec == spec
    assert parse_rule(parsed.spec) == parsed


@pytest.mark.parametrize(
    ("spec", "canonical"),
    [
        (" fedavg ", "fedavg"),
        ("multi-krum:f=1,m=1", "krum:f=1"),
        ("median:clip=1", "median:clip=1.0"),
        ("trimmed-mean: beta = 0.25 ", "trimmed-mean:beta=0.25"),
        ("multi-krum:clip=3,m=2,f=1", "multi-krum:f=1,m=2,clip=3.0"),
    ],
)
def test_variants_parse_to_the_canonical_spec(spec: str, canonical: str) -> None:
    assert parse_rule(spec).spec == canonical


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("fedsgd", "unknown aggregation rule 'fedsgd'"),
        ("", "unknown aggregation rule"),
        ("trimmed-mean", r"missing \['beta'\]"),
        ("multi-krum:f=1", r"missing \['m'\]"),
        ("fedavg:beta=0.1", r"unknown \['beta'\]"),
        ("median:clip=1,clip=2", "given twice"),
        ("krum:f=one", "whole number"),
        ("krum:f=-1", "whole number"),
        ("krum:f=1.0", "whole number"),
        ("fedavg:clip=nan", "finite number"),
        ("fedavg:clip=-1", "positive"),
        ("trimmed-mean:beta=0.6", r"\[0, 0.5\)"),
        ("median:", "key=value"),
        ("krum:f", "key=value"),
    ],
)
def test_bad_specs_say_what_to_write(spec: str, message: str) -> None:
    with pytest.raises(LearningError, match=message):
        parse_rule(spec)


def test_rule_names() -> None:
    assert RULE_NAMES == (
        "fedavg",
        "median",
        "trimmed-mean",
        "krum",
        "multi-krum",
        "fedavgm",
        "fedadam",
        "fedyogi",
        "fedadagrad",
    )
