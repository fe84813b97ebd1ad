"""Rule spec strings <-> rule objects.

The DAO stores the aggregation rule as a short string (on chain, in ``RoundOpened`` and
``ConfigChanged``); every member parses it with :func:`parse_rule`. Grammar::

    spec   := name [":" param ("," param)*]
    param  := key "=" value

    fedavg | median | trimmed-mean:beta=<float> | krum:f=<int>
    | multi-krum:f=<int>,m=<int>          plus optional ",clip=<float>" / ":clip=<float>"
                                          and ",compress=fp16|int8" / ":compress=..."

``clip`` wraps any rule in norm clipping; ``compress`` says how updates are encoded in
the rounds the rule governs (see :mod:`daofed.learning.compression`), and wraps the rest.
``rule.spec`` gives the canonical form (``clip`` before ``compress``), and
``parse_rule(rule.spec) == rule`` for every rule.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping

from daofed.errors import LearningError
from daofed.learning.aggregation.base import AggregationRule
from daofed.learning.aggregation.clipping import Clipped
from daofed.learning.aggregation.compressed import Compressed
from daofed.learning.aggregation.fedavg import FedAvg
from daofed.learning.aggregation.krum import MultiKrum
from daofed.learning.aggregation.median import Median
from daofed.learning.aggregation.trimmed_mean import TrimmedMean
from daofed.learning.compression import Compression, parse_compression

_INT = re.compile(r"[0-9]+")
_EXAMPLES = (
    "fedavg, median, trimmed-mean:beta=0.2, krum:f=1, multi-krum:f=1,m=3, fedavg:clip=1.0, "
    "median:clip=1.0,compress=int8"
)


def _int(spec: str, key: str, text: str) -> int:
    if not _INT.fullmatch(text):
        raise LearningError(f"rule {spec!r}: {key} must be a whole number >= 0, got {text!r}")
    return int(text)


def _float(spec: str, key: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise LearningError(f"rule {spec!r}: {key} must be a finite number, got {text!r}")
    return value


Builder = Callable[[str, Mapping[str, str]], AggregationRule]

_RULES: dict[str, tuple[tuple[str, ...], Builder]] = {
    "fedavg": ((), lambda spec, p: FedAvg()),
    "median": ((), lambda spec, p: Median()),
    "trimmed-mean": (("beta",), lambda spec, p: TrimmedMean(_float(spec, "beta", p["beta"]))),
    "krum": (("f",), lambda spec, p: MultiKrum(f=_int(spec, "f", p["f"]), m=1)),
    "multi-krum": (
        ("f", "m"),
        lambda spec, p: MultiKrum(f=_int(spec, "f", p["f"]), m=_int(spec, "m", p["m"])),
    ),
}

#: Rule names :func:`parse_rule` knows.
RULE_NAMES: tuple[str, ...] = tuple(_RULES)


def parse_rule(spec: str) -> AggregationRule:
    """Build the rule a spec string names; :class:`LearningError` says what is wrong.

    Every parameter a rule takes is required (on-chain specs should say everything);
    ``clip`` and ``compress`` are optional for all rules. Unknown names, unknown, repeated
    or missing parameters are errors, never silently ignored.
    """
    text = spec.strip()
    name, colon, rest = text.partition(":")
    name = name.strip()
    if name not in _RULES:
        raise LearningError(
            f"unknown aggregation rule {name!r} in {spec!r}; known: {', '.join(RULE_NAMES)} "
            f"(e.g. {_EXAMPLES})"
        )
    params = _params(spec, rest) if colon else {}
    clip = params.pop("clip", None)
    compress = params.pop("compress", None)
    required, build = _RULES[name]
    missing = [key for key in required if key not in params]
    unknown = sorted(set(params) - set(required))
    if missing or unknown:
        usage = name + (":" + ",".join(f"{k}=..." for k in required) if required else "")
        raise LearningError(
            f"rule {spec!r}: missing {missing}, unknown {unknown} parameters; "
            f"write {usage} (optionally with clip=<norm>, compress=fp16|int8)"
        )
    rule = build(spec, params)
    if clip is not None:
        rule = Clipped(rule, _float(spec, "clip", clip))
    if compress is not None:
        rule = Compressed(rule, _compression(spec, compress))
    return rule


def _compression(spec: str, text: str) -> Compression:
    try:
        return parse_compression(text)
    except LearningError as error:
        raise LearningError(f"rule {spec!r}: {error}") from None


def _params(spec: str, text: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for item in text.split(","):
        key, eq, value = (part.strip() for part in item.partition("="))
        if not eq or not key or not value:
            raise LearningError(
                f"rule {spec!r}: parameter {item.strip()!r} is not key=value; e.g. {_EXAMPLES}"
            )
        if key in params:
            raise LearningError(f"rule {spec!r}: parameter {key!r} is given twice")
        params[key] = value
    return params
