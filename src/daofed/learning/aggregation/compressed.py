"""The ``compress=`` modifier: a rule whose updates travel compressed (fp16 or int8).

Compression changes how updates are *encoded*, not how they are aggregated: members
decompress every update to float32 before the inner rule sees it (see
:mod:`daofed.learning.compression`), so the aggregation arithmetic, and with it the
bit-exactness of the aggregate, is the inner rule's. It lives in the rule spec so that
the DAO governs it like the rule: the rule in force at a round says how its updates are
encoded, to members and auditors alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from daofed.errors import LearningError
from daofed.learning.aggregation.base import AggregationRule, MemberUpdate
from daofed.learning.compression import Compression
from daofed.learning.weights import Weights


@dataclass(frozen=True)
class Compressed(AggregationRule):
    """``inner``, with updates encoded as ``method`` (fp16 or int8) on the wire.

    Always the outermost wrapper (outside ``clip``), so that each rule has one spec.
    """

    inner: AggregationRule
    method: Compression
    name: ClassVar[str] = "compress"

    def __post_init__(self) -> None:
        if isinstance(self.inner, Compressed):
            raise LearningError("compress given twice; use a single compress=fp16|int8")
        if self.method is Compression.NONE:
            raise LearningError("compress must be fp16 or int8; use the inner rule for none")

    @property
    def spec(self) -> str:
        """Inner spec plus ``compress``, e.g. ``median:clip=1.0,compress=fp16``.

        ``compress`` comes last, after ``clip``: one canonical spec per rule.
        """
        inner = self.inner.spec
        sep = "," if ":" in inner else ":"
        return f"{inner}{sep}compress={self.method.value}"

    @property
    def min_updates(self) -> int:
        """Same as the inner rule."""
        return self.inner.min_updates

    @property
    def compression(self) -> Compression:
        """``method``."""
        return self.method

    def aggregate(self, updates: Sequence[MemberUpdate]) -> Weights:
        """``inner.aggregate``: the updates arrive here already decompressed to float32."""
        return self.inner.aggregate(updates)
