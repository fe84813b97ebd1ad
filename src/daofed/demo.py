"""A whole federation on one machine: the zero-setup demo behind ``daofed demo``.

Every member is a real :class:`~daofed.agent.MemberAgent` with its own key and its own
data, talking to a real chain (embedded py-evm, or an anvil this module starts) and a real
content-addressed store; they simply share one process and take turns. The report checks
what the demo claims: every member voted for the same digest, every accepted digest read
back from contract events is the sha256 of the stored blob, and the federated model is
compared with the same model trained centrally on the pooled data (same task, same
training step, same budget).
"""

from __future__ import annotations

import hashlib
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from web3 import Web3

from daofed.agent import AgentEvent, MemberAgent, MemberSettings, Step, discard
from daofed.chain import AnvilNode, Federation, dev_accounts, embedded_chain
from daofed.chain.node import RECENT_STATES
from daofed.errors import ConfigError, TaskError
from daofed.learning import DEFAULT_TASK, Dataset, Metrics, Task, load_task, split_federated
from daofed.learning.aggregation.server import model_weights
from daofed.learning.task import Scalar
from daofed.protocol import fetch_model, fit_config, genesis_blob
from daofed.storage import BlobRef, LocalStore, Weights

ChainKind = Literal["embedded", "anvil"]


@dataclass(frozen=True)
class DemoConfig:
    """What the demo federation looks like; defaults give a run of about a minute."""

    members: int = 5
    rounds: int = 5
    alpha: float | None = None
    seed: int = 0
    chain: ChainKind = "embedded"
    rule: str = "fedavg"
    quorum: int | None = None
    task: str = DEFAULT_TASK
    options: Mapping[str, Scalar] = field(default_factory=dict)  # to every member's fit
    submit_window: int = 3600
    vote_window: int = 3600
    store_dir: Path | None = None

    def effective_quorum(self) -> int:
        """Unanimity unless asked otherwise, so every member's vote is on record."""
        return self.members if self.quorum is None else self.quorum


@dataclass(frozen=True)
class RoundReport:
    """One accepted (or closed) round as the contract's events tell it."""

    round: int
    updates: int
    excluded: int
    votes: int
    distinct_votes: int
    accepted: str | None
    metrics: Metrics

    @property
    def test_accuracy(self) -> float:
        """Test accuracy of the round's model (NaN for a task without an accuracy)."""
        return self.metrics.get("accuracy", float("nan"))


@dataclass(frozen=True)
class DemoReport:
    """Everything the demo measured, as printed in its table and ``--json``."""

    chain: str
    contract: str
    task: str
    members: int
    quorum: int
    rule: str
    rounds: tuple[RoundReport, ...]
    centralized: Metrics
    digests_verified: bool
    seconds: float

    @property
    def final_accuracy(self) -> float:
        """Test accuracy of the last accepted model."""
        return self.rounds[-1].test_accuracy if self.rounds else float("nan")

    @property
    def centralized_accuracy(self) -> float:
        """Test accuracy of the same model trained centrally on the pooled member data."""
        return self.centralized.get("accuracy", float("nan"))

    @property
    def unanimous(self) -> bool:
        """Whether every round's votes all named one digest."""
        return all(r.distinct_votes == 1 for r in self.rounds)


@contextmanager
def _chain(kind: ChainKind, accounts: int) -> Iterator[tuple[Web3, str]]:
    """Start the demo's chain, funding ``accounts`` dev accounts (a deployer and members)."""
    if kind == "embedded":
        yield embedded_chain(accounts), "embedded (py-evm)"
        return
    if kind == "anvil":
        with AnvilNode.start(accounts=accounts, kept_states=RECENT_STATES) as node:
            yield node.web3(), f"anvil at {node.url}"
        return
    raise ConfigError(f"unknown chain {kind!r}: use 'embedded' or 'anvil'")


def run_demo(
    config: DemoConfig,
    on_round: Callable[[RoundReport], None] = lambda _r: None,
    on_event: Callable[[AgentEvent], None] = discard,
) -> DemoReport:
    """Run a federation of ``config.members`` agents for ``config.rounds`` rounds."""
    if config.members < 1 or config.rounds < 1:
        raise ConfigError("--members and --rounds must be at least 1")
    started = time.perf_counter()
    task = load_task(config.task)
    split = split_federated(task.dataset(), config.members, alpha=config.alpha, seed=config.seed)
    test = task.as_data(split.test)
    with ExitStack() as stack:
        store_dir = config.store_dir or Path(
            stack.enter_context(tempfile.TemporaryDirectory(prefix="daofed-store-"))
        )
        store = LocalStore(store_dir)
        w3, chain_name = stack.enter_context(_chain(config.chain, config.members + 1))
        deployer, *accounts = dev_accounts(config.members + 1)
        genesis = store.put(genesis_blob(task, config.seed))
        federation = Federation.deploy(
            w3,
            deployer,
            members=[a.address for a in accounts],
            quorum=config.effective_quorum(),
            submit_window=config.submit_window,
            vote_window=config.vote_window,
            rule=config.rule,
            genesis=genesis,
        )
        settings = MemberSettings(options=config.options, seed=config.seed)
        failures: list[AgentEvent] = []

        def watch(event: AgentEvent) -> None:
            if event.step is Step.ERROR:
                failures.append(event)
            on_event(event)

        agents = [
            MemberAgent(
                federation, store, account, task, task.as_data(share.train), settings, watch
            )
            for account, share in zip(accounts, split.members, strict=True)
        ]
        reports = _run_rounds(federation, agents, store, test, config.rounds, on_round, failures)
        verified = _verify_accepted_digests(federation, store)
    pooled = task.as_data(Dataset.concat([m.train for m in split.members]))
    centralized = train_centralized(task, pooled, config.rounds, config.seed, config.options)
    return DemoReport(
        chain=chain_name,
        contract=federation.address,
        task=task.name,
        members=config.members,
        quorum=config.effective_quorum(),
        rule=config.rule,
        rounds=tuple(reports),
        centralized=task.evaluate(centralized, test),
        digests_verified=verified,
        seconds=time.perf_counter() - started,
    )


def train_centralized(
    task: Task[Any], data: Any, rounds: int, seed: int, options: Mapping[str, Scalar]
) -> Weights:
    """Baseline: the task's own training step on pooled data, ``rounds`` times in a row.

    Starts from the federation's genesis and sees every sample as often as ``rounds``
    federated rounds do: the same model, training step and budget, only without the
    federation.
    """
    weights = task.initial_weights(seed)
    for r in range(1, rounds + 1):
        config = fit_config(options, round_number=r, seed=seed, member="centralized")
        weights = task.fit(weights, data, config).weights
    return weights


def _run_rounds(
    federation: Federation,
    agents: list[MemberAgent],
    store: LocalStore,
    test: Any,
    rounds: int,
    on_round: Callable[[RoundReport], None],
    failures: list[AgentEvent],
) -> list[RoundReport]:
    """Let the agents take turns until ``rounds`` rounds have ended.

    A member that reports an error (its task failed) stops the demo: every member here
    runs the same task on the same kind of data, so waiting out the round's window (an
    hour by default) would only delay the same error.
    """
    reports: list[RoundReport] = []
    while (current := federation.current_round()) <= rounds:
        steps = [agent.step() for agent in agents]
        if failures:
            raise TaskError(failures[0].message.removesuffix("; not submitting this round"))
        if federation.current_round() > current:
            report = _report_round(federation, store, agents[0], test, current)
            reports.append(report)
            on_round(report)
        elif all(step.step is Step.WAITING for step in steps):
            time.sleep(0.2)  # nothing to do until a deadline passes
    return reports


def _report_round(
    federation: Federation, store: LocalStore, agent: MemberAgent, test: Any, round_number: int
) -> RoundReport:
    info = federation.round_info(round_number)
    votes = federation.votes(round_number)
    accepted = info.accepted
    weights = model_weights(fetch_model(store, accepted or info.base, agent.genesis))
    return RoundReport(
        round=round_number,
        updates=len(federation.updates(round_number)),
        excluded=len(agent.aggregate(round_number).excluded),
        votes=len(votes),
        distinct_votes=len({vote.digest for vote in votes}),
        accepted=accepted.hex if accepted else None,
        metrics=agent.task.evaluate(weights, test),
    )


def _verify_accepted_digests(federation: Federation, store: LocalStore) -> bool:
    """Re-read every ModelAccepted event and check the stored bytes hash to its digest."""
    for event in federation.accepted():
        data = store.get(BlobRef(digest=event.digest, locator=event.cid))
        if hashlib.sha256(data).digest() != event.digest:
            return False
    return True
