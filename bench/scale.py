"""One round with hundreds or a thousand members on anvil: time and gas per member.

Members share this process (a few threads, each with its own connection, as independent
members would send concurrently) and send only what the chain sees: a submission of a
tiny synthetic update (stored for real in a local store) and a vote for the aggregate.
Quorum is every member, so each one pays one submit and one vote. The point is that the
cost per member stays flat as the federation grows: no transaction loops over members.
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from eth_account.signers.local import LocalAccount

from bench.chain import bench_account, bench_accounts, fund
from daofed.chain import Federation, Phase, connect
from daofed.chain.values import TxResult
from daofed.storage import LocalStore

FULL_SIZES = (200, 1000)
QUICK_SIZES = (20,)
THREADS = 4
WINDOW = 24 * 3600  # seconds: no deadline passes while a thousand members take turns


@dataclass(frozen=True)
class ScaleResult:
    """One round with ``members`` members."""

    members: int
    deploy_seconds: float
    submit_seconds: float  # all submissions, wall
    vote_seconds: float  # all votes up to acceptance, wall
    submit_gas: int  # total
    vote_gas: int  # total
    accepted: bool

    @property
    def seconds_per_member(self) -> float:
        """Round wall time (submissions + votes) divided by the members."""
        return (self.submit_seconds + self.vote_seconds) / self.members

    @property
    def gas_per_member(self) -> float:
        """Submit + vote gas of the round divided by the members."""
        return (self.submit_gas + self.vote_gas) / self.members


def run_scale(rpc_url: str, members: int, threads: int = THREADS) -> ScaleResult:
    """Deploy a ``members`` federation on the anvil at ``rpc_url`` and run one round."""
    w3 = connect(rpc_url)
    deployer = bench_account(0)
    accounts = bench_accounts(1, members)
    fund(w3, [deployer, *accounts])
    with tempfile.TemporaryDirectory(prefix="daofed-bench-scale-") as root:
        store = LocalStore(root)
        genesis = store.put(b"genesis of a %d-member federation" % members)
        started = time.perf_counter()
        federation = Federation.deploy(
            w3,
            deployer,
            members=[a.address for a in accounts],
            quorum=members,
            submit_window=WINDOW,
            vote_window=WINDOW,
            rule="fedavg",
            genesis=genesis,
        )
        deployed = time.perf_counter()
        refs = [store.put(b"update of member %d" % i) for i in range(members)]
        aggregate = store.put(b"aggregate of round 1")
    local = _per_thread(rpc_url, federation)
    submits = _send_all(threads, accounts, lambda i, a: local().submit_update(a, 1, refs[i], 1 + i))
    submitted = time.perf_counter()
    if federation.phase(1) is not Phase.VOTE:
        raise AssertionError(f"round 1 is {federation.phase(1).label} after every submission")
    votes = _send_all(threads, accounts, lambda _i, a: local().vote_aggregate(a, 1, aggregate))
    voted = time.perf_counter()
    accepted = [e.digest for e in federation.accepted()] == [aggregate.digest]
    return ScaleResult(
        members=members,
        deploy_seconds=deployed - started,
        submit_seconds=submitted - deployed,
        vote_seconds=voted - submitted,
        submit_gas=sum(r.gas_used for r in submits),
        vote_gas=sum(r.gas_used for r in votes),
        accepted=accepted,
    )


def _per_thread(rpc_url: str, federation: Federation) -> Callable[[], Federation]:
    """Give each thread its own Federation on its own connection."""
    local = threading.local()

    def get() -> Federation:
        if not hasattr(local, "federation"):
            local.federation = Federation.at(
                connect(rpc_url), federation.address, federation.deploy_block
            )
        fed: Federation = local.federation
        return fed

    return get


def _send_all(
    threads: int,
    accounts: list[LocalAccount],
    send: Callable[[int, LocalAccount], TxResult],
) -> list[TxResult]:
    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(send, range(len(accounts)), accounts))
