"""``daofed chain up`` and ``daofed deploy``: a local chain and a federation on it."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Annotated

import typer

from daofed.chain import AnvilNode, Federation, connect, fund
from daofed.chain.checks import MAX_SAMPLES_LIMIT, check_address
from daofed.chain.deployment import Deployment
from daofed.chain.node import RECENT_STATES
from daofed.cli.bind import check_bindable
from daofed.cli.options import (
    DEFAULT_DEPLOYMENT,
    DevKeyOpt,
    JsonOpt,
    KeystoreOpt,
    PasswordFileOpt,
    TaskOpt,
    unlock,
)
from daofed.cli.output import console, err_console, friendly_errors, print_json
from daofed.errors import ConfigError
from daofed.learning import DEFAULT_TASK, load_task
from daofed.nodeproc import EVERY_INTERFACE, LOOPBACK
from daofed.protocol import genesis_blob
from daofed.session import abi_version
from daofed.storage import open_store

chain_app = typer.Typer(help="Run a local development chain (anvil).")


@chain_app.command("up")
def up(
    host: Annotated[
        str,
        typer.Option(
            help="IPv4 address to listen on: loopback by default (the dev keys are public); "
            "0.0.0.0 for every interface, or one address other hosts' members reach."
        ),
    ] = LOOPBACK,
    port: Annotated[int, typer.Option(help="Port for JSON-RPC.", min=1, max=65535)] = 8545,
    state: Annotated[
        Path,
        typer.Option(help="State file: loaded at start, written at stop (restarts keep it)."),
    ] = Path(".daofed/anvil-state.json"),
    block_time: Annotated[
        float | None, typer.Option(help="Mine a block every N seconds (default: on each tx).")
    ] = None,
) -> None:
    """Start anvil (on 127.0.0.1 unless --host) and keep it running until Ctrl-C (state saved)."""
    with friendly_errors():
        check_bindable(host, port, busy="another chain may be running there (use it, or stop it)")
    state.parent.mkdir(parents=True, exist_ok=True)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with (
        friendly_errors(),
        AnvilNode.start(
            host=host,
            port=port,
            state_file=state,
            block_time=block_time,
            kept_states=RECENT_STATES,
        ) as node,
    ):
        where = node.url
        if host == EVERY_INTERFACE:
            where = f"every interface, port {port} ({node.url} from this host)"
        err_console.print(f"anvil listening on {where} (chain id {node.web3().eth.chain_id})")
        err_console.print(f"state file: {state}; dev keys: `--dev 0..9`; stop with Ctrl-C")
        stop.wait()
    err_console.print("anvil stopped, state saved")


@chain_app.command("fund")
def fund_cmd(
    address: Annotated[list[str], typer.Argument(help="Accounts to fund.")],
    rpc_url: Annotated[str, typer.Option(help="JSON-RPC URL of the dev chain.")] = (
        "http://127.0.0.1:8545"
    ),
    ether: Annotated[int, typer.Option(help="Balance to set, in ether.")] = 100,
) -> None:
    """Give accounts ether on a local dev chain (anvil or Hardhat) to pay gas with."""
    with friendly_errors():
        accounts = [check_address(account, "an account address") for account in address]
        w3 = connect(rpc_url)
        for account in accounts:
            fund(w3, account, ether * 10**18)
            console.print(f"{account}: {ether} ETH")


def deploy(
    member: Annotated[
        list[str], typer.Option("--member", "-m", help="Member address (repeat for each).")
    ],
    quorum: Annotated[int, typer.Option(help="Votes needed to accept a model.")],
    rpc_url: Annotated[str, typer.Option(help="JSON-RPC URL of the chain.")] = (
        "http://127.0.0.1:8545"
    ),
    store: Annotated[
        str,
        typer.Option(
            help="Where the genesis model goes: local:/dir, or the deployer's own IPFS node "
            "(ipfs:http://127.0.0.1:5001; members fetch it from there by bitswap)."
        ),
    ] = "local:.daofed/blobs",
    submit_window: Annotated[int, typer.Option(help="Seconds members have to submit.")] = 600,
    vote_window: Annotated[int, typer.Option(help="Seconds members have to vote.")] = 600,
    rule: Annotated[str, typer.Option(help="Aggregation rule, e.g. fedavg, median.")] = "fedavg",
    max_samples: Annotated[
        int,
        typer.Option(help="Most samples one update may claim (its FedAvg weight); governed."),
    ] = MAX_SAMPLES_LIMIT,
    seed: Annotated[int, typer.Option(help="Seed of the genesis model.")] = 0,
    task: TaskOpt = DEFAULT_TASK,
    out: Annotated[Path, typer.Option(help="Deployment file to write.")] = DEFAULT_DEPLOYMENT,
    keystore: KeystoreOpt = None,
    password_file: PasswordFileOpt = None,
    dev: DevKeyOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Deploy a federation: upload the genesis model, deploy the contract, write OUT.

    The genesis model pins TASK (its name and tensor layout): every member's task is
    checked against it. The deployer pays for the deployment and holds no privilege
    afterwards.
    """
    with friendly_errors():
        if out.exists():
            raise ConfigError(f"{out} exists: choose another --out or remove it")
        members = [check_address(m, "a member address") for m in member]
        account = unlock(keystore, password_file, dev)
        federation_task = load_task(task)
        w3 = connect(rpc_url)  # before the store: a dead node leaves no genesis blob behind
        genesis = open_store(store).put(genesis_blob(federation_task, seed))
        federation = Federation.deploy(
            w3,
            account,
            members=members,
            quorum=quorum,
            submit_window=submit_window,
            vote_window=vote_window,
            rule=rule,
            genesis=genesis,
            max_samples=max_samples,
        )
        deployment = Deployment(
            chain_id=w3.eth.chain_id,
            rpc_url=rpc_url,
            contract=federation.address,
            deploy_block=federation.deploy_block,
            abi_version=abi_version(),
            store=store,
        )
        deployment.save(out)
    if json_output:
        print_json(deployment)
        return
    console.print(f"federation deployed at {federation.address} (block {federation.deploy_block})")
    console.print(
        f"task {federation_task.name}, {len(member)} members, quorum {quorum}, rule {rule}, "
        f"genesis {genesis.hex[:12]}"
    )
    console.print(f"deployment file: {out}")
