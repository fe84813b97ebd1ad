"""``daofed propose KIND VALUE``, ``daofed proposals``, ``daofed execute``: the DAO's decisions.

The kinds of change, and how each VALUE is written, come from the table of proposal kinds
(:data:`daofed.chain.proposals.KINDS`); a change takes effect from the round after the
proposal is executed.
"""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from daofed.chain.proposals import KINDS, kind_named
from daofed.chain.values import ProposalInfo, ProposalKind, ProposalState, ProposalValue
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

PROPOSE_HELP = "\n\n".join(
    [
        "Propose a change to the federation (members only).",
        "KIND VALUE is one of:",
        *(f"{spec.name} {spec.value_format}: {spec.purpose}" for spec in KINDS.values()),
        "The change takes effect from the round after the proposal is executed.",
    ]
)
"""The help of ``daofed propose``: every kind, with how its VALUE is written."""


def propose(
    kind: Annotated[str, typer.Argument(metavar="KIND", help="What to change (see above).")],
    value: Annotated[str, typer.Argument(metavar="VALUE", help="Its new value.")],
    deployment: DeploymentOpt = DEFAULT_DEPLOYMENT,
    rpc_url: RpcUrlOpt = None,
    keystore: KeystoreOpt = None,
    password_file: PasswordFileOpt = None,
    dev: DevKeyOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Propose KIND VALUE (help: :data:`PROPOSE_HELP`); a bad value fails before the key."""
    with friendly_errors():
        spec = kind_named(kind)
        checked = spec.parse(value)
        account = unlock(keystore, password_file, dev)
        federation = session(deployment, rpc_url, None).federation
        created = federation.propose(account, spec.kind, checked)
    if json_output:
        print_json(created)
        return
    console.print(
        f"proposal {created.proposal_id}: {_change(created.kind, created.value)}; "
        f"members of round {created.round} vote until {_when(created.vote_end)} "
        f"({created.votes_needed} yes votes needed) with `daofed vote proposal "
        f"{created.proposal_id} yes|no`"
    )


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
            _change(info.kind, info.value),
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
        f"proposal {proposal_id} executed ({_change(info.kind, info.value)}): "
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
        f"voted {choice} on proposal {proposal_id} ({_change(before.kind, before.value)}): "
        f"now {after.yes} yes / {after.no} no, "
        f"{after.votes_needed} yes needed"
    )


def _change(kind: ProposalKind, value: ProposalValue) -> str:
    """Say what a proposal changes; a rule is chain data, shown as text, not markup."""
    return escape(KINDS[kind].describe(value))


def _when(timestamp: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(timestamp))


def _yes_no(text: str) -> bool:
    if text.lower() not in {"yes", "no"}:
        raise typer.BadParameter(f"vote 'yes' or 'no', not {text!r}")
    return text.lower() == "yes"
