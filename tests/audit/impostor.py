"""The impostor: a contract that is not the Federation, emitting its events.

Round 1 opens on a real genesis model with three members and quorum 3, exactly as a
Federation's constructor would announce it. Then two accounts that are not members
submit updates, one of them votes for a model nobody computed, and that single vote
"accepts" it: round 2 opens on it. Every event decodes as a Federation event; only the
code at the address and the round rules re-checked from the events give it away.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.types import RPCEndpoint

from daofed.chain import dev_accounts
from daofed.chain.checks import MAX_SAMPLES_LIMIT
from daofed.learning import DEFAULT_TASK, load_task
from daofed.protocol import genesis_blob
from daofed.storage import BlobRef, LocalStore

from .attacker import as_logs, call_raw, deploy_raw, federation_event

WINDOW = 600
QUORUM = 3


@dataclass(frozen=True)
class Impostor:
    """The impostor contract and what it claims happened."""

    address: str
    store: LocalStore  # holds the genesis model (and nothing else)
    members: tuple[str, ...]  # the three it announced as members
    outsiders: tuple[LocalAccount, ...]  # the two non-members that "submitted"; [0] "voted"
    accepted: BlobRef  # the model its round 1 "accepted"


def build_impostor(w3: Web3, store_dir: Path) -> Impostor:
    store = LocalStore(store_dir)
    genesis = store.put(genesis_blob(load_task(DEFAULT_TASK), 0))
    accounts = dev_accounts(10)
    members = tuple(a.address for a in accounts[1:4])
    attacker, *outsiders = accounts[7:10]
    config = federation_event(
        "ConfigChanged",
        version=1,
        quorum=QUORUM,
        submitWindow=WINDOW,
        voteWindow=WINDOW,
        revealWindow=WINDOW,
        votingPeriod=WINDOW,
        commitReveal=False,
        rule="fedavg",
        maxSamples=MAX_SAMPLES_LIMIT,
        fromRound=1,
    )
    admitted = [federation_event("MemberAdded", account=m, fromRound=1) for m in members]
    genesis_events = [config, *admitted, _opened(1, genesis, _next_block_at(w3))]
    address = deploy_raw(w3, attacker, "Impostor", *as_logs(genesis_events))

    accepted = _blob(b"a model nobody computed")
    updates = [
        federation_event(
            "UpdateSubmitted",
            round=1,
            member=o.address,
            digest=_blob(o.address.encode()).digest,
            cid=_blob(o.address.encode()).locator,
            numSamples=100,
        )
        for o in outsiders
    ]
    vote = federation_event(
        "AggregateVoted",
        round=1,
        member=outsiders[0].address,
        digest=accepted.digest,
        cid=accepted.locator,
        tally=1,
    )
    model = federation_event(
        "ModelAccepted", round=1, digest=accepted.digest, cid=accepted.locator, votes=1
    )
    round_two = _opened(2, accepted, _next_block_at(w3))
    logs = as_logs([*updates, vote, model, round_two])
    assert call_raw(w3, attacker, address, "Impostor", "emitLogs", *logs)["status"] == 1
    return Impostor(address, store, members, tuple(outsiders), accepted)


def _opened(round_number: int, base: BlobRef, at: int) -> tuple[list[bytes], bytes]:
    """RoundOpened as a Federation opening ``round_number`` at time ``at`` would emit it."""
    return federation_event(
        "RoundOpened",
        round=round_number,
        baseDigest=base.digest,
        baseCid=base.locator,
        submitDeadline=at + WINDOW,
        revealDeadline=at + WINDOW,
        voteDeadline=at + 2 * WINDOW,
        quorum=QUORUM,
        memberCount=QUORUM,
        configVersion=1,
        commitReveal=False,
    )


def _next_block_at(w3: Web3) -> int:
    """Fix the next block's time (one second after the latest) and return it."""
    at = int(w3.eth.get_block("latest")["timestamp"]) + 1
    w3.provider.make_request(RPCEndpoint("evm_setNextBlockTimestamp"), [at])
    return at


def _blob(data: bytes) -> BlobRef:
    digest = hashlib.sha256(data).digest()
    return BlobRef(digest, digest.hex())
