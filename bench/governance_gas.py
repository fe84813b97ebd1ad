"""Gas of governance: propose, vote and execute each change; commit-reveal rounds.

Commit-reveal is what one of the proposals switches on: a member commits, then reveals,
instead of submitting once, so both transactions are measured too.

Runs after the gas benchmark's accepted and closed rounds, on the same federation, so the
sizes are the same. Proposals become executable only after their voting period, so all
kinds are proposed and voted in one round, the clock is moved past the period, and each is
executed.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from eth_account.signers.local import LocalAccount
from web3 import Web3

from bench.chain import bench_account, fund
from bench.gas import synthetic_ref
from daofed.chain import Federation, Phase, advance_time
from daofed.chain.values import ProposalKind, ProposalValue, Windows

PROPOSE = "proposal: propose (any kind)"
VOTE_FIRST = "proposal: voteProposal, first"
VOTE_LATER = "proposal: voteProposal, later"
EXECUTE = "proposal: execute {kind}"
COMMIT = "commitUpdate (commit-reveal)"
REVEAL = "revealUpdate (commit-reveal)"


def governance_extras() -> tuple[Callable[..., None], ...]:
    """Return the gas measurements to run after the round ones (governance, commit-reveal)."""
    return (measure_governance,)


def _proposal_values(
    accounts: list[LocalAccount], newcomer: str, window: int
) -> dict[ProposalKind, ProposalValue]:
    """One proposal of every kind, each one the contract accepts and can execute."""
    values: dict[ProposalKind, ProposalValue] = {
        ProposalKind.ADD_MEMBER: newcomer,
        ProposalKind.REMOVE_MEMBER: accounts[-1].address,
        ProposalKind.SET_QUORUM: 3,
        ProposalKind.SET_WINDOWS: Windows(window, window, window),
        ProposalKind.SET_RULE: "median",
        ProposalKind.SET_COMMIT_REVEAL: True,
        ProposalKind.SET_VOTING_PERIOD: 2 * window,
        ProposalKind.SET_MAX_SAMPLES: 10_000,
    }
    missing = set(ProposalKind) - set(values)
    if missing:
        raise AssertionError(f"no benchmark value for proposal kinds {sorted(missing)}")
    return values


def measure_governance(
    w3: Web3, federation: Federation, accounts: list[LocalAccount], samples: dict[str, list[int]]
) -> None:
    """Propose, vote through and execute every kind in turn; then a commit-reveal round."""
    fed = federation
    round_number = fed.current_round()
    info = fed.round_info(round_number)
    window = info.vote_deadline - info.start_time
    newcomer = bench_account(len(accounts) + 1)
    fund(w3, [newcomer])
    # One at a time: a config proposal goes stale once another config version takes over,
    # so each is executed before the next is proposed.
    for kind, value in _proposal_values(accounts, newcomer.address, window).items():
        created = fed.propose(accounts[0], kind, value)
        samples[PROPOSE].append(_gas(w3, created.tx_hash))
        for i, voter in enumerate(accounts[: created.votes_needed]):
            gas = fed.vote_proposal(voter, created.proposal_id, True).gas_used
            samples[VOTE_FIRST if i == 0 else VOTE_LATER].append(gas)
        advance_time(w3, created.vote_end - _now(w3) + 1)
        gas = fed.execute_proposal(accounts[0], created.proposal_id).gas_used
        samples[EXECUTE.format(kind=kind.label)].append(gas)
    _commit_reveal_round(w3, fed, accounts, samples)


def _commit_reveal_round(
    w3: Web3, fed: Federation, accounts: list[LocalAccount], samples: dict[str, list[int]]
) -> None:
    """Close the current round so the commit-reveal config applies, then commit and reveal."""
    round_number = fed.current_round()
    if fed.phase(round_number) is not Phase.EXPIRED:
        info = fed.round_info(round_number)
        advance_time(w3, info.vote_deadline - _now(w3) + 1)
    fed.close_round(accounts[0], round_number)
    round_number += 1
    committers = accounts[:3]
    salts = {a.address: secrets.token_bytes(32) for a in committers}
    refs = {a.address: synthetic_ref(f"hidden-{round_number}-{a.address}") for a in committers}
    for account in committers:
        ref, salt = refs[account.address], salts[account.address]
        commitment = fed.commitment(round_number, account.address, ref, 10, salt)
        samples[COMMIT].append(fed.commit_update(account, round_number, commitment).gas_used)
    info = fed.round_info(round_number)
    advance_time(w3, info.submit_deadline - _now(w3) + 1)
    phase = fed.phase(round_number)
    if phase is not Phase.REVEAL:
        raise AssertionError(f"round {round_number} is in phase {phase.label}, not reveal")
    for account in committers:
        ref, salt = refs[account.address], salts[account.address]
        samples[REVEAL].append(fed.reveal_update(account, round_number, ref, 10, salt).gas_used)


def _gas(w3: Web3, tx_hash: str) -> int:
    return int(w3.eth.get_transaction_receipt(tx_hash)["gasUsed"])  # type: ignore[arg-type]


def _now(w3: Web3) -> int:
    return int(w3.eth.get_block("latest")["timestamp"])
