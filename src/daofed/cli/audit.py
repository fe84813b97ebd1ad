"""``daofed audit``: a federation's history from its events, verified and plotted on request.

A thin layer over :func:`daofed.audit.run_audit`: options in, tables or one JSON document
out, and exit status 1 when verification finds a problem (so scripts and CI can gate on
it). Metrics are the federation's task's own (accuracy, loss, ROC AUC ...), one column each.
"""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from daofed.audit import (
    DEFAULT_TEST_SEED,
    AuditReport,
    Evaluation,
    History,
    RoundVerification,
    Verdict,
    open_source,
    run_audit,
)
from daofed.cli.options import DEFAULT_DEPLOYMENT, DeploymentOpt, JsonOpt, RpcUrlOpt
from daofed.cli.output import console, digest_text, err_console, friendly_errors, print_json
from daofed.peering import connect_all
from daofed.storage.ipfs import IpfsStore

ContractOpt = Annotated[
    str | None,
    typer.Option(
        help="The federation at this address (with --rpc-url); no deployment file needed."
    ),
]
AuditStoreOpt = Annotated[
    str | None,
    typer.Option(
        "--store",
        help="The members' blob store (local:/dir or ipfs:http://host:5001); "
        "default: the deployment file's.",
    ),
]
AuditTaskOpt = Annotated[
    str | None,
    typer.Option(
        "--task",
        help="Evaluate with this task (package.module:attr, path/to/file.py:attr or a "
        "built-in name); default: the task the genesis model names. Needed for a task "
        "daofed does not ship; checked against the genesis model.",
    ),
]
TestDataOpt = Annotated[
    Path | None,
    typer.Option(help="Held-out test data, read by the task (built-in: .npz or .csv)."),
]

_VERDICT_STYLE = {
    Verdict.VERIFIED: "[green]verified[/]",
    Verdict.MISMATCH: "[bold red]MISMATCH[/]",
    Verdict.CLOSED: "[yellow]closed[/]",
    Verdict.EXPIRED: "[yellow]expired[/]",
    Verdict.OPEN: "open",
}


def audit(
    deployment: DeploymentOpt = DEFAULT_DEPLOYMENT,
    rpc_url: RpcUrlOpt = None,
    contract: ContractOpt = None,
    store: AuditStoreOpt = None,
    verify: Annotated[
        bool,
        typer.Option(
            "--verify",
            help="Check the code at the address is the shipped Federation, re-check every "
            "round's rules and the governance record from the events, re-fetch every blob, "
            "re-check every digest and re-run every round's aggregation.",
        ),
    ] = False,
    plot: Annotated[
        Path | None,
        typer.Option(help="Write a PNG of the task's test metric and participation per round."),
    ] = None,
    task: AuditTaskOpt = None,
    test_data: TestDataOpt = None,
    test_seed: Annotated[
        int,
        typer.Option(help="Without --test-data: seed of the task's own held-out split."),
    ] = DEFAULT_TEST_SEED,
    json_output: JsonOpt = False,
) -> None:
    """Rebuild the federation's history from contract events; --verify re-checks all of it.

    Works on any chain: give --rpc-url and --contract (and --store to verify), or a
    deployment file. Every round's model is evaluated with the federation's task (its
    metrics) with --verify, --plot, --task or --test-data. Exit status 1 when --verify finds
    a problem: code that is not the shipped Federation, a broken round or governance rule,
    a blob or aggregate that does not match.

    --json prints one document: "history", "code", "verification", "evaluation", "plot",
    "verified" (whether --verify ran) and "ok": true or false with --verify, null without
    it (reading the events alone checks nothing).
    """
    with friendly_errors():
        source = open_source(deployment=deployment, rpc_url=rpc_url, contract=contract, store=store)
        needs_store = verify or plot is not None or task is not None or test_data is not None
        if needs_store and isinstance(source.store, IpfsStore):
            peered = connect_all(source.federation, source.store)
            if not json_output:
                err_console.print(f"IPFS: {peered.summary()}", highlight=False)
        working = err_console.status("auditing the federation's history")
        with nullcontext() if json_output else working:
            report = run_audit(
                source.federation,
                source.require_store("--verify, --plot, --task and --test-data")
                if needs_store
                else None,
                verify=verify,
                task=task,
                test_data=test_data,
                test_seed=test_seed,
                plot=plot,
            )
    if json_output:
        print_json(report.to_json())
    else:
        _print(report)
    if report.ok is False:
        raise typer.Exit(1)


def _print(report: AuditReport) -> None:
    history = report.history
    console.print(
        f"federation {history.contract} on chain {history.chain_id}, "
        f"events of blocks {history.deploy_block}-{history.latest_block}"
    )
    pinned = report.verification.task if report.verification is not None else None
    console.print(
        f"genesis model {digest_text(history.genesis_digest)}"
        + (f" (task {pinned})" if pinned else "")
    )
    verdicts = {r.round: r for r in report.verification.rounds} if report.verification else {}
    console.print(_rounds_table(history, verdicts))
    if report.evaluation is not None:
        console.print(_metrics_table(report.evaluation))
    console.print(_updates_table(history, verdicts))
    if history.proposals:
        console.print(_proposals_table(history))
    if report.unevaluated is not None:
        err_console.print(
            f"[yellow]metrics not evaluated:[/] {report.unevaluated}", highlight=False
        )
    if report.verification is not None:
        _print_verdict(report)
    if report.plot is not None:
        console.print(f"plot written to {report.plot}")


def _metrics_table(evaluation: Evaluation) -> Table:
    """Tabulate the task's metrics of the model each round left (round 0: the genesis)."""
    if evaluation.test_data is not None:
        data = f"test data {evaluation.test_data}"
    elif evaluation.test_seed is not None:
        data = f"its held-out split (seed {evaluation.test_seed})"
    else:
        data = "the given test data"
    table = Table(title=f"metrics of task {evaluation.task}", caption=f"on {data}")
    table.add_column("round", justify="right")
    table.add_column("model", no_wrap=True)
    for metric in evaluation.metrics:
        table.add_column(metric.replace("_", " "), justify="right", no_wrap=True)
    for r in evaluation.rounds:
        model = _digest(r.digest) + ("" if r.accepted else " (kept)")
        row = [str(r.round), model]
        row += ["-" if r.value(m) is None else f"{r.value(m):.4f}" for m in evaluation.metrics]
        table.add_row(*row)
    return table


def _rounds_table(history: History, verdicts: dict[int, RoundVerification]) -> Table:
    """One line per round; with verification the outcome column shows the verdict.

    A closed round names who closed it (anyone may, once it expired).
    """
    table = Table(title="rounds")
    table.add_column("round", justify="right")
    table.add_column("base", no_wrap=True)
    table.add_column("rule")
    table.add_column("updates", justify="right")
    table.add_column("votes", no_wrap=True)
    table.add_column("verdict" if verdicts else "outcome", no_wrap=True)
    for r in history.rounds:
        votes = "\n".join(f"{t.votes}/{r.quorum} {_digest(t.digest)}" for t in r.tallies)
        outcome = _VERDICT_STYLE[verdicts[r.round].verdict] if verdicts else r.outcome.value
        if r.closed_by is not None:
            outcome += f" by {_address(r.closed_by)}"
        row = [
            str(r.round),
            _digest(r.base_digest),
            escape(r.rule),  # chain data: anyone may propose any string
            f"{len(r.updates)}/{r.member_count}",
            votes or f"0/{r.quorum}",
            outcome,
        ]
        table.add_row(*row)
    return table


def _updates_table(history: History, verdicts: dict[int, RoundVerification]) -> Table:
    table = Table(title="updates and votes")
    table.add_column("round", justify="right")
    table.add_column("member", no_wrap=True)
    table.add_column("update")
    table.add_column("samples", justify="right")
    table.add_column("voted for")
    if verdicts:
        table.add_column("audit")
    for r in history.rounds:
        votes = {v.member: v.digest for v in r.votes}
        excluded = {e.digest: e.reason for e in verdicts[r.round].exclusions} if verdicts else {}
        included = set(verdicts[r.round].included) if verdicts else set()
        for u in r.updates:
            row = [
                str(r.round),
                _address(u.member),
                _digest(u.digest),
                str(u.num_samples),
                _digest(votes.get(u.member)),
            ]
            if verdicts:
                row.append(_update_audit(u.member, u.digest, included, excluded))
            table.add_row(*row)
        for member in r.unrevealed:
            row = [str(r.round), _address(member), "not revealed", "-", _digest(votes.get(member))]
            table.add_row(*row, *(["left out"] if verdicts else []))
    return table


def _update_audit(
    member: str, digest: bytes, included: set[str], excluded: dict[bytes, str]
) -> str:
    """By digest: in a private round a member's other messages may be left out, not its update."""
    if digest in excluded:
        return f"[yellow]excluded ({excluded[digest]})[/]"
    return "included" if member in included else "-"


def _left_out_messages(report: AuditReport) -> list[str]:
    """Private rounds' setup and recovery messages (or shares) the verification left out."""
    assert report.verification is not None
    lines = []
    for verified in report.verification.rounds:
        record = report.history.round(verified.round)
        updates = {u.digest for u in record.updates}
        for e in verified.exclusions:
            if e.digest not in updates:
                lines.append(
                    f"round {verified.round}: {record.message_kind(e.digest)} of {e.member}: "
                    f"{e.reason}, ignored: {e.message}"
                )
    return lines


def _proposals_table(history: History) -> Table:
    table = Table(title="proposals")
    table.add_column("id", justify="right")
    table.add_column("proposal", overflow="fold")
    table.add_column("by", no_wrap=True)
    table.add_column("votes", no_wrap=True)
    table.add_column("state")
    for p in history.proposals:
        votes = [f"{_address(v.member)} {'yes' if v.support else 'no'}" for v in p.votes]
        votes.append(f"{p.yes} yes, {p.no} no (needs {p.votes_needed})")
        state = p.state.label
        if p.executed_by is not None:
            state += f" by {_address(p.executed_by)}"
        if p.applies_from_round is not None:
            state += f", from round {p.applies_from_round}"
        table.add_row(str(p.id), escape(p.summary), _address(p.proposer), "\n".join(votes), state)
    return table


def _digest(digest: bytes | None) -> str:
    """Eight hex digits name a digest for the eye; --json has all 64."""
    return digest_text(digest, 8)


def _address(address: str) -> str:
    """Abbreviate an address the way block explorers do; --json has it whole."""
    return f"{address[:6]}..{address[-4:]}"


def _print_verdict(report: AuditReport) -> None:
    verification, code = report.verification, report.code
    assert verification is not None and code is not None  # they come together
    if code.ok:
        console.print(f"[green]{code.message}[/]", highlight=False)
    else:
        err_console.print(f"[bold red]{code.message}[/]", highlight=False)
    for line in _left_out_messages(report):
        console.print(f"[yellow]{escape(line)}[/]", highlight=False)
    for message in [f.message for f in verification.findings] + [
        f.message for f in verification.governance
    ]:
        err_console.print(f"[red]{message}[/]", highlight=False)
    counts = {v: sum(r.verdict is v for r in verification.rounds) for v in Verdict}
    summary = (
        f"{counts[Verdict.VERIFIED]} verified, {counts[Verdict.MISMATCH]} mismatched, "
        f"{counts[Verdict.CLOSED]} closed without a model, {counts[Verdict.EXPIRED]} expired, "
        f"{counts[Verdict.OPEN]} open; "
        f"{len(verification.governance)} governance problems "
        f"(blobs from the {verification.store})"
    )
    if report.ok:
        console.print(f"[green]history verified[/]: {summary}")
    else:
        console.print(f"[bold red]history does NOT verify[/]: {summary}")
