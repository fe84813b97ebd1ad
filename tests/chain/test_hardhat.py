"""The Python side against a Hardhat node: deploy, a round, a proposal, a decoded revert.

Hardhat is the Solidity developers' chain (``npx hardhat test`` runs tests/contracts/
in-process); this checks that daofed itself runs on ``hardhat node`` as it does on anvil.
Slow: the node takes a few seconds to start.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from web3 import Web3

from daofed.chain import Federation, HardhatNode, Phase, ProposalKind, ProposalState, dev_accounts
from daofed.errors import ContractRevert

from .conftest import accept_round, blob, check, enact
from .test_node import free_port

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def hardhat() -> Iterator[Web3]:
    with HardhatNode.start() as node:
        assert node.url.startswith("http://127.0.0.1:")
        w3 = node.web3()
        assert w3.eth.chain_id == 31337
        yield w3
    assert not node.process.running


def test_a_round_and_a_proposal_on_a_hardhat_node(hardhat: Web3) -> None:
    deployer, *members = dev_accounts(6)
    outsider = members.pop()
    federation = Federation.deploy(
        hardhat,
        deployer,
        members=[m.address for m in members],
        quorum=3,
        submit_window=600,
        vote_window=600,
        voting_period=60,
        rule="fedavg",
        genesis=blob("genesis"),
    )
    with pytest.raises(ContractRevert) as info:
        federation.submit_update(outsider, 1, blob("u"), 1)
    check(info, "NotMember", account=outsider.address, round=1)

    created = enact(federation, members, ProposalKind.ADD_MEMBER, outsider.address)
    assert federation.proposal_state(created.proposal_id) is ProposalState.EXECUTED
    accept_round(federation, members, 1)

    assert federation.phase(1) is Phase.ACCEPTED
    assert federation.round_info(1).accepted == blob("agg1")
    assert federation.current_base() == blob("agg1")
    assert federation.is_member(outsider.address, 2)
    assert [u.member for u in federation.updates(1)] == [m.address for m in members]
    assert [(e.round, e.base) for e in federation.rounds_opened()] == [
        (1, blob("genesis")),
        (2, blob("agg1")),
    ]


def test_a_hardhat_node_on_a_given_port() -> None:
    port = free_port()
    with HardhatNode.start(port=port) as node:
        assert node.url == f"http://127.0.0.1:{port}"
        assert node.web3().eth.block_number == 0
