"""The ``compress=`` modifier: a rule whose updates travel compressed (fp16 or int8).

Compression changes how updates are *encoded*, not how they are aggregated: members
decompress every update to float32 before the inner rule sees it (see
:mod:`daofed.learning.compression`), so the aggregation arithmetic, and with it the
bit-exactness of the aggregate, is the inner rule's. It lives in the rule spec so that
the DAO governs it like the rule: the rule in force at a round says how its updates are
encoded, to members and auditors alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from daofed.errors import LearningError
from daofed.learning.aggregation.base import RuleWrapper
from daofed.learning.compression import Compression


@dataclass(frozen=True)
class Compressed(RuleWrapper):
    """``inner``, with updates encoded as ``method`` (fp16 or int8) on the wire.

    Always the outermost wrapper (outside ``clip`` and ``prox``), so each rule has one spec.
    """

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

        ``compress`` comes last, after ``clip`` and ``prox``: one canonical spec per rule.
        """
        return self._with("compress", self.method.value)

    @property
    def compression(self) -> Compression:
        """``method``: updates arrive at ``aggregate`` already decompressed to float32."""
        return self.method
