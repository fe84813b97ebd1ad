"""The ``prox=`` modifier: FedProx, governed like the rule.

Li, Sahu, Zaheer, Sanjabi, Talwalkar, Smith. "Federated Optimization in Heterogeneous
Networks", MLSys 2020 (arXiv:1812.06127). Each member adds ``(mu/2) * ||w - w_base||^2``
to its local loss, which keeps local models near the round's base when members' data are
skewed. It changes how members *train*, not how updates are aggregated, so aggregation
is the inner rule's. It lives in the rule spec so that the federation decides ``mu`` by
proposal and every member trains with the same one: members find it in their fit config
as ``proximal_mu``, as Flower's FedProx strategy sends it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from daofed.errors import LearningError
from daofed.learning.aggregation.base import RuleWrapper
from daofed.learning.aggregation.clipping import Clipped


@dataclass(frozen=True)
class Proximal(RuleWrapper):
    """``inner``, with members training under FedProx's proximal term of weight ``mu``.

    Wraps ``clip`` (if any) and is wrapped by ``compress``: one canonical spec per rule.
    """

    mu: float
    name: ClassVar[str] = "prox"

    def __post_init__(self) -> None:
        if not (math.isfinite(self.mu) and self.mu > 0):
            raise LearningError(f"prox must be a positive number (FedProx's mu), got {self.mu}")
        if isinstance(self.inner, RuleWrapper) and not isinstance(self.inner, Clipped):
            raise LearningError("prox goes once, outside clip and inside compress; use parse_rule")

    @property
    def spec(self) -> str:
        """Inner spec plus ``prox``, e.g. ``fedavg:prox=0.01``, ``median:clip=1.0,prox=0.1``."""
        return self._with("prox", repr(float(self.mu)))

    @property
    def proximal_mu(self) -> float:
        """``mu``."""
        return self.mu
