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
import shutil
import signal
import subprocess
import tempfile
import time
from functools import cache
from pathlib import Path
from types import TracebackType
from typing import Self

import requests
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_tester import EthereumTester, PyEVMBackend
from web3 import EthereumTesterProvider, Web3
from web3.exceptions import Web3Exception
from web3.types import RPCEndpoint

from daofed.chain.tx import network_reason
from daofed.errors import ChainError, ConfigError, RpcUnavailable
from daofed.retry import RETRY, RetryPolicy

DEV_MNEMONIC = "test test test test test test test test test test test junk"
"""anvil's (and Hardhat's) standard test mnemonic: the keys are public, for local chains only."""
DEV_HD_PATH = "m/44'/60'/0'/0"  # account i is at DEV_HD_PATH/i, as in anvil and Hardhat
DEV_ACCOUNT_COUNT = 10
DEV_BALANCE_WEI = 10_000 * 10**18  # anvil's default
ANVIL_CHAIN_ID = 31337
REPO_ROOT = Path(__file__).resolve().parents[3]

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
    """Start a fresh chain inside this process that funds the first ``accounts`` dev accounts."""
    backend = PyEVMBackend.from_mnemonic(
        DEV_MNEMONIC,
        num_accounts=max(accounts, DEV_ACCOUNT_COUNT),
        hd_path=DEV_HD_PATH,
        genesis_state_overrides={"balance": DEV_BALANCE_WEI},
    )
    return Web3(EthereumTesterProvider(EthereumTester(backend)))


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
        request_kwargs={"timeout": timeout},
        cache_allowed_requests=True,
        cacheable_requests={RPCEndpoint("eth_chainId")},
        exception_retry_configuration=retry.web3_configuration(),
    )
    w3 = Web3(provider)
    try:
        w3.eth.chain_id  # noqa: B018 (a request that any node answers)
    except (requests.RequestException, OSError, Web3Exception) as error:
        raise RpcUnavailable(
            f"no Ethereum JSON-RPC node answers at {url} ({network_reason(error)}): start one "
            "there (e.g. `anvil`) or give the right RPC URL"
        ) from None
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
    """Find the anvil binary: the one npm pinned in this checkout, else the one on PATH."""
    for root in (REPO_ROOT, Path.cwd()):
        candidate = root / "node_modules" / ".bin" / "anvil"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("anvil")
    if found is None:
        raise ConfigError(
            f"anvil not found: run `npm ci` in {REPO_ROOT} (installs it into node_modules), "
            "or put Foundry's anvil on PATH"
        )
    return Path(found)


def find_hardhat() -> Path:
    """Find the Hardhat CLI npm pinned in this checkout (it needs the checkout's config)."""
    candidate = REPO_ROOT / "node_modules" / ".bin" / "hardhat"
    if not (REPO_ROOT / "hardhat.config.js").is_file():
        raise ConfigError(
            f"no hardhat.config.js in {REPO_ROOT}: a Hardhat node runs from a source checkout"
        )
    if not (candidate.is_file() and os.access(candidate, os.X_OK)):
        raise ConfigError(f"hardhat not found: run `npm ci` in {REPO_ROOT}")
    return candidate


class LocalNode:
    """A development chain node this process started: loopback only, stopped on exit."""

    NAME = "node"
    LISTENING = re.compile(r"(127\.0\.0\.1:\d+)")  # group 1: host:port, once it listens

    def __init__(self, process: subprocess.Popen[bytes], url: str, log: Path) -> None:
        self.process = process
        self.url = url
        self.log = log

    @classmethod
    def _launch(
        cls,
        command: list[str],
        timeout: float,
        *,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> tuple[subprocess.Popen[bytes], str, Path]:
        """Run ``command``, wait until it prints where it listens and answers JSON-RPC there."""
        log = Path(tempfile.mkstemp(prefix=f"daofed-{cls.NAME}-", suffix=".log")[1])
        with log.open("wb") as out:
            process = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, cwd=cwd, env=env
            )
        try:
            url = _wait_listening(process, log, timeout, cls.LISTENING, cls.NAME)
            connect(url)
        except BaseException:
            _terminate(process)
            log.unlink(missing_ok=True)
            raise
        return process, url, log

    def web3(self) -> Web3:
        """Connect a Web3 to this node."""
        return connect(self.url)

    def stop(self) -> None:
        """Stop the node (gracefully, so it can write its state) and wait for it."""
        _terminate(self.process)
        self.log.unlink(missing_ok=True)

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
            "--hostname", "127.0.0.1",
            "--port", str(port),  # 0: Hardhat picks a free port and prints it
        ]  # fmt: skip
        env = {**os.environ, "HARDHAT_DISABLE_TELEMETRY_PROMPT": "true"}
        return cls(*cls._launch(command, timeout, cwd=REPO_ROOT, env=env))


class AnvilNode(LocalNode):
    """An anvil this process started: loopback only, a free port, stopped on exit.

    Use ``with AnvilNode.start() as node: w3 = node.web3()``. With ``state_file`` the
    chain is loaded from that file if it exists and written back to it on :meth:`stop`.
    """

    NAME = "anvil"
    LISTENING = re.compile(r"Listening on (127\.0\.0\.1:\d+)")

    @classmethod
    def start(
        cls,
        *,
        binary: Path | None = None,
        state_file: Path | None = None,
        block_time: float | None = None,
        chain_id: int = ANVIL_CHAIN_ID,
        port: int = 0,
        timeout: float = 30.0,
        accounts: int = DEV_ACCOUNT_COUNT,
    ) -> AnvilNode:
        """Start anvil and wait until it answers JSON-RPC (``port=0``: a free port).

        It funds the first ``accounts`` dev accounts (a demo of many members needs more
        than the usual ten).
        """
        command = [
            str(binary or find_anvil()),
            "--host", "127.0.0.1",
            "--port", str(port),  # 0: anvil picks a free port and prints it
            "--chain-id", str(chain_id),
            "--mnemonic", DEV_MNEMONIC,
            "--accounts", str(max(accounts, DEV_ACCOUNT_COUNT)),
        ]  # fmt: skip
        if state_file is not None:
            command += ["--state", str(state_file)]
        if block_time is not None:
            command += ["--block-time", str(block_time)]
        return cls(*cls._launch(command, timeout))  # anvil dumps --state when stopped


def _wait_listening(
    process: subprocess.Popen[bytes], log: Path, timeout: float, pattern: re.Pattern[str], name: str
) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        if match := pattern.search(text):
            return f"http://{match.group(1)}"
        if process.poll() is not None:
            raise ChainError(f"{name} exited with code {process.returncode}:\n{text[-2000:]}")
        time.sleep(0.05)
    raise ChainError(
        f"{name} did not start listening within {timeout:.0f} s:\n{log.read_text()[-2000:]}"
    )


def _terminate(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)  # anvil dumps --state on SIGINT/SIGTERM
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
