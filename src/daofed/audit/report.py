"""One call for the whole audit: history, then optionally verification, metrics, a plot.

This is what ``daofed audit`` runs; the pieces (:func:`read_history`, :func:`check_code`,
:func:`verify_history`, :func:`evaluate_history`, :func:`plot_history`) stay usable on
their own for anyone who wants only part of it. Verifying checks the code at the address
and every round, and reports every problem it finds: a contract that is not the shipped
Federation still has its events re-checked, so the report says what else is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from daofed.audit.code import CodeCheck, check_code
from daofed.audit.evaluation import DEFAULT_TEST_SEED, Evaluation, evaluate_history
from daofed.audit.history import read_history
from daofed.audit.plot import plot_history
from daofed.audit.records import History
from daofed.audit.verify import Verification, verify_history
from daofed.chain import Federation
from daofed.chain.tx import rpc_errors
from daofed.errors import ChainError, ConfigError
from daofed.jsonable import to_jsonable
from daofed.learning.task import Task
from daofed.protocol import UpdatePolicy
from daofed.storage import BlobStore


@dataclass(frozen=True)
class AuditReport:
    """What an audit found; ``code``/``verification``/``evaluation``/``plot`` when asked for.

    ``code`` and ``verification`` come together (verifying). ``unevaluated`` says why a
    verification ran without metrics (the task's code or its test data was not at hand),
    so a reader knows the metrics were skipped, not lost.
    """

    history: History
    code: CodeCheck | None
    verification: Verification | None
    evaluation: Evaluation | None
    plot: Path | None
    unevaluated: str | None = None

    @property
    def verified(self) -> bool:
        """Whether the history was checked at all (the code and every round)."""
        return self.verification is not None

    @property
    def ok(self) -> bool | None:
        """Whether everything checked holds; None when nothing was (reading proves nothing)."""
        if self.verification is None:
            return None
        return self.verification.ok and (self.code is None or self.code.ok)

    def to_json(self) -> dict[str, Any]:
        """Return the report as one JSON document: what ``daofed audit --json`` prints.

        Keys "history", "code", "verification", "evaluation", "plot", "unevaluated",
        "verified" and "ok"; the explorer's ``/api/audit`` serves the same document.
        """
        document: dict[str, Any] = to_jsonable(self)
        document["verified"] = self.verified
        document["ok"] = self.ok
        if self.evaluation is not None:  # with each round's `accuracy` and the `headline`
            document["evaluation"] = to_jsonable(self.evaluation, properties=True)
        if self.code is not None:  # with `ok` and the `message` the table prints
            document["code"] = to_jsonable(self.code, properties=True)
        if self.verification is not None:
            document["verification"]["ok"] = self.verification.ok
        return document


def run_audit(
    federation: Federation,
    store: BlobStore | None = None,
    *,
    verify: bool = False,
    evaluate: bool | None = None,
    task: Task[Any] | str | None = None,
    test_data: Path | None = None,
    test_seed: int = DEFAULT_TEST_SEED,
    plot: Path | None = None,
    policy: UpdatePolicy | None = None,
) -> AuditReport:
    """Audit ``federation``: rebuild its history, and verify/evaluate/plot against ``store``.

    Every finished round's model is evaluated with the federation's task (``task``, else
    the one its genesis names; see :func:`~daofed.audit.evaluation.audit_task`) on
    ``test_data`` (default: the task's held-out split for ``test_seed``). ``evaluate``:
    True evaluates, and so does a ``plot``, a ``task`` or ``test_data``; None (the default)
    evaluates when verifying too, but then an evaluation the audit cannot make without
    being told more (a task daofed does not ship) is skipped, its reason in
    ``report.unevaluated``, rather than failing the verification.
    """
    with rpc_errors(federation.w3, "reading the latest block"):
        block = federation.w3.eth.block_number
    code = check_code(federation, block) if verify else None
    try:
        history = read_history(federation, to_block=block)
    except ChainError:
        if code is None or code.ok:
            raise
        raise ChainError(code.message) from None  # the reason it has no readable history
    required = bool(evaluate) or plot is not None or task is not None or test_data is not None
    wanted = required or (evaluate is None and verify)
    if (verify or wanted) and store is None:
        raise ConfigError(
            "verifying, evaluating and plotting need the federation's blob store: pass "
            "--store local:DIR or --store ipfs:URL (or a deployment file that names it)"
        )
    verification = verify_history(history, store, policy=policy) if verify and store else None
    evaluation, unevaluated = None, None
    if wanted and store is not None:
        try:
            evaluation = evaluate_history(
                history, store, task, test_data=test_data, test_seed=test_seed
            )
        except ConfigError as error:
            if required:
                raise
            unevaluated = str(error)
    if plot is not None and evaluation is not None:
        plot_history(history, evaluation, plot)
    return AuditReport(history, code, verification, evaluation, plot, unevaluated)
