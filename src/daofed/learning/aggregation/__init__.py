"""Deterministic aggregation rules: one rule per module behind :class:`AggregationRule`.

Every rule is a pure function of the updates, independent of their order and
bit-identical on every machine (see :mod:`.numeric` for how), because each member
computes the aggregate on its own and votes for its digest.
"""

from daofed.learning.aggregation.base import AggregationRule, MemberUpdate, sorted_updates
from daofed.learning.aggregation.clipping import Clipped, clip_update, clip_updates
from daofed.learning.aggregation.compressed import Compressed
from daofed.learning.aggregation.delta import apply_delta, compute_delta
from daofed.learning.aggregation.fedavg import FedAvg, fedavg
from daofed.learning.aggregation.krum import MultiKrum, krum, krum_scores, multi_krum
from daofed.learning.aggregation.median import Median, median
from daofed.learning.aggregation.numeric import l2_norm, ordered_sum
from daofed.learning.aggregation.registry import RULE_NAMES, parse_rule
from daofed.learning.aggregation.trimmed_mean import TrimmedMean, trimmed_mean

__all__ = [
    "RULE_NAMES",
    "AggregationRule",
    "Clipped",
    "Compressed",
    "FedAvg",
    "Median",
    "MemberUpdate",
    "MultiKrum",
    "TrimmedMean",
    "apply_delta",
    "clip_update",
    "clip_updates",
    "compute_delta",
    "fedavg",
    "krum",
    "krum_scores",
    "l2_norm",
    "median",
    "multi_krum",
    "ordered_sum",
    "parse_rule",
    "sorted_updates",
    "trimmed_mean",
]
