"""Follow a federation as it runs: re-read its history whenever the chain moves.

The explorer shows one consistent snapshot at a time. A background thread polls the
block number and, when it changed, rebuilds the history with the audit layer
(:class:`~daofed.audit.HistoryReader`: the page and ``daofed audit`` read the chain the
same way, and each new block costs only its own events). It also reads the running
round's phase (its deadlines are in its events), the gas of new transactions and, with a
blob store, the metrics of each new model. Pages are rendered from the last snapshot and
never wait on the chain; a failed refresh keeps the last snapshot and says what failed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from daofed.audit import (
    AuditSource,
    Evaluation,
    History,
    HistoryReader,
    Outcome,
    evaluate_history,
)
from daofed.audit.eventlog import gas_used
from daofed.chain import Phase
from daofed.chain.tx import rpc_errors
from daofed.errors import DaofedError
from daofed.learning.task import Task


@dataclass(frozen=True)
class Snapshot:
    """What the explorer knows about the federation as of ``block`` (version 0: nothing yet).

    ``gas`` maps each round to the gas its members' transactions used (commitments,
    submissions and votes; the vote reaching quorum also pays for accepting the model and
    opening the next round). ``unevaluated`` says why there are no metrics (no store, a
    task daofed does not ship); ``problem`` why the last refresh failed, if it did.
    """

    version: int = 0
    block: int | None = None
    history: History | None = None
    phase: Phase | None = None  # of the history's last round, as the contract says
    gas: Mapping[int, int] = field(default_factory=dict)
    evaluation: Evaluation | None = None
    unevaluated: str | None = None
    problem: str | None = None


Scores = dict[bytes, dict[str, float | None] | None]


@dataclass(frozen=True)
class Evaluator:
    """How to score the models: the task and test data, as ``daofed audit`` takes them."""

    task: Task[Any] | str | None = None  # None: the task the genesis names
    test_data: Path | None = None  # None: the task's own held-out split


class Follower:
    """Keeps :attr:`snapshot` up to date with the chain, from a thread of its own."""

    def __init__(
        self,
        source: AuditSource,
        evaluator: Evaluator | None = None,
        *,
        poll_interval: float = 1.0,
        on_change: Callable[[], None] = lambda: None,
    ) -> None:
        self.source = source
        self.evaluator = evaluator or Evaluator()
        self.poll_interval = poll_interval
        self.snapshot = Snapshot()
        self._on_change = on_change
        self._reader = HistoryReader(source.federation)
        self._gas_by_tx: dict[str, int] = {}
        self._scores: Scores = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="explorer-follower", daemon=True)

    def start(self) -> None:
        """Read the chain now and from then on every ``poll_interval`` seconds."""
        self._thread.start()

    def stop(self) -> None:
        """Stop polling (waits for a refresh under way to finish)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.refresh()
            self._stop.wait(self.poll_interval)

    def refresh(self) -> None:
        """Rebuild the snapshot if the chain has a new block; record why not if it failed."""
        federation = self.source.federation
        previous = self.snapshot
        try:
            with rpc_errors(federation.w3, "reading the latest block"):
                block = federation.w3.eth.block_number
            if block == previous.block and previous.problem is None:
                return
            history = self._reader.read(block)
            phase = federation.phase(history.rounds[-1].round)
            gas = self._gas(history)
        except DaofedError as error:
            if str(error) != previous.problem:
                self._publish(previous, problem=str(error))
            return
        finished = _finished_models(history)
        evaluation: Evaluation | None
        if previous.evaluation is not None and finished == _finished_models(previous.history):
            evaluation, unevaluated = previous.evaluation, None  # no new model: same metrics
        else:
            evaluation, unevaluated = self._evaluate(history)
        self._publish(
            previous,
            block=block,
            history=history,
            phase=phase,
            gas=gas,
            evaluation=evaluation,
            unevaluated=unevaluated,
            problem=None,
        )

    def _publish(self, previous: Snapshot, **changes: Any) -> None:
        self.snapshot = replace(previous, version=previous.version + 1, **changes)
        self._on_change()

    def _gas(self, history: History) -> dict[int, int]:
        """Gas per round, reading only the receipts of transactions not seen before."""
        hashes = {
            record.round: {
                *(c.tx_hash for c in record.commits),
                *(u.tx_hash for u in record.updates),
                *(v.tx_hash for v in record.votes),
                *(p.tx_hash for p in (*record.setups, *record.recoveries)),
            }
            for record in history.rounds
        }
        new = {h for round_hashes in hashes.values() for h in round_hashes} - set(self._gas_by_tx)
        self._gas_by_tx.update(gas_used(self.source.federation.w3, new))
        return {
            r: sum(self._gas_by_tx[h] for h in round_hashes) for r, round_hashes in hashes.items()
        }

    def _evaluate(self, history: History) -> tuple[Evaluation | None, str | None]:
        """Evaluate every finished round's model with the task; only new models cost anything."""
        if self.source.store is None:
            return None, "no blob store given (--store): the models cannot be fetched"
        try:
            evaluation = evaluate_history(
                history,
                self.source.store,
                self.evaluator.task,
                test_data=self.evaluator.test_data,
                scores=self._scores,
            )
        except DaofedError as error:
            return None, str(error)
        return evaluation, None


def _finished_models(history: History | None) -> tuple[tuple[int, bytes], ...] | None:
    """Each finished round and the model it left: the evaluation changes only with these."""
    if history is None:
        return None
    return tuple(
        (r.round, r.result_digest) for r in history.rounds if r.outcome is not Outcome.OPEN
    )
