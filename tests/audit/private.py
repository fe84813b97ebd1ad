"""A real federation with private rounds to audit: agents on a chain, a local store.

Rounds (5 members, quorum 3, one local epoch of ``digits-mlp``):
1. plain FedAvg; during it a proposal turns the rule into ``fedavg:secagg=3``;
2. private, every member honest: accepted;
3. private, the last member (the cheater) posts, before any honest recovery message is
   voted on, a recovery message whose first revealed share is wrong: the others still
   unmask from the valid shares, accepted;
4. open.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from eth_account.signers.local import LocalAccount
from web3 import Web3

from daofed.agent import MemberAgent, MemberSettings
from daofed.agent.private import MemberKeys, PrivateRound
from daofed.chain import Federation, ProposalKind, dev_accounts
from daofed.learning import split_federated
from daofed.secagg import Layout, decode_recovery, encode_recovery
from daofed.storage import LocalStore
from tests.chain.conftest import enact
from tests.federations import DIGITS, deploy, step_until

MEMBERS = 5
THRESHOLD = 3
PRIVATE = f"fedavg:secagg={THRESHOLD}"
WINDOW = 600
SETTINGS = MemberSettings(options={"epochs": 1})


@dataclass(frozen=True)
class PrivateFederation:
    """The federation, its store, its members; ``cheater`` spoiled a share in round 3."""

    federation: Federation
    store: LocalStore
    members: tuple[LocalAccount, ...]

    @property
    def cheater(self) -> LocalAccount:
        return self.members[-1]


def build_private(w3: Web3, store_dir: Path) -> PrivateFederation:
    store = LocalStore(store_dir)
    deployer, *members = dev_accounts(MEMBERS + 1)
    federation = deploy(
        w3, store, deployer, members, window=WINDOW, quorum=THRESHOLD, voting_period=60
    )
    enact(federation, members, ProposalKind.SET_RULE, PRIVATE)
    split = split_federated(DIGITS.dataset(), MEMBERS, alpha=None, seed=0)
    agents = [
        MemberAgent(federation, store, account, DIGITS, DIGITS.as_data(share.train), SETTINGS)
        for account, share in zip(members, split.members, strict=True)
    ]
    step_until(agents, lambda: federation.current_round() == 2)
    step_until(agents, lambda: federation.current_round() == 3)
    _cheat(federation, store, agents, 3)
    step_until(agents, lambda: federation.current_round() == 4)
    return PrivateFederation(federation, store, tuple(members))


def _cheat(
    federation: Federation, store: LocalStore, agents: list[MemberAgent], round_number: int
) -> None:
    """Let every member submit, then post the last one's recovery with a wrong share.

    The cheater's agent is not stepped once it has submitted, so the raw post is its one
    recovery message; the others' agents post theirs but have not voted yet.
    """
    *_, cheater = agents
    for _ in range(20):
        if all(federation.has_submitted(round_number, a.address) for a in agents):
            break
        for agent in agents:
            if agent is not cheater or not federation.has_submitted(round_number, agent.address):
                agent.step()
    assert all(federation.has_submitted(round_number, a.address) for a in agents)
    assert not federation.votes(round_number)
    private = PrivateRound.open(
        federation,
        store,
        MemberKeys(federation, cheater.account),
        cheater.account,
        round_number,
        THRESHOLD,
        Layout.of_spec(cheater.genesis.spec),
    )
    assert private.context is not None
    honest = decode_recovery(private.context, private.recovery_blob())
    first, *rest = honest.shares
    spoiled = dataclasses.replace(first, share=bytes([first.share[0] ^ 1]) + first.share[1:])
    message = dataclasses.replace(honest, shares=(spoiled, *rest))
    ref = store.put(encode_recovery(private.context, message))
    federation.post_recovery(cheater.account, round_number, ref)
