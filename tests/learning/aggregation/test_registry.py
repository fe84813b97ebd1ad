from __future__ import annotations

import pytest

from daofed.chain.proposals import KINDS, check_rule
from daofed.chain.values import ProposalKind
from daofed.errors import ConfigError, LearningError
from daofed.learning.aggregation import (
    RULE_NAMES,
    Clipped,
    FedAvg,
    Median,
    MultiKrum,
    TrimmedMean,
    parse_rule,
)
from daofed.learning.aggregation.proximal import Proximal
from daofed.learning.aggregation.registry import GRAMMAR
from daofed.learning.aggregation.secure import SecureFedAvg


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
        ("fedavg:secagg=3", SecureFedAvg(3)),
        ("fedavg:secagg=2,prox=0.01", Proximal(SecureFedAvg(2), 0.01)),
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
        (" fedavg : secagg = 05 ", "fedavg:secagg=5"),
        ("fedavg:prox=0.1,secagg=3", "fedavg:secagg=3,prox=0.1"),
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


# -- private rounds: fedavg:secagg=<threshold> ------------------------------------------

ADAM = "lr=0.01,beta1=0.9,beta2=0.99,tau=0.001"
ROBUST = "needs each member's update, and secure aggregation shows only the sum"
SERVER = "server optimisers are not available in private rounds"
CLIP = "members clip their own updates before masking instead \\(daofed agent --dp-clip"
COMPRESS = "masked updates are 64-bit fixed-point integers"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("median:secagg=3", f"secagg with median: median {ROBUST}"),
        ("trimmed-mean:beta=0.2,secagg=3", f"trimmed-mean {ROBUST}"),
        ("krum:f=1,secagg=3", f"krum {ROBUST}"),
        ("multi-krum:f=1,m=3,secagg=3", f"multi-krum {ROBUST}"),
        ("median:secagg=3,clip=1.0", f"median {ROBUST}"),
        (f"fedadam:{ADAM},secagg=3", f"secagg with fedadam: .*{SERVER}"),
        (f"fedyogi:{ADAM},secagg=3", SERVER),
        ("fedadagrad:lr=0.1,tau=0.001,secagg=3", SERVER),
        ("fedavgm:lr=1.0,momentum=0.9,secagg=3", SERVER),
        ("fedavgm:lr=1.0,momentum=0.9,of=median,secagg=3", SERVER),
        ("fedavg:secagg=3,clip=1.0", f"clip=1.0 with secagg: .*{CLIP}"),
        ("fedavg:secagg=3,clip=1.0,prox=0.1", CLIP),
        ("fedavg:secagg=3,compress=int8", f"compress=int8 with secagg: {COMPRESS}"),
        ("fedavg:secagg=3,compress=fp16", "drop compress= for private rounds"),
        ("fedavg:secagg=1", "at least 2, or any single member could unmask"),
        ("fedavg:secagg=0", "at least 2"),
        ("fedavg:secagg=70000", "at most 65535"),
        ("fedavg:secagg=three", "whole number"),
        ("fedavg:secagg=2.5", "whole number"),
        ("fedavg:secagg=3,secagg=4", "given twice"),
        ("fedavg:secagg=3,of=median", r"unknown \['of'\]"),
        ("fedavg:secagg=3,beta=0.1", r"unknown \['beta'\]"),
    ],
)
def test_specs_private_rounds_cannot_run_are_refused_with_the_reason(
    spec: str, message: str
) -> None:
    with pytest.raises(LearningError, match=message) as caught:
        parse_rule(spec)
    reason = str(caught.value).split(". Rules: ")[0]
    assert "\n" not in reason and reason.startswith(f"rule {spec!r}: ")


def test_the_grammar_names_private_rounds() -> None:
    assert "fedavg:secagg=<threshold 2..members>" in GRAMMAR


def test_a_proposal_for_a_rule_private_rounds_cannot_run_never_reaches_the_chain() -> None:
    """check_rule (the proposal's value check) parses the rule before anything is sent."""
    kind = KINDS[ProposalKind.SET_RULE]
    for spec in ("median:secagg=3", "fedavg:secagg=3,clip=1.0", "fedavg:secagg=1"):
        with pytest.raises(ConfigError, match="secagg"):
            check_rule(spec)
        with pytest.raises(ConfigError, match="secagg"):
            kind.parse(spec)  # daofed propose set-rule SPEC
        with pytest.raises(ConfigError, match="secagg"):
            kind.arguments(spec)  # Federation.propose, before the contract call
    assert kind.parse(" fedavg:prox=0.01,secagg=03 ") == "fedavg:secagg=3,prox=0.01"
    assert kind.arguments("fedavg:secagg=3") == ("fedavg:secagg=3",)
