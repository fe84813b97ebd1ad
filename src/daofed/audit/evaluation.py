"""The metrics of the model each round left behind, measured with the federation's task.

The task is the one the genesis model pins: a built-in task is loaded by the name the
genesis records; a federation's own task (or an old genesis that names none, for which
``digits-mlp`` is assumed) is passed by the auditor (``daofed audit --task SPEC``). Either
way it is checked against the genesis model's tensors before anything is evaluated.

The default test data is the task's own held-out split, the one ``daofed demo`` and
``daofed data split`` measure on: ``split_federated(task.dataset(), n, seed=seed).test``.
It is drawn first from the seeded generator and stratified by class, so it depends on the
seed and ``test_fraction`` only, never on the number of members or on ``alpha``: one
auditor's default is every member's test set for the same seed. A federation that trained
on other data passes its own test file (``--test-data``), read with the task's
``load_data``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from daofed.audit.records import History, Outcome
from daofed.errors import BlobNotFound, ConfigError, DaofedError, DigestMismatch, InvalidBlob
from daofed.learning.builtin_tasks import BUILTIN_TASKS, DEFAULT_TASK
from daofed.learning.data import split_federated
from daofed.learning.task import Task
from daofed.learning.task_loader import load_task
from daofed.protocol.genesis import Genesis, check_task, fetch_genesis, fetch_model
from daofed.storage import BlobRef, BlobStore, Weights

DEFAULT_TEST_SEED = 0
"""The seed of the default test split: ``daofed demo``'s and ``daofed data split``'s default."""

BOUNDED_METRICS = frozenset({"accuracy", "roc_auc", "f1", "precision", "recall", "auc"})
"""Metrics that live in [0, 1] (the plot fixes its axis for them)."""


@dataclass(frozen=True)
class RoundMetrics:
    """The task's metrics of the model round ``round`` left behind (round 0: the genesis).

    ``accepted`` is False when the round ended without a new model (closed without
    quorum): the model is its base, carried over. A metric the test data cannot define
    (ROC AUC of data holding one class) is None.
    """

    round: int
    digest: bytes
    accepted: bool
    metrics: dict[str, float | None] | None  # None: the model's blob cannot be fetched

    @property
    def accuracy(self) -> float | None:
        """The ``accuracy`` metric, if the task reports one and the model was evaluated."""
        return self.value("accuracy")

    def value(self, metric: str) -> float | None:
        """One metric of this round's model (None when unknown)."""
        return None if self.metrics is None else self.metrics.get(metric)


@dataclass(frozen=True)
class Evaluation:
    """Every finished round's model measured with one task on one test set."""

    task: str  # the name of the task that evaluated the models
    test_data: Path | None  # the test file; None: the task's own held-out split (or given)
    test_seed: int | None  # the seed of the held-out split; None when a test set was given
    metrics: tuple[str, ...]  # the metric names, in the order the task reports them
    rounds: tuple[RoundMetrics, ...]

    @property
    def headline(self) -> str | None:
        """The metric to show first: ``accuracy`` when the task reports it, else its first."""
        if "accuracy" in self.metrics:
            return "accuracy"
        return self.metrics[0] if self.metrics else None

    def series(self, metric: str) -> tuple[tuple[int, float], ...]:
        """``(round, value)`` of ``metric`` for every round where it is known."""
        known = ((r.round, r.value(metric)) for r in self.rounds)
        return tuple((n, v) for n, v in known if v is not None)


def audit_task(genesis: Genesis, task: Task[Any] | str | None = None) -> Task[Any]:
    """Return the task to evaluate the federation's models with, checked against its genesis.

    ``task`` (a task, or a spec for :func:`~daofed.learning.load_task`) is the auditor's;
    without it the genesis decides: the built-in task it names, or ``digits-mlp`` for a
    genesis made before tasks were pinned. A genesis naming a task daofed does not ship
    needs the auditor to pass its code. ConfigError, in one line, when the task's model is
    not the genesis model (naming the first tensor that differs).
    """
    if task is None:
        named = genesis.task
        if named is not None and named not in BUILTIN_TASKS:
            raise ConfigError(
                f"the federation trains task {named!r}, which is not built into daofed: pass "
                "its code with --task package.module:attr or --task path/to/file.py:attr"
            )
        task = named or DEFAULT_TASK
    chosen = load_task(task) if isinstance(task, str) else task
    check_task(chosen, genesis)
    return chosen


def default_test_data(task: Task[Any], seed: int = DEFAULT_TEST_SEED) -> Any:
    """Return the held-out test split of ``task``'s own data set for ``seed``, as its data."""
    try:
        return task.as_data(split_federated(task.dataset(), 1, alpha=None, seed=seed).test)
    except ConfigError:
        raise ConfigError(
            f"task {task.name!r} ships no test data of its own: pass the federation's "
            "held-out test data with --test-data FILE"
        ) from None


def load_test_data(task: Task[Any], path: Path) -> Any:
    """Read a test file with ``task``'s own loader (ConfigError when it cannot be used)."""
    try:
        return task.load_data(Path(path))
    except ConfigError:
        raise  # the task says what is wrong with the file (data of another task, say)
    except DaofedError as error:
        raise ConfigError(
            f"cannot use {path} as test data of task {task.name!r}: {error}"
        ) from None
    except Exception as error:  # the task's own loader failed
        raise ConfigError(
            f"cannot use {path} as test data: task {task.name!r} failed to load it: "
            f"{type(error).__name__}: {error}"
        ) from None


def evaluate_history(
    history: History,
    store: BlobStore,
    task: Task[Any] | str | None = None,
    *,
    test_data: Path | None = None,
    test_seed: int = DEFAULT_TEST_SEED,
    test: Any = None,
    scores: dict[bytes, dict[str, float | None] | None] | None = None,
) -> Evaluation:
    """Evaluate the genesis model and every finished round's model with the federation's task.

    ``task`` is chosen as :func:`audit_task` says. The test data is ``test`` (already the
    task's data), else the file ``test_data`` read by the task, else the task's held-out
    split for ``test_seed``. Each model is fetched by its on-chain digest (so verified)
    and decoded against the genesis layout. Open rounds have no result yet and are left out.
    ``scores`` (model digest -> metrics, None for an unusable blob) is filled as models
    are evaluated and read before: whoever evaluates a growing history again with the
    same task and test data (the explorer, each round) passes the same dict and pays
    only for the new models.
    """
    if test is not None and test_data is not None:
        raise ConfigError("give the test data either loaded (test) or as a file (test_data)")
    genesis = fetch_genesis(store, BlobRef(history.genesis_digest, history.genesis_cid))
    chosen = audit_task(genesis, task)
    seed: int | None = None
    if test is None:
        if test_data is not None:
            test = load_test_data(chosen, test_data)
        else:
            test, seed = default_test_data(chosen, test_seed), test_seed
    scores = {} if scores is None else scores
    if history.genesis_digest not in scores:
        scores[history.genesis_digest] = _evaluate(
            chosen, genesis, genesis.weights, test, "the genesis model"
        )
    first = scores[history.genesis_digest]
    assert first is not None  # the genesis blob was fetched above
    results = [RoundMetrics(0, history.genesis_digest, True, first)]
    for record in history.rounds:
        if record.outcome is Outcome.OPEN:
            continue
        digest = record.result_digest
        if digest not in scores:
            ref = BlobRef(digest, record.result_cid)
            try:
                model = fetch_model(store, ref, genesis)
            except (BlobNotFound, DigestMismatch, InvalidBlob):
                scores[digest] = None  # verify_history says what is wrong with it
            else:
                what = f"round {record.round}'s model"
                scores[digest] = _evaluate(chosen, genesis, model, test, what)
        accepted = record.outcome is Outcome.ACCEPTED
        results.append(RoundMetrics(record.round, digest, accepted, scores[digest]))
    return Evaluation(
        task=chosen.name,
        test_data=test_data,
        test_seed=seed,
        metrics=tuple(first),
        rounds=tuple(results),
    )


def _evaluate(
    task: Task[Any], genesis: Genesis, weights: Weights, test: Any, what: str
) -> dict[str, float | None]:
    """Run the task's evaluation on ``weights`` (in the model's own tensor order)."""
    ordered = {name: weights[name] for name in genesis.order}
    try:
        metrics = task.evaluate(ordered, test)
    except ConfigError:
        raise  # already says what to do (test data of another task, say)
    except DaofedError as error:
        raise ConfigError(f"task {task.name!r} cannot evaluate {what}: {error}") from None
    except Exception as error:  # the task's own code failed
        raise ConfigError(
            f"task {task.name!r} failed evaluating {what}: {type(error).__name__}: {error}"
        ) from None
    return _finite(metrics, task)


def _finite(metrics: Mapping[str, Any], task: Task[Any]) -> dict[str, float | None]:
    """Metrics as floats, an undefined one (NaN, infinite) as None; ConfigError if not numbers."""
    values: dict[str, float | None] = {}
    for name, value in metrics.items():
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ConfigError(
                f"task {task.name!r} reported metric {name!r} as {value!r}, not a number"
            ) from None
        values[str(name)] = number if math.isfinite(number) else None
    return values
