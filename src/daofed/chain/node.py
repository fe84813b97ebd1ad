"""Chains to run on: an embedded one in this process, a local anvil or Hardhat node, or any URL.

The embedded chain (py-evm through eth-tester) needs nothing but Python and suits tests
and small demos; its log queries slow down with many events, so longer runs want anvil
(or a Hardhat node). All hold the same funded dev accounts (the standard test mnemonic),
so code and tests never ask which chain they are on; :func:`advance_time` moves any
one's clock.
"""

from __future__ import annotations

import os
import re
from functools import cache
from pathlib import Path
from types import TracebackType
from typing import Self

import requests
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import EthereumTesterProvider, Web3
from web3.exceptions import Web3Exception
from web3.types import RPCEndpoint

from daofed.chain.tx import network_reason
from daofed.errors import ChainError, ConfigError, RpcUnavailable
from daofed.extras import require
from daofed.nodeproc import (
    LOOPBACK,
    NodeProcess,
    checkout_root,
    find_program,
    line_match,
    reach_host,
)
from daofed.retry import RETRY, RetryPolicy

DEV_MNEMONIC = "test test test test test test test test test test test junk"
"""anvil's (and Hardhat's) standard test mnemonic: the keys are public, for local chains only."""
DEV_HD_PATH = "m/44'/60'/0'/0"  # account i is at DEV_HD_PATH/i, as in anvil and Hardhat
DEV_ACCOUNT_COUNT = 10
DEV_BALANCE_WEI = 10_000 * 10**18  # anvil's default
ANVIL_CHAIN_ID = 31337

Account.enable_unaudited_hdwallet_features()


def dev_account(index: int) -> LocalAccount:
    """Return dev account ``index`` of the standard test mnemonic (funded on local chains)."""
    if not 0 <= index < DEV_ACCOUNT_COUNT:
        raise ConfigError(f"dev account {index} does not exist: use 0 to {DEV_ACCOUNT_COUNT - 1}")
    return _derived(index)


def dev_accounts(n: int = DEV_ACCOUNT_COUNT) -> list[LocalAccount]:
    """Return the first ``n`` accounts of the test mnemonic.

    The first :data:`DEV_ACCOUNT_COUNT` are funded on every local chain; a chain started
    with ``accounts=n`` (:func:`embedded_chain`, :meth:`AnvilNode.start`) funds all ``n``.
    """
    if n < 0:
        raise ConfigError(f"cannot make {n} accounts")
    return [_derived(i) for i in range(n)]


@cache
def _derived(index: int) -> LocalAccount:
    account: LocalAccount = Account.from_mnemonic(
        DEV_MNEMONIC, account_path=f"{DEV_HD_PATH}/{index}"
    )
    return account


def embedded_chain(accounts: int = DEV_ACCOUNT_COUNT) -> Web3:
    """Start a fresh chain inside this process that funds the first ``accounts`` dev accounts.

    eth-tester and py-evm are the ``demo`` extra: members run against a real node.
    """
    tester = require("eth_tester", "demo", "the embedded chain")
    backend = tester.PyEVMBackend.from_mnemonic(
        DEV_MNEMONIC,
        num_accounts=max(accounts, DEV_ACCOUNT_COUNT),
        hd_path=DEV_HD_PATH,
        genesis_state_overrides={"balance": DEV_BALANCE_WEI},
    )
    return _lean(Web3(EthereumTesterProvider(tester.EthereumTester(backend))))


def connect(url: str, *, timeout: float = 30.0, retry: RetryPolicy = RETRY) -> Web3:
    """Connect to the JSON-RPC node at ``url`` and check it answers (RpcUnavailable if not).

    ``timeout`` bounds each request; requests that fail on the way are retried under
    ``retry`` by the provider itself.
    """
    # web3 checks each transaction's chain id against the node's: without a cache that is
    # one more eth_chainId request per call (a fifth of a member's requests on anvil). A
    # node's chain id does not change; nothing else is cached (blocks may be replaced).
    provider = Web3.HTTPProvider(
        url,
        session=_session(url),
        request_kwargs={"timeout": timeout},
        cache_allowed_requests=True,
        cacheable_requests={RPCEndpoint("eth_chainId")},
        exception_retry_configuration=retry.web3_configuration(),
    )
    w3 = _lean(Web3(provider))
    try:
        w3.eth.chain_id  # noqa: B018 (a request that any node answers)
    except (requests.RequestException, OSError, Web3Exception) as error:
        raise RpcUnavailable(
            f"no Ethereum JSON-RPC node answers at {url} ({network_reason(error)}): start one "
            "there (e.g. `anvil`) or give the right RPC URL"
        ) from None
    return w3


def _session(url: str) -> requests.Session:
    """Return an HTTP session for ``url`` that reads its proxy, CA and netrc settings once.

    A plain session looks them up in the environment again on every request: scanning
    every variable for proxies took a fifth of a JSON-RPC request's CPU here. The lookups
    are the same as requests' own, done at connection time instead.
    """
    session = requests.Session()
    found = session.merge_environment_settings(url, {}, None, None, None)
    session.proxies.update(found["proxies"])
    session.verify = found["verify"]
    session.cert = found["cert"]
    session.auth = requests.utils.get_netrc_auth(url)
    session.trust_env = False
    return session


def _lean(w3: Web3) -> Web3:
    """Drop the middlewares that only cost daofed time: about 3 ms of CPU per request.

    daofed names accounts by checksum address, never by ENS name, and signs each
    transaction itself with the chain id the node gave (``build_transaction``), so ENS
    resolution and web3's request validation (chain id of call parameters, a block's
    extra-data length) check nothing daofed could get wrong. A member makes dozens of
    requests a round: together they were a tenth of its CPU beyond training.
    """
    for name in ("ens_name_to_address", "validation"):
        w3.middleware_onion.remove(name)
    return w3


def advance_time(w3: Web3, seconds: int) -> None:
    """Move the chain's clock ``seconds`` forward and mine a block there (tests, demos)."""
    if seconds < 0:
        raise ConfigError(f"cannot move the chain's clock back ({seconds} s): time only grows")
    provider = w3.provider
    if isinstance(provider, EthereumTesterProvider) and provider.ethereum_tester is not None:
        latest = w3.eth.get_block("latest")["timestamp"]
        pending = w3.eth.get_block("pending")["timestamp"]
        # eth-tester mines the block one second before the time it travels to, and its
        # pending block may already be stamped ahead of the latest (wall clock at mining):
        # travelling to less than that would be "backwards in time"
        provider.ethereum_tester.time_travel(max(latest + seconds + 1, pending))
        return
    for method, params in (("evm_increaseTime", [seconds]), ("evm_mine", [])):
        response = provider.make_request(method, params)  # type: ignore[arg-type]
        if "error" in response:
            raise ChainError(f"{method} failed: {response['error']}: use a local dev chain")


def fund(w3: Web3, address: str, wei: int = DEV_BALANCE_WEI) -> None:
    """Give ``address`` a balance of ``wei`` on a local dev chain (anvil or Hardhat).

    New member keys start with nothing to pay gas with; on a real network the members'
    organisations fund them, on a dev chain this does.
    """
    for method in ("anvil_setBalance", "hardhat_setBalance"):
        response = w3.provider.make_request(method, [address, hex(wei)])  # type: ignore[arg-type]
        if "error" not in response:
            return
    raise ChainError(
        f"this node cannot set balances ({response['error']}): fund {address} with a "
        "transfer from an account that has ether"
    )


def find_anvil() -> Path:
    """Find Foundry's anvil: on PATH, else the one npm installed in the source checkout."""
    return find_program(
        "anvil",
        in_checkout="node_modules/.bin/anvil",
        install="install Foundry's anvil (`npm i @foundry-rs/anvil-linux-amd64`, or "
        "`npm ci` in a daofed checkout), or use the embedded chain (`--chain embedded`)",
    )


def find_hardhat() -> Path:
    """Find the Hardhat CLI npm pinned in the source checkout (it needs the checkout's config)."""
    root = checkout_root()
    if root is None or not (root / "hardhat.config.js").is_file():
        raise ConfigError(
            "a Hardhat node runs from a source checkout of daofed (it needs its "
            "hardhat.config.js): use anvil or the embedded chain instead"
        )
    candidate = root / "node_modules" / ".bin" / "hardhat"
    if not (candidate.is_file() and os.access(candidate, os.X_OK)):
        raise ConfigError(f"hardhat not found in {candidate.parent}: run `npm ci` in {root}")
    return candidate


class LocalNode:
    """A development chain node this process started, stopped on exit."""

    NAME = "node"
    LISTENING = re.compile(r"(127\.0\.0\.1:\d+)")  # group 1: host:port, once it listens

    def __init__(self, process: NodeProcess, url: str) -> None:
        self.process = process
        self.url = url

    @classmethod
    def _launch(
        cls,
        command: list[str],
        timeout: float,
        *,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> Self:
        """Run ``command``, wait until it prints where it listens and answers JSON-RPC there."""
        process = NodeProcess.start(cls.NAME, command, cwd=cwd, env=env, error=ChainError)
        address = process.wait_ready(line_match(cls.LISTENING), timeout=timeout, error=ChainError)
        host, port = address.rsplit(":", 1)
        # A node on every interface is reached on this host through loopback.
        url = f"http://{reach_host(host)}:{port}"
        try:
            connect(url)
        except BaseException:
            process.stop()
            raise
        return cls(process, url)

    def web3(self) -> Web3:
        """Connect a Web3 to this node."""
        return connect(self.url)

    def stop(self) -> None:
        """Stop the node (gracefully, so it can write its state) and wait for it."""
        self.process.stop()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class HardhatNode(LocalNode):
    """A Hardhat Network node (``hardhat node``) this process started, on a free port.

    Use ``with HardhatNode.start() as node: w3 = node.web3()``. Chain id 31337 and the
    standard dev accounts, like anvil. It runs from the source checkout (``npm ci``).
    """

    NAME = "hardhat"
    LISTENING = re.compile(r"JSON-RPC server at http://(127\.0\.0\.1:\d+)")

    @classmethod
    def start(
        cls, *, binary: Path | None = None, port: int = 0, timeout: float = 60.0
    ) -> HardhatNode:
        """Start ``hardhat node`` and wait until it answers JSON-RPC (``port=0``: a free port)."""
        command = [
            str(binary or find_hardhat()),
            "node",
            "--hostname", LOOPBACK,
            "--port", str(port),  # 0: Hardhat picks a free port and prints it
        ]  # fmt: skip
        env = {**os.environ, "HARDHAT_DISABLE_TELEMETRY_PROMPT": "true"}
        return cls._launch(command, timeout, cwd=checkout_root(), env=env)


RECENT_STATES = 128
"""Blocks whose state the dev chains daofed starts (demo, ``daofed chain up``) keep.

Past its 500th block anvil otherwise moves an old block's state to disk at every new
block, and each block costs more from then on: a 10-member demo's round went from 2.3 s
to 3.9 s between rounds 25 and 30 (``bench.round_times``), while daofed sent the same
requests every round. daofed reads state only at recent blocks (a round's snapshot, the
replay of a failed transaction one block back); events and blocks are kept either way.
"""


class AnvilNode(LocalNode):
    """An anvil this process started: on loopback unless told, a free port, stopped on exit.

    Use ``with AnvilNode.start() as node: w3 = node.web3()``. With ``state_file`` the
    chain is loaded from that file if it exists and written back to it on :meth:`stop`.
    """

    NAME = "anvil"
    LISTENING = re.compile(r"Listening on (\d+\.\d+\.\d+\.\d+:\d+)")

    @classmethod
    def start(
        cls,
        *,
        binary: Path | None = None,
        state_file: Path | None = None,
        block_time: float | None = None,
        chain_id: int = ANVIL_CHAIN_ID,
        host: str = LOOPBACK,
        port: int = 0,
        timeout: float = 30.0,
        accounts: int = DEV_ACCOUNT_COUNT,
        gas_limit: int | None = None,
        code_size_limit: bool = True,
        kept_states: int | None = None,
    ) -> AnvilNode:
        """Start anvil and wait until it answers JSON-RPC (``port=0``: a free port).

        ``host`` is the IPv4 address it listens on: loopback by default, since its dev
        accounts are unlocked and their keys public; another host's members need an
        address they can reach (``0.0.0.0``: every interface, :attr:`url` on loopback).
        It funds the first ``accounts`` dev accounts (a demo of many members needs more
        than the usual ten). ``gas_limit`` (per block) and ``code_size_limit=False`` make
        room for constructors larger than any real network takes (benchmarks).
        ``kept_states`` keeps only the last that many blocks' states, in memory (anvil's
        ``--prune-history``; see :data:`RECENT_STATES`).
        """
        command = [
            str(binary or find_anvil()),
            "--host", host,
            "--port", str(port),  # 0: anvil picks a free port and prints it
            "--chain-id", str(chain_id),
            "--mnemonic", DEV_MNEMONIC,
            "--accounts", str(max(accounts, DEV_ACCOUNT_COUNT)),
        ]  # fmt: skip
        if state_file is not None:
            command += ["--state", str(state_file)]
        if block_time is not None:
            command += ["--block-time", str(block_time)]
        if gas_limit is not None:
            command += ["--gas-limit", str(gas_limit)]
        if not code_size_limit:
            command.append("--disable-code-size-limit")
        if kept_states is not None:
            command += ["--prune-history", str(kept_states)]
        return cls._launch(command, timeout)  # anvil dumps --state when stopped
