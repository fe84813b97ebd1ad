"""Rule spec strings <-> rule objects.

The DAO stores the aggregation rule as a short string (on chain, in ``RoundOpened`` and
``ConfigChanged``); every member parses it with :func:`parse_rule`. Grammar::

    spec   := name [":" param ("," param)*]
    param  := key "=" value

    fedavg | median | trimmed-mean:beta=<float> | krum:f=<int>
    | multi-krum:f=<int>,m=<int>
    | fedavgm:lr=<float>,momentum=<float>
    | fedadam:lr=,beta1=,beta2=,tau= | fedyogi:lr=,beta1=,beta2=,tau=
    | fedadagrad:lr=,tau=                   server optimisers, stepping with the FedAvg
                                            aggregate or of=<one of the five above>
                                            (with that rule's parameters)
    and for every rule, optionally: clip=<float>, prox=<float>, compress=fp16|int8

``clip`` wraps any rule in norm clipping; ``prox`` makes members train with FedProx's
proximal term; ``compress`` says how updates are encoded in the rounds the rule governs
(see :mod:`daofed.learning.compression`). ``rule.spec`` gives the canonical form
(``clip``, then ``prox``, then ``compress``), and ``parse_rule(rule.spec) == rule`` for
every rule.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import fields

from daofed.errors import LearningError
from daofed.learning.aggregation.base import AggregationRule
from daofed.learning.aggregation.clipping import Clipped
from daofed.learning.aggregation.compressed import Compressed
from daofed.learning.aggregation.fedavg import FedAvg
from daofed.learning.aggregation.krum import MultiKrum
from daofed.learning.aggregation.median import Median
from daofed.learning.aggregation.proximal import Proximal
from daofed.learning.aggregation.server import SERVER_OPTIMIZERS, ServerOptimized
from daofed.learning.aggregation.trimmed_mean import TrimmedMean
from daofed.learning.compression import parse_compression

_INT = re.compile(r"[0-9]+")
GRAMMAR = (
    "fedavg | median | trimmed-mean:beta=<0..0.5> | krum:f=<int> | multi-krum:f=<int>,m=<int> "
    "| fedavgm:lr=<float>,momentum=<0..1> | fedadam or fedyogi:lr=<float>,beta1=<0..1>,"
    "beta2=<0..1>,tau=<float> | fedadagrad:lr=<float>,tau=<float> (these four step with "
    "the FedAvg aggregate, or add of=<one of the first five> and its parameters); any rule "
    "may add clip=<norm>, prox=<mu>, compress=fp16|int8. E.g. "
    "fedadam:lr=0.01,beta1=0.9,beta2=0.99,tau=0.001,of=median,prox=0.01"
)
"""The rule grammar in one line, for error messages."""


def _int(key: str, text: str) -> int:
    if not _INT.fullmatch(text):
        raise LearningError(f"{key} must be a whole number >= 0, got {text!r}")
    return int(text)


def _float(key: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise LearningError(f"{key} must be a finite number, got {text!r}")
    return value


Builder = Callable[[Mapping[str, str]], AggregationRule]

_RULES: dict[str, tuple[tuple[str, ...], Builder]] = {
    "fedavg": ((), lambda p: FedAvg()),
    "median": ((), lambda p: Median()),
    "trimmed-mean": (("beta",), lambda p: TrimmedMean(_float("beta", p["beta"]))),
    "krum": (("f",), lambda p: MultiKrum(f=_int("f", p["f"]), m=1)),
    "multi-krum": (
        ("f", "m"),
        lambda p: MultiKrum(f=_int("f", p["f"]), m=_int("m", p["m"])),
    ),
}

#: Rule names :func:`parse_rule` knows: the base rules, then the server optimisers.
RULE_NAMES: tuple[str, ...] = (*_RULES, *SERVER_OPTIMIZERS)


def parse_rule(spec: str) -> AggregationRule:
    """Build the rule a spec string names; :class:`LearningError` says what is wrong.

    Every parameter a rule takes is required (on-chain specs should say everything);
    ``clip``, ``prox`` and ``compress`` are optional for all rules, and ``of`` for server
    optimisers. Unknown names, unknown, repeated or missing parameters and values out of
    range are errors, never silently ignored; the message gives the grammar.
    """
    try:
        return _parse(spec)
    except LearningError as error:
        raise LearningError(f"rule {spec!r}: {error}. Rules: {GRAMMAR}") from None


def _parse(spec: str) -> AggregationRule:
    name, colon, rest = spec.strip().partition(":")
    name = name.strip()
    if name not in RULE_NAMES:
        raise LearningError(f"unknown aggregation rule {name!r}")
    params = _params(rest) if colon else {}
    clip, prox, compress = (params.pop(key, None) for key in ("clip", "prox", "compress"))
    rule = _server_rule(name, params) if name in SERVER_OPTIMIZERS else _base_rule(name, params)
    if clip is not None:
        rule = Clipped(rule, _float("clip", clip))
    if prox is not None:
        rule = Proximal(rule, _float("prox", prox))
    if compress is not None:
        rule = Compressed(rule, parse_compression(compress))
    return rule


def _base_rule(name: str, params: Mapping[str, str]) -> AggregationRule:
    required, build = _RULES[name]
    _check_keys(name, required, params)
    return build(params)


def _server_rule(name: str, params: dict[str, str]) -> AggregationRule:
    optimizer = SERVER_OPTIMIZERS[name]
    keys = tuple(field.name for field in fields(optimizer))
    inner = params.pop("of", "fedavg")
    if inner not in _RULES:
        raise LearningError(f"of={inner!r}: {name} steps with one of {', '.join(_RULES)}")
    required, build = _RULES[inner]
    _check_keys(name if inner == "fedavg" else f"{name} of {inner}", keys + required, params)
    hyper = {key: _float(key, params[key]) for key in keys}
    return ServerOptimized(build(params), optimizer(**hyper))


def _check_keys(name: str, required: tuple[str, ...], params: Mapping[str, str]) -> None:
    missing = [key for key in required if key not in params]
    unknown = sorted(set(params) - set(required))
    problems = ([f"missing {missing}"] if missing else []) + (
        [f"unknown {unknown}"] if unknown else []
    )
    if problems:
        raise LearningError(f"{name}: {' and '.join(problems)} parameters")


def _params(text: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for item in text.split(","):
        key, eq, value = (part.strip() for part in item.partition("="))
        if not eq or not key or not value:
            raise LearningError(f"parameter {item.strip()!r} is not key=value")
        if key in params:
            raise LearningError(f"parameter {key!r} is given twice")
        params[key] = value
    return params
