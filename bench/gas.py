"""Gas of every transaction a member pays for, at several federation sizes, on anvil.

Members pay gas every round, so submit and vote must stay cheap (goal: at most 60k each)
and nothing may grow with the number of members: the contract keys per-round bitmaps by
member index instead of looping. Measuring the same round at 5, 50 and 200 members shows
both. Updates here are synthetic digests with realistic CIDs: gas depends on the calldata
and storage writes, never on the model behind a digest.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from eth_account.signers.local import LocalAccount
from web3 import Web3

from bench.chain import bench_account, bench_accounts, fund
from bench.stats import Spread
from daofed.chain import Federation, advance_time
from daofed.storage import BlobRef
from daofed.storage.ipfs import raw_cid

GOAL_GAS = 60_000
"""The goal: submit and vote each cost at most this much gas."""
FULL_SIZES = (5, 50, 200)
QUICK_SIZES = (5, 12)
WINDOW = 3600  # seconds; long enough that no deadline passes while measuring
GAS_QUORUM = 3
FLAT_TOLERANCE = 0.01
"""A transaction counts as not growing with members if its gas varies by at most 1 %
across sizes (a member index in another 256-bit bitmap word may cost a few hundred)."""

SUBMIT = "submitUpdate"
VOTE_FIRST = "voteAggregate, first for its digest"
VOTE_LATER = "voteAggregate, later"
VOTE_FINAL = "voteAggregate, finalizing"
CLOSE = "closeRound"
DEPLOY = "deploy (constructor)"
GOALS: dict[str, int] = {SUBMIT: GOAL_GAS, VOTE_FIRST: GOAL_GAS, VOTE_LATER: GOAL_GAS}
MUST_BE_FLAT = (SUBMIT, VOTE_FIRST, VOTE_LATER, VOTE_FINAL, CLOSE)


@dataclass(frozen=True)
class GasRow:
    """Gas of one kind of transaction at one federation size."""

    action: str
    members: int
    gas: Spread
    goal: int | None  # GOAL_GAS where a goal is set

    @property
    def gap(self) -> float | None:
        """Worst sample over (+) or under (-) the goal, as a fraction of it."""
        return None if self.goal is None else self.gas.high / self.goal - 1.0


@dataclass(frozen=True)
class FlatCheck:
    """Whether an action's median gas stays the same from the smallest to the largest size."""

    action: str
    medians: tuple[tuple[int, float], ...]  # (members, median gas)

    @property
    def growth(self) -> float:
        """Largest minus smallest median, in gas."""
        values = [gas for _, gas in self.medians]
        return max(values) - min(values)

    @property
    def flat(self) -> bool:
        """Within :data:`FLAT_TOLERANCE` of the smallest median."""
        return self.growth <= FLAT_TOLERANCE * min(gas for _, gas in self.medians)


@dataclass(frozen=True)
class GasResult:
    """Every measured row, and the does-not-grow check of the per-round transactions."""

    rows: tuple[GasRow, ...]
    flat: tuple[FlatCheck, ...]


def synthetic_ref(label: str) -> BlobRef:
    """Make a digest and the CIDv1 IPFS gives its blob: the calldata a real member sends."""
    digest = hashlib.sha256(label.encode()).digest()
    return BlobRef(digest, raw_cid(digest))


Extra = Callable[[Web3, Federation, list[LocalAccount], dict[str, list[int]]], None]
"""Measures more actions on a federation after its first round (e.g. governance)."""


def measure_size(w3: Web3, members: int, extras: tuple[Extra, ...] = ()) -> dict[str, list[int]]:
    """Deploy a federation of ``members`` and run one accepted and one closed round.

    Quorum is 3 at every size (gas does not depend on it, and governance measurements
    then need only 3 votes per proposal): the round has a first vote, a later one and a
    finalizing one; one member votes for another digest, the first for *its* digest but
    not in the round.
    """
    if members < 4:
        raise ValueError(f"gas is measured with at least 4 members (got {members})")
    deployer = bench_account(0)
    accounts = bench_accounts(1, members)
    fund(w3, [deployer, *accounts])
    samples: dict[str, list[int]] = defaultdict(list)
    federation = Federation.deploy(
        w3,
        deployer,
        members=[a.address for a in accounts],
        quorum=GAS_QUORUM,
        submit_window=WINDOW,
        vote_window=WINDOW,
        rule="fedavg",
        genesis=synthetic_ref(f"genesis-{members}"),
    )
    samples[DEPLOY].append(_deploy_gas(w3, federation))
    for i, account in enumerate(accounts):
        ref = synthetic_ref(f"update-{members}-{i}")
        samples[SUBMIT].append(federation.submit_update(account, 1, ref, 100 + i).gas_used)
    aggregate, other = synthetic_ref(f"aggregate-{members}"), synthetic_ref(f"other-{members}")
    voters = accounts[: GAS_QUORUM + 1]
    samples[VOTE_FIRST].append(federation.vote_aggregate(voters[0], 1, aggregate).gas_used)
    samples[VOTE_FIRST].append(federation.vote_aggregate(voters[1], 1, other).gas_used)
    for voter in voters[2:-1]:
        samples[VOTE_LATER].append(federation.vote_aggregate(voter, 1, aggregate).gas_used)
    samples[VOTE_FINAL].append(federation.vote_aggregate(voters[-1], 1, aggregate).gas_used)
    advance_time(w3, 2 * WINDOW + 1)
    samples[CLOSE].append(federation.close_round(deployer, 2).gas_used)
    for extra in extras:
        extra(w3, federation, accounts, samples)
    return samples


def _deploy_gas(w3: Web3, federation: Federation) -> int:
    (tx_hash,) = w3.eth.get_block(federation.deploy_block)["transactions"]
    return int(w3.eth.get_transaction_receipt(tx_hash)["gasUsed"])  # type: ignore[arg-type]


def measure_gas(w3: Web3, sizes: tuple[int, ...], extras: tuple[Extra, ...] = ()) -> GasResult:
    """Measure every size on the chain ``w3`` (anvil with the gas limit lifted)."""
    rows: list[GasRow] = []
    for members in sizes:
        for action, gas in measure_size(w3, members, extras).items():
            rows.append(GasRow(action, members, Spread.of(gas), GOALS.get(action)))
    flat = []
    for action in sorted({row.action for row in rows}):
        medians = tuple((r.members, r.gas.median) for r in rows if r.action == action)
        if action in MUST_BE_FLAT or action.startswith("proposal"):
            flat.append(FlatCheck(action, medians))
    return GasResult(tuple(rows), tuple(flat))
