"""``daofed agent run``: one member, as a long-running process."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from eth_account.signers.local import LocalAccount
from rich.markup import escape

from daofed.agent import AgentEvent, MemberAgent, MemberSettings, Step
from daofed.agent.runner import RunOptions, run_agent
from daofed.cli.options import (
    DEFAULT_DEPLOYMENT,
    DeploymentOpt,
    DevKeyOpt,
    FitConfigOpt,
    KeystoreOpt,
    PasswordFileOpt,
    RpcUrlOpt,
    StoreOpt,
    TaskOpt,
    fit_options,
    session,
    unlock,
)
from daofed.cli.output import err_console, friendly_errors, limit_torch_threads
from daofed.errors import BlobNotFound, ConfigError, DaofedError, TaskError
from daofed.learning import DEFAULT_TASK, load_task
from daofed.learning.privacy import PrivacySettings, epsilon
from daofed.peering import NodeDirectory, join
from daofed.protocol import Genesis, UpdatePolicy, check_task, fetch_genesis
from daofed.protocol.genesis import MAX_GENESIS_BYTES
from daofed.session import FederationSession
from daofed.storage.ipfs import IpfsStore

agent_app = typer.Typer(help="Run a member agent.")


class StepLog:
    """Report each step: one JSON line on stdout, a human line on stderr.

    Repeats of the same waiting (or lost-race) message are dropped, so a member idling
    through a long window, or late on a quiet chain, does not flood its log.
    """

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self._last_wait: tuple[int, str] | None = None

    def __call__(self, event: AgentEvent) -> None:
        """Log one event (unless it repeats the last waiting message)."""
        if event.step in (Step.WAITING, Step.LOST_RACE):
            if self._last_wait == (event.round, event.message):
                return
            self._last_wait = (event.round, event.message)
        else:
            self._last_wait = None
        sys.stdout.write(event.to_json() + "\n")
        sys.stdout.flush()
        if not self.quiet:
            style = {Step.ERROR: "red", Step.EXCLUDED: "yellow", Step.LOST_RACE: "yellow"}.get(
                event.step, "cyan"
            )
            err_console.print(  # the message names the step ("submitted update …")
                f"[{style}]round {event.round}[/] {escape(event.message)}", highlight=False
            )


@agent_app.command("run")
def run(
    data: Annotated[
        Path, typer.Option(help="This member's private data, as its task reads it (.npz/.csv).")
    ],
    task: TaskOpt = DEFAULT_TASK,
    deployment: DeploymentOpt = DEFAULT_DEPLOYMENT,
    keystore: KeystoreOpt = None,
    password_file: PasswordFileOpt = None,
    dev: DevKeyOpt = None,
    rpc_url: RpcUrlOpt = None,
    store: StoreOpt = None,
    rounds: Annotated[
        int | None, typer.Option(help="Stop after this round has ended (default: run forever).")
    ] = None,
    manual_vote: Annotated[
        bool,
        typer.Option(help="Compute and upload the aggregate, but leave the vote to a person."),
    ] = False,
    epochs: Annotated[
        int | None, typer.Option(help="Local epochs per round (default: the task's).")
    ] = None,
    fit_config: FitConfigOpt = None,
    max_norm: Annotated[
        float | None, typer.Option(help="Exclude updates whose L2 norm exceeds this.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of this member's training.")] = 0,
    announce: Annotated[
        list[str] | None,
        typer.Option(
            help="With an IPFS store: a multiaddr where the other members reach this "
            "member's node (repeat; default: the node's own non-loopback addresses).",
        ),
    ] = None,
    dp_clip: Annotated[
        float | None,
        typer.Option(help="Local DP: clip each update to this L2 norm (with --dp-noise)."),
    ] = None,
    dp_noise: Annotated[
        float | None,
        typer.Option(help="Local DP: Gaussian noise multiplier sigma (std sigma x clip)."),
    ] = None,
    dp_delta: Annotated[
        float, typer.Option(help="Local DP: the delta at which epsilon is reported.")
    ] = 1e-5,
    poll: Annotated[float, typer.Option(help="Seconds between chain polls when idle.")] = 1.0,
    threads: Annotated[int, typer.Option(help="Torch threads for training.")] = 1,
    quiet: Annotated[bool, typer.Option(help="No progress lines on stderr.")] = False,
) -> None:
    """Run this member until stopped (Ctrl-C / SIGTERM), following rounds as they open.

    Safe to restart at any point: the agent resumes from what the chain records.
    TASK must build the model the federation's genesis pins; the agent stops before
    training if it does not.
    With --dp-clip and --dp-noise each update is clipped and noised before upload, and
    every submission logs the epsilon spent so far (see daofed.learning.privacy).
    """
    limit_torch_threads(threads)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with friendly_errors():
        privacy = _privacy(dp_clip, dp_noise, dp_delta)
        options = fit_options(fit_config, epochs=epochs)
        account = unlock(keystore, password_file, dev)
        opened = session(deployment, rpc_url, store)
        if announce and not isinstance(opened.store, IpfsStore):
            raise ConfigError("--announce needs an IPFS store (--store ipfs:http://HOST:5001)")
        member_task = load_task(task)
        # the task must build the federation's model: checked before any data is read
        genesis = _first_genesis(opened, account, tuple(announce or ()), poll, stop, quiet)
        if genesis is None:
            return
        check_task(member_task, genesis)
        agent = MemberAgent(
            opened.federation,
            opened.store,
            account,
            member_task,
            _load_data(member_task.name, member_task.load_data, data),
            MemberSettings(
                options=options,
                policy=UpdatePolicy(max_norm=max_norm),
                seed=seed,
                auto_vote=not manual_vote,
                privacy=privacy,
                announce=tuple(announce or ()),
            ),
            on_event=StepLog(quiet),
            genesis=genesis,
        )
        if not quiet:
            err_console.print(
                f"member {account.address} (task {member_task.name}) on "
                f"{opened.deployment.contract} ({opened.deployment.rpc_url}, store "
                f"{escape(opened.store.describe())})"
            )
        run_agent(agent, RunOptions(poll_interval=poll, until_round=rounds), stop)
    if not quiet:
        err_console.print("agent stopped")


def _first_genesis(
    opened: FederationSession,
    account: LocalAccount,
    announce: tuple[str, ...],
    poll: float,
    stop: threading.Event,
    quiet: bool,
) -> Genesis | None:
    """Fetch the genesis model; on IPFS, join the members' swarm first and wait for it.

    A member's own node holds nothing at first: the genesis comes from the node of the
    member who deployed, once that member's agent has published where its node is. Until
    then this waits (None if stopped meanwhile) instead of failing.
    """
    ref = opened.federation.genesis()
    if not isinstance(opened.store, IpfsStore):
        return fetch_genesis(opened.store, ref)
    said = ""
    nodes = NodeDirectory(opened.federation)
    while not stop.is_set():
        peered = join(opened.federation, opened.store, account, nodes, announce)
        try:
            opened.store.pin(ref, max_bytes=MAX_GENESIS_BYTES)  # kept for good, as every model
        except BlobNotFound:
            waiting = (
                f"{peered.summary()}; none of them holds the genesis model {ref.locator} yet: "
                "waiting for the deploying member's agent to publish its node"
            )
            if not quiet and waiting != said:
                err_console.print(f"[yellow]{escape(waiting)}[/]", highlight=False)
            said = waiting
            stop.wait(max(poll, 5.0))
        else:
            return fetch_genesis(opened.store, ref)
    return None


def _load_data(task: str, load: Callable[[Path], Any], path: Path) -> Any:
    """Run the task's data loader; whatever it raises becomes one line naming the task."""
    try:
        return load(path)
    except DaofedError:
        raise
    except Exception as error:  # user code
        raise TaskError(
            f"task {task!r} could not load {path}: {type(error).__name__}: {error}"
        ) from None


def _privacy(clip: float | None, noise: float | None, delta: float) -> PrivacySettings | None:
    """Local DP settings from the options: both or neither of clip and noise."""
    if clip is None and noise is None:
        return None
    if clip is None or noise is None:
        raise ConfigError("local DP needs both --dp-clip and --dp-noise (or neither)")
    settings = PrivacySettings(clip=clip, noise=noise, delta=delta)
    epsilon(settings, 1)  # the accountant (extra 'dp') fails here, not after a submission
    return settings
