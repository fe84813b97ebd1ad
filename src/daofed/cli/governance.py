"""``daofed propose …``, ``daofed proposals``, ``daofed execute``: the DAO's decisions.

Each ``propose`` sub-command names one change the members can make to their federation;
it takes effect from the round after the proposal is executed.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from daofed.chain.proposals import check_value
from daofed.chain.values import ProposalInfo, ProposalKind, ProposalState, Windows
from daofed.cli.options import (
    DEFAULT_DEPLOYMENT,
    DeploymentOpt,
    DevKeyOpt,
    JsonOpt,
    KeystoreOpt,
    PasswordFileOpt,
    RpcUrlOpt,
    session,
    unlock,
)
from daofed.cli.output import console, friendly_errors, print_json
from daofed.errors import ConfigError
from daofed.learning.aggregation import parse_rule

propose_app = typer.Typer(help="Propose a change to the federation (members only).")


def _propose(
    deployment: Path,
    rpc_url: str | None,
    keystore: Path | None,
    password_file: Path | None,
    dev: int | None,
    as_json: bool,
    kind: ProposalKind,
    value: object,
) -> None:
    """Propose ``kind`` with ``value``; a bad value or key fails before the network."""
    with friendly_errors():
        checked = check_value(kind, value)
        account = unlock(keystore, password_file, dev)
        created = session(deployment, rpc_url, None).federation.propose(account, kind, checked)
    if as_json:
        print_json(created)
        return
    console.print(
        f"proposal {created.proposal_id}: {created.kind.label} {_value(created.value)}; "
        f"members of round {created.round} vote until {_when(created.vote_end)} "
        f"({created.votes_needed} yes votes needed) with `daofed vote proposal "
        f"{created.proposal_id} yes|no`"
    )


@propose_app.command("add-member")
def add_member(
    address: Annotated[str, typer.Argument(help="Account to admit.")],
    deployment: DeploymentOpt = DEFAULT_DEPLOYMENT,
    rpc_url: RpcUrlOpt = None,
    keystore: KeystoreOpt = None,
    password_file: PasswordFileOpt = None,
    dev: DevKeyOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Propose to admit ADDRESS as a member (from the round after execution)."""
    _propose(
        deployment, rpc_url, keystore, password_file, dev, json_output,
        ProposalKind.ADD_MEMBER, address,
    )  # fmt: skip


@propose_app.command("remove-member")
def remove_member(
    address: Annotated[str, typer.Argument(help="Member to remove.")],
    deployment: DeploymentOpt = DEFAULT_DEPLOYMENT,
    rpc_url: RpcUrlOpt = None,
    keystore: KeystoreOpt = None,
    password_file: PasswordFileOpt = None,
    dev: DevKeyOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Propose to remove member ADDRESS (from the round after execution)."""
    _propose(
        deployment, rpc_url, keystore, password_file, dev, json_output,
        ProposalKind.REMOVE_MEMBER, address,
    )  # fmt: skip


@propose_app.command("quorum")
def quorum(
    votes: Annotated[int, typer.Argument(help="Votes needed to accept a model or a proposal.")],
    deployment: DeploymentOpt = DEFAULT_DEPLOYMENT,
    rpc_url: RpcUrlOpt = None,
    keystore: KeystoreOpt = None,
    password_file: PasswordFileOpt = None,
    dev: DevKeyOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Propose a new quorum."""
    _propose(
        deployment, rpc_url, keystore, password_file, dev, json_output,
        ProposalKind.SET_QUORUM, votes,
    )  # fmt: skip


@propose_app.command("windows")
def windows(
    submit: Annotated[int, typer.Option(help="Seconds to submit (or commit) updates.")],
    vote: Annotated[int, typer.Option(help="Seconds to vote on aggregates.")],
    reveal: Annotated[
        int | None, typer.Option(help="Seconds to reveal (commit-reveal); default: unchanged.")
    ] = None,
    deployment: DeploymentOpt = DEFAULT_DEPLOYMENT,
    rpc_url: RpcUrlOpt = None,
    keystore: KeystoreOpt = None,
    password_file: PasswordFileOpt = None,
    dev: DevKeyOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Propose new round windows."""
    if reveal is None:  # unchanged: the reveal window in force
        with friendly_errors():
            reveal = session(deployment, rpc_url, None).federation.config().reveal_window
    _propose(
        deployment, rpc_url, keystore, password_file, dev, json_output,
        ProposalKind.SET_WINDOWS, Windows(submit, vote, reveal),
    )  # fmt: skip


@propose_app.command("rule")
def rule(
    spec: Annotated[
        str,
        typer.Argument(
            help="fedavg, median, trimmed-mean:beta=0.2, multi-krum:f=1,m=3, "
            "fedavgm:lr=1.0,momentum=0.9, fedadam:lr=…,beta1=…,beta2=…,tau=…, fedavg:prox=0.01 …"
        ),
    ],
    deployment: DeploymentOpt = DEFAULT_DEPLOYMENT,
    rpc_url: RpcUrlOpt = None,
    keystore: KeystoreOpt = None,
    password_file: PasswordFileOpt = None,
    dev: DevKeyOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Propose a new aggregation rule (checked here: the contract stores it unparsed)."""
    with friendly_errors():
        canonical = parse_rule(spec).spec
    _propose(
        deployment, rpc_url, keystore, password_file, dev, json_output,
        ProposalKind.SET_RULE, canonical,
    )  # fmt: skip


@propose_app.command("commit-reveal")
def commit_reveal(
    switch: Annotated[str, typer.Argument(help="on or off.")],
    deployment: DeploymentOpt = DEFAULT_DEPLOYMENT,
    rpc_url: RpcUrlOpt = None,
    keystore: KeystoreOpt = None,
    password_file: PasswordFileOpt = None,
    dev: DevKeyOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Propose to switch commit-reveal of updates on or off."""
    enabled = _on_off(switch)
    _propose(
        deployment, rpc_url, keystore, password_file, dev, json_output,
        ProposalKind.SET_COMMIT_REVEAL, enabled,
    )  # fmt: skip


@propose_app.command("voting-period")
def voting_period(
    seconds: Annotated[int, typer.Argument(help="How long proposals stay open.")],
    deployment: DeploymentOpt = DEFAULT_DEPLOYMENT,
    rpc_url: RpcUrlOpt = None,
    keystore: KeystoreOpt = None,
    password_file: PasswordFileOpt = None,
    dev: DevKeyOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Propose how long later proposals stay open for votes."""
    _propose(
        deployment, rpc_url, keystore, password_file, dev, json_output,
        ProposalKind.SET_VOTING_PERIOD, seconds,
    )  # fmt: skip


@propose_app.command("max-samples")
def max_samples(
    samples: Annotated[int, typer.Argument(help="The most samples one update may claim.")],
    deployment: DeploymentOpt = DEFAULT_DEPLOYMENT,
    rpc_url: RpcUrlOpt = None,
    keystore: KeystoreOpt = None,
    password_file: PasswordFileOpt = None,
    dev: DevKeyOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Propose a cap on the sample count (the FedAvg weight) one update may claim."""
    _propose(
        deployment, rpc_url, keystore, password_file, dev, json_output,
        ProposalKind.SET_MAX_SAMPLES, samples,
    )  # fmt: skip


def proposals(
    deployment: DeploymentOpt = DEFAULT_DEPLOYMENT,
    rpc_url: RpcUrlOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """List every proposal with its state and votes."""
    with friendly_errors():
        federation = session(deployment, rpc_url, None).federation
        infos = [federation.proposal(p.proposal_id) for p in federation.proposals()]
    if json_output:
        print_json(infos)
        return
    table = Table("id", "change", "state", "yes", "no", "needed", "voting ends", "execute by")
    for info in infos:
        table.add_row(
            str(info.proposal_id),
            f"{info.kind.label} {_value(info.value)}",
            info.state.label,
            str(info.yes),
            str(info.no),
            str(info.votes_needed),
            _when(info.vote_end),
            _when(info.execute_by),
        )
    console.print(table if infos else "no proposals yet: `daofed propose --help`")


def execute(
    proposal_id: Annotated[int, typer.Argument(metavar="ID", help="The proposal.")],
    deployment: DeploymentOpt = DEFAULT_DEPLOYMENT,
    rpc_url: RpcUrlOpt = None,
    keystore: KeystoreOpt = None,
    password_file: PasswordFileOpt = None,
    dev: DevKeyOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Execute a proposal that carried (anyone may, once its voting has ended)."""
    with friendly_errors():
        account = unlock(keystore, password_file, dev)
        federation = session(deployment, rpc_url, None).federation
        _check_executable(federation.proposal(proposal_id))
        result = federation.execute_proposal(account, proposal_id)
        info = federation.proposal(proposal_id)
    if json_output:
        print_json({"proposal": info, "tx": result})
        return
    console.print(
        f"proposal {proposal_id} executed ({info.kind.label} {_value(info.value)}): "
        f"applies from round {federation.current_round() + 1}"
    )


def _check_executable(info: ProposalInfo) -> None:
    """Say why a proposal still open for votes cannot be executed, and what it lacks."""
    if info.state is ProposalState.ACTIVE:
        missing = max(0, info.votes_needed - info.yes)
        raise ConfigError(
            f"proposal {info.proposal_id} is open for votes until {_when(info.vote_end)}: it "
            f"has {info.yes} of the {info.votes_needed} yes votes it needs ({missing} more); "
            "execute it once its voting has ended"
        )


def vote_on_proposal(
    proposal_id: Annotated[int, typer.Argument(metavar="ID", help="The proposal.")],
    choice: Annotated[str, typer.Argument(metavar="yes|no", help="Your vote.")],
    deployment: DeploymentOpt = DEFAULT_DEPLOYMENT,
    rpc_url: RpcUrlOpt = None,
    keystore: KeystoreOpt = None,
    password_file: PasswordFileOpt = None,
    dev: DevKeyOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Vote yes or no on proposal ID (after showing what it changes)."""
    support = _yes_no(choice)
    with friendly_errors():
        account = unlock(keystore, password_file, dev)
        federation = session(deployment, rpc_url, None).federation
        before = federation.proposal(proposal_id)
        result = federation.vote_proposal(account, proposal_id, support)
        after = federation.proposal(proposal_id)
    if json_output:
        print_json({"proposal": after, "tx": result})
        return
    console.print(
        f"voted {choice} on proposal {proposal_id} ({before.kind.label} "
        f"{_value(before.value)}): now {after.yes} yes / {after.no} no, "
        f"{after.votes_needed} yes needed"
    )


def _value(value: object) -> str:
    """Say a proposed value in words; a rule is chain data, shown as text, not markup."""
    if isinstance(value, Windows):
        return f"submit {value.submit}s, vote {value.vote}s, reveal {value.reveal}s"
    if isinstance(value, bool):
        return "on" if value else "off"
    return escape(str(value))


def _when(timestamp: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(timestamp))


def _on_off(text: str) -> bool:
    if text.lower() not in {"on", "off"}:
        raise typer.BadParameter(f"say 'on' or 'off', not {text!r}")
    return text.lower() == "on"


def _yes_no(text: str) -> bool:
    if text.lower() not in {"yes", "no"}:
        raise typer.BadParameter(f"vote 'yes' or 'no', not {text!r}")
    return text.lower() == "yes"
