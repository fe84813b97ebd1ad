"""``daofed status`` and ``daofed members``: the running round and who takes part, now.

Thin layers over :func:`daofed.audit.read_status` and :func:`daofed.audit.read_members`.
"""

from __future__ import annotations

from rich.markup import escape
from rich.table import Table

from daofed.audit import Membership, RoundStatus, Standing, open_source, read_members, read_status
from daofed.chain import Phase
from daofed.cli.audit import AuditStoreOpt, ContractOpt
from daofed.cli.options import DEFAULT_DEPLOYMENT, DeploymentOpt, JsonOpt, RpcUrlOpt
from daofed.cli.output import console, digest_text, friendly_errors, print_json


def status(
    deployment: DeploymentOpt = DEFAULT_DEPLOYMENT,
    rpc_url: RpcUrlOpt = None,
    contract: ContractOpt = None,
    store: AuditStoreOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Show the current round: phase, time left, who submitted, votes per digest.

    With a blob store (the deployment file's, or --store) the submitted updates are
    checked as every member will check them: excluded updates are listed, and once
    submissions are over, the aggregate an honest member computes.
    """
    with friendly_errors():
        source = open_source(deployment=deployment, rpc_url=rpc_url, contract=contract, store=store)
        current = read_status(source.federation, source.store)
    if json_output:
        print_json(current)
    else:
        _print_status(current)


def members(
    deployment: DeploymentOpt = DEFAULT_DEPLOYMENT,
    rpc_url: RpcUrlOpt = None,
    contract: ContractOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """List the members: current ones, those joining or leaving at the next round, former ones."""
    with friendly_errors():
        source = open_source(deployment=deployment, rpc_url=rpc_url, contract=contract)
        membership = read_members(source.federation)
    if json_output:
        print_json(membership)
    else:
        _print_members(membership)


def duration(seconds: int) -> str:
    """Say how long ``seconds`` is the way a person reads it: ``1h 05m``, ``4m 10s``, ``9s``."""
    hours, rest = divmod(max(0, seconds), 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


def _deadline(timestamp: int, left: int, phase: Phase) -> str:
    """Show a deadline and the time left to it; "over" once passed or the round moved on."""
    running = phase in (Phase.SUBMIT, Phase.REVEAL, Phase.VOTE)
    state = f"{duration(left)} left" if running and left > 0 else "over"
    return f"{timestamp} ({state})"


def _print_status(s: RoundStatus) -> None:
    overview = Table(
        title=f"round {s.round} of {s.contract} (chain {s.chain_id})", show_header=False
    )
    overview.add_column("", style="bold")
    overview.add_column("")
    submitted = sum(m.submitted for m in s.members)
    rows = [
        ("phase", s.phase.label),
        ("base model", digest_text(s.base_digest)),
        ("rule", f"{escape(s.rule)} (config v{s.config_version})"),
        ("quorum", f"{s.quorum} of {len(s.members)} members"),
    ]
    if s.commit_reveal:
        committed = sum(m.committed for m in s.members)
        rows += [
            ("committed", f"{committed}/{len(s.members)}"),
            ("revealed", f"{submitted}/{committed}"),
            ("commit deadline", _deadline(s.submit_deadline, s.submit_seconds_left, s.phase)),
            ("reveal deadline", _deadline(s.reveal_deadline, s.reveal_seconds_left, s.phase)),
        ]
    else:
        rows += [
            ("submitted", f"{submitted}/{len(s.members)}"),
            ("submission deadline", _deadline(s.submit_deadline, s.submit_seconds_left, s.phase)),
        ]
    rows += [
        ("vote deadline", _deadline(s.vote_deadline, s.vote_seconds_left, s.phase)),
        ("chain time", f"{s.now} (block {s.block})"),
    ]
    if s.expected_aggregate is not None:
        rows.append(("honest aggregate", digest_text(s.expected_aggregate)))
    for key, value in rows:
        overview.add_row(key, value)
    console.print(overview)

    people = Table(title="members this round")
    people.add_column("member", no_wrap=True, min_width=42)
    for column in ("update", "samples", "voted for"):
        people.add_column(column)
    hidden = "committed" if s.commit_reveal else "-"
    updates = {u.member: u for u in s.updates}
    votes = {voter: t.digest for t in s.tallies for voter in t.voters}
    for m in s.members:
        update = updates.get(m.address)
        people.add_row(
            m.address,
            digest_text(update.digest, 12) if update else (hidden if m.committed else "-"),
            str(update.num_samples) if update else "-",
            digest_text(votes.get(m.address), 12),
        )
    console.print(people)

    if s.tallies:
        tallies = Table(title="votes per digest")
        tallies.add_column("aggregate digest", overflow="fold")
        tallies.add_column("votes")
        tallies.add_column("voters", no_wrap=True)
        for t in s.tallies:
            tallies.add_row(digest_text(t.digest), f"{t.votes}/{s.quorum}", "\n".join(t.voters))
        console.print(tallies)
    if s.exclusions:
        for e in s.exclusions:
            console.print(
                f"[yellow]excluded[/]: update {digest_text(e.digest, 12)} of {e.member}: "
                f"{e.reason} ({e.message})",
                highlight=False,
            )
    elif s.exclusions is not None and s.updates:
        console.print("every submitted update is valid")
    if s.store_problem is not None:
        console.print(f"[yellow]updates not checked[/]: {s.store_problem}", highlight=False)


_STANDING_STYLE = {
    Standing.MEMBER: "[green]member[/]",
    Standing.LEAVING: "[yellow]leaving[/]",
    Standing.JOINING: "[cyan]joining[/]",
    Standing.FORMER: "[dim]former[/]",
}


def _print_members(membership: Membership) -> None:
    table = Table(title=f"members (current round {membership.round})")
    table.add_column("address", no_wrap=True, min_width=42)
    table.add_column("standing", no_wrap=True)
    table.add_column("rounds", no_wrap=True)
    table.add_column("this round")
    for m in membership.members:
        last = "" if m.until_round is None else str(m.until_round - 1)
        done = [what for what, did in (("update", m.submitted), ("vote", m.voted)) if did]
        table.add_row(
            m.address,
            _STANDING_STYLE[m.standing],
            f"{m.from_round}-{last}",
            ", ".join(done) or "-",
        )
    console.print(table)
    console.print("rounds: first-last round of membership (open-ended when no last round)")
    nodes = [m for m in membership.members if m.node_addresses]
    if nodes:
        console.print("IPFS nodes, as the members published them (full multiaddrs in --json):")
        for m in nodes:
            console.print(f"  {m.address}  {' '.join(map(_host_port, m.node_addresses))}")


def _host_port(multiaddr: str) -> str:
    """Shorten ``/ip4/10.0.0.1/tcp/4001/p2p/12D3…`` to ``10.0.0.1:4001`` for a table."""
    parts = multiaddr.split("/")
    if len(parts) >= 5 and parts[1] in ("ip4", "ip6", "dns", "dns4", "dns6"):
        host = f"[{parts[2]}]" if parts[1] == "ip6" else parts[2]
        return f"{host}:{parts[4]}"
    return multiaddr
