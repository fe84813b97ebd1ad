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
    | fedavg:secagg=<int>[,prox=<float>]    private rounds (secure aggregation)

``clip`` wraps any rule in norm clipping; ``prox`` makes members train with FedProx's
proximal term; ``compress`` says how updates are encoded in the rounds the rule governs
(see :mod:`daofed.learning.compression`). ``secagg`` makes the rounds private with that
Shamir threshold (:mod:`.secure`); masked updates only ever show their sum, so it goes
with FedAvg alone, and without ``clip`` and ``compress`` (:func:`_check_private` says
why for each). ``rule.spec`` gives the canonical form (``secagg`` or ``clip``, then
``prox``, then ``compress``), and ``parse_rule(rule.spec) == rule`` for every rule.
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
from daofed.learning.aggregation.secure import SecureFedAvg
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
    "fedadam:lr=0.01,beta1=0.9,beta2=0.99,tau=0.001,of=median,prox=0.01. Private rounds "
    "(secure aggregation): fedavg:secagg=<threshold 2..members>, optionally prox=<mu>"
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
    ``clip``, ``prox`` and ``compress`` are optional for all rules, ``of`` for server
    optimisers and ``secagg`` for fedavg. Unknown names, unknown, repeated or missing
    parameters, values out of range and combinations private rounds cannot run are
    errors, never silently ignored; the message gives the grammar.
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
    clip, prox, compress, secagg = (
        params.pop(key, None) for key in ("clip", "prox", "compress", "secagg")
    )
    if secagg is not None:
        _check_private(name, clip=clip, compress=compress)
        _check_keys(name, (), params)
        rule: AggregationRule = SecureFedAvg(_int("secagg", secagg))
    elif name in SERVER_OPTIMIZERS:
        rule = _server_rule(name, params)
    else:
        rule = _base_rule(name, params)
    if clip is not None:
        rule = Clipped(rule, _float("clip", clip))
    if prox is not None:
        rule = Proximal(rule, _float("prox", prox))
    if compress is not None:
        rule = Compressed(rule, parse_compression(compress))
    return rule


def _check_private(name: str, *, clip: str | None, compress: str | None) -> None:
    """Refuse what cannot run on masked updates, saying why and what to use instead.

    A masked update is uniform noise on its own and only the sum of a round's updates is
    ever unmasked, so nothing may need one member's update; and the sum is of 64-bit
    fixed-point integers. Refused here, when a spec is parsed, a proposal for such a rule
    never reaches the chain (:func:`daofed.chain.proposals.check_rule` parses it first).
    """
    if name in SERVER_OPTIMIZERS:
        raise LearningError(
            f"secagg with {name}: a private round's next model is base + the unmasked FedAvg "
            "delta, the one step its protocol defines, so server optimisers are not available "
            "in private rounds; use fedavg:secagg=<threshold>"
        )
    if name != FedAvg.name:
        raise LearningError(
            f"secagg with {name}: {name} needs each member's update, and secure aggregation "
            "shows only the sum; private rounds aggregate with fedavg:secagg=<threshold>"
        )
    if clip is not None:
        raise LearningError(
            f"clip={clip} with secagg: clipping when aggregating needs each update's norm, and "
            "secure aggregation shows only the sum; members clip their own updates before "
            "masking instead (daofed agent --dp-clip <norm> --dp-noise <sigma>)"
        )
    if compress is not None:
        raise LearningError(
            f"compress={compress} with secagg: masked updates are 64-bit fixed-point integers "
            "modulo 2^64, which fp16 or int8 cannot carry; drop compress= for private rounds"
        )


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
