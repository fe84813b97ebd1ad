"""Chain fixtures: every Federation test runs on the embedded chain AND on a real anvil.

On anvil, the session's one node (``tests/conftest.py``), each test from a snapshot
reverted after it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3

from daofed.chain import (
    Federation,
    Phase,
    ProposalCreated,
    ProposalKind,
    ProposalValue,
    advance_time,
    dev_accounts,
    embedded_chain,
)
from daofed.errors import ContractRevert
from daofed.storage import BlobRef

SUBMIT_WINDOW = 600
VOTE_WINDOW = 600
REVEAL_WINDOW = 300
VOTING_PERIOD = 60  # well inside a round's windows: proposals pass without ending a round
QUORUM = 3


def blob(name: str) -> BlobRef:
    """A reference to the (imaginary) blob ``name``, with a CIDv0-long locator."""
    digest = hashlib.sha256(name.encode()).digest()
    return BlobRef(digest, "Qm" + digest.hex()[:44])


def check(info: pytest.ExceptionInfo[ContractRevert], error: str, **args: object) -> None:
    """The revert is the named custom error with these arguments, and explains itself."""
    assert info.value.error == error
    assert info.value.args_by_name == args
    assert str(info.value)  # a human message


def enact(
    federation: Federation,
    voters: list[LocalAccount],
    kind: ProposalKind,
    value: ProposalValue,
) -> ProposalCreated:
    """Have ``voters[0]`` propose a change, the round's quorum of ``voters`` vote yes,
    wait out the voting period and execute it."""
    created = federation.propose(voters[0], kind, value)
    for voter in voters[: created.votes_needed]:
        federation.vote_proposal(voter, created.proposal_id, True)
    wait_until(federation, created.vote_end)
    federation.execute_proposal(voters[-1], created.proposal_id)
    return created


def wait_until(federation: Federation, timestamp: int) -> None:
    """Move the chain's clock to ``timestamp`` (if it is not there yet)."""
    now = federation.w3.eth.get_block("latest")["timestamp"]
    if timestamp > now:
        advance_time(federation.w3, timestamp - now)


def accept_round(federation: Federation, voters: list[LocalAccount], round_number: int) -> None:
    """Everyone in ``voters`` submits, then votes for one aggregate until it is accepted."""
    for i, voter in enumerate(voters):
        federation.submit_update(voter, round_number, blob(f"u{round_number}-{i}"), 1)
    if federation.phase(round_number) is Phase.SUBMIT:  # not every member submitted
        wait_until(federation, federation.round_info(round_number).submit_deadline)
    for voter in voters:
        if federation.phase(round_number) is Phase.VOTE:
            federation.vote_aggregate(voter, round_number, blob(f"agg{round_number}"))
    assert federation.phase(round_number) is Phase.ACCEPTED


@pytest.fixture(params=["embedded", "anvil"])
def w3(request: pytest.FixtureRequest) -> Iterator[Web3]:
    """A chain to test on; on anvil each test runs from a snapshot reverted afterwards."""
    if request.param == "embedded":
        yield embedded_chain()
        return
    yield request.getfixturevalue("anvil_snapshot")


@pytest.fixture
def deployer() -> LocalAccount:
    return dev_accounts(1)[0]


@pytest.fixture
def members() -> list[LocalAccount]:
    """Four members (dev accounts 1-4)."""
    return dev_accounts(5)[1:]


@pytest.fixture
def outsider() -> LocalAccount:
    """A funded account that is not a member."""
    return dev_accounts(10)[9]


@pytest.fixture
def genesis() -> BlobRef:
    return blob("genesis")


@pytest.fixture
def deploy(
    w3: Web3, deployer: LocalAccount, members: list[LocalAccount], genesis: BlobRef
) -> Callable[..., Federation]:
    """Deploy a federation of the four members; keyword arguments override the defaults."""

    def _deploy(**overrides: Any) -> Federation:
        settings: dict[str, Any] = {
            "members": [m.address for m in members],
            "quorum": QUORUM,
            "submit_window": SUBMIT_WINDOW,
            "vote_window": VOTE_WINDOW,
            "rule": "fedavg",
            "genesis": genesis,
            "reveal_window": REVEAL_WINDOW,
            "voting_period": VOTING_PERIOD,
        }
        settings.update(overrides)
        return Federation.deploy(w3, deployer, **settings)

    return _deploy


@pytest.fixture
def federation(deploy: Callable[..., Federation]) -> Federation:
    return deploy()
