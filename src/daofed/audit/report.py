"""One call for the whole audit: history, then optionally verification, accuracy, a plot.

This is what ``daofed audit`` runs; the pieces (:func:`read_history`,
:func:`verify_history`, :func:`evaluate_history`, :func:`plot_history`) stay usable on
their own for anyone who wants only part of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from daofed.agent import UpdatePolicy
from daofed.audit.accuracy import RoundAccuracy, default_test_set, evaluate_history
from daofed.audit.history import read_history
from daofed.audit.plot import plot_history
from daofed.audit.records import History
from daofed.audit.verify import Verification, verify_history
from daofed.chain import Federation
from daofed.errors import ConfigError
from daofed.learning import Dataset
from daofed.storage import BlobStore


@dataclass(frozen=True)
class AuditReport:
    """What an audit found; ``verification``/``accuracy``/``plot`` when they were asked for."""

    history: History
    verification: Verification | None
    accuracy: tuple[RoundAccuracy, ...] | None
    plot: Path | None

    @property
    def ok(self) -> bool:
        """False when verification ran and some round does not match."""
        return self.verification is None or self.verification.ok


def run_audit(
    federation: Federation,
    store: BlobStore | None = None,
    *,
    verify: bool = False,
    evaluate: bool = False,
    test: Dataset | None = None,
    plot: Path | None = None,
    policy: UpdatePolicy | None = None,
) -> AuditReport:
    """Audit ``federation``: rebuild its history, and verify/evaluate/plot against ``store``.

    Accuracy is evaluated when ``evaluate`` or ``plot`` is asked, on ``test`` (default: the
    digits' held-out split, see :mod:`daofed.audit.accuracy`).
    """
    history = read_history(federation)
    needs_store = verify or evaluate or plot is not None
    if needs_store and store is None:
        raise ConfigError(
            "verifying, evaluating and plotting need the federation's blob store: pass "
            "--store local:DIR or --store ipfs:URL (or a deployment file that names it)"
        )
    verification = verify_history(history, store, policy=policy) if verify and store else None
    accuracy = None
    if (evaluate or plot is not None) and store is not None:
        accuracy = evaluate_history(history, store, test or default_test_set())
    if plot is not None and accuracy is not None:
        plot_history(history, accuracy, plot)
    return AuditReport(history, verification, accuracy, plot)
