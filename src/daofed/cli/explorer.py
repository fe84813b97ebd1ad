"""``daofed explorer``: serve a read-only web page of the federation's history.

The page is built by :mod:`daofed.explorer` from the audit layer, so it shows what
``daofed audit`` reports; it binds to 127.0.0.1 unless told otherwise, holds no key and
follows the chain as it runs.
"""

from __future__ import annotations

from typing import Annotated

import typer

from daofed.cli.audit import AuditStoreOpt, AuditTaskOpt, ContractOpt, TestDataOpt
from daofed.cli.options import DEFAULT_DEPLOYMENT, DeploymentOpt, RpcUrlOpt
from daofed.cli.output import friendly_errors
from daofed.extras import require


def explorer(
    deployment: DeploymentOpt = DEFAULT_DEPLOYMENT,
    rpc_url: RpcUrlOpt = None,
    contract: ContractOpt = None,
    store: AuditStoreOpt = None,
    task: AuditTaskOpt = None,
    test_data: TestDataOpt = None,
    host: Annotated[
        str,
        typer.Option(
            help="Address to listen on. The default serves this machine only; 0.0.0.0 serves "
            "the network (the page is read-only, but it shows the whole history)."
        ),
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(help="Port to listen on (0: any free port).", min=0, max=65535)
    ] = 8000,
    poll: Annotated[
        float, typer.Option(help="Seconds between looks at the chain for new blocks.", min=0.1)
    ] = 1.0,
) -> None:
    """Serve a web explorer of the federation: rounds, votes, proposals, charts, verification.

    Give a deployment file, or --rpc-url and --contract for any federation (and --store to
    verify and chart metrics; --task and --test-data as for `daofed audit`). Prints one
    line with the URL once it listens, then serves until Ctrl-C. The page follows the
    chain: new submissions, votes and rounds appear without a reload.
    """
    from daofed.audit import open_source

    with friendly_errors():
        require("starlette", "explorer", "daofed explorer")
        from daofed.explorer import create_app, serve

        source = open_source(deployment=deployment, rpc_url=rpc_url, contract=contract, store=store)
        app = create_app(source, poll_interval=poll, host=host, task=task, test_data=test_data)
        serve(
            app,
            host=host,
            port=port,
            on_ready=lambda url: typer.echo(f"explorer at {url} (Ctrl-C stops)"),
        )
