"""Governed state (members, config): every change takes effect from the next round.

Governance (member votes on proposals) is not written yet; a test harness exposes the
internal setters it will call, so the rules they enforce are tested now.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract

from daofed.chain import Artifact, Federation, Phase, advance_time
from daofed.chain.compile import REPO_ROOT, compile_sources, read_sources
from daofed.chain.revert import RevertDecoder
from daofed.chain.tx import send_transaction
from daofed.errors import ContractRevert
from daofed.storage import BlobRef

from .conftest import QUORUM, SUBMIT_WINDOW, VOTE_WINDOW, blob

HARNESS = Path(__file__).parent / "contracts" / "FederationHarness.sol"


@pytest.fixture(scope="session")
def harness_artifact() -> Artifact:
    sources = read_sources()
    sources[HARNESS.relative_to(REPO_ROOT).as_posix()] = HARNESS.read_text()
    # without the IR pipeline: this tests logic, not gas, and compiles twice as fast
    return compile_sources(sources, ["FederationHarness"], via_ir=False)["FederationHarness"]


class Governed:
    """A federation plus the harness's setters, sent as real transactions."""

    def __init__(self, w3: Web3, artifact: Artifact, deployer: LocalAccount, **args: object):
        self.decoder = RevertDecoder(artifact.abi)
        self.sender = deployer
        factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        genesis = args["genesis"]
        assert isinstance(genesis, BlobRef)
        constructor = factory.constructor(
            args["members"],
            args["quorum"],
            args["submit_window"],
            args["vote_window"],
            args["rule"],
            genesis.digest,
            genesis.locator,
        )
        receipt = send_transaction(w3, deployer, constructor, self.decoder, what="deploying")
        self.w3 = w3
        self.federation = Federation(w3, str(receipt["contractAddress"]), receipt["blockNumber"])
        self.contract: Contract = w3.eth.contract(address=self.federation.address, abi=artifact.abi)

    def add(self, account: str) -> None:
        self._send(self.contract.functions.addMember(account))

    def remove(self, account: str) -> None:
        self._send(self.contract.functions.removeMember(account))

    def set_config(self, quorum: int, submit_window: int, vote_window: int, rule: str) -> None:
        self._send(self.contract.functions.setConfig(quorum, submit_window, vote_window, rule))

    def _send(self, call: object) -> None:
        send_transaction(self.w3, self.sender, call, self.decoder, what="governing")


@pytest.fixture
def governed(
    w3: Web3,
    harness_artifact: Artifact,
    deployer: LocalAccount,
    members: list[LocalAccount],
    genesis: BlobRef,
) -> Iterator[Governed]:
    yield Governed(
        w3,
        harness_artifact,
        deployer,
        members=[m.address for m in members],
        quorum=QUORUM,
        submit_window=SUBMIT_WINDOW,
        vote_window=VOTE_WINDOW,
        rule="fedavg",
        genesis=genesis,
    )


def accept_round(federation: Federation, voters: list[LocalAccount], round_number: int) -> None:
    """Everyone in ``voters`` submits, then votes for one aggregate until it is accepted."""
    for i, voter in enumerate(voters):
        federation.submit_update(voter, round_number, blob(f"u{round_number}-{i}"), 1)
    if federation.phase(round_number) is Phase.SUBMIT:  # not every member submitted
        advance_time(federation.w3, SUBMIT_WINDOW)
    for voter in voters:
        if federation.phase(round_number) is Phase.VOTE:
            federation.vote_aggregate(voter, round_number, blob(f"agg{round_number}"))


def test_an_added_member_joins_from_the_next_round(
    governed: Governed, members: list[LocalAccount], outsider: LocalAccount
) -> None:
    fed = governed.federation
    governed.add(outsider.address)
    assert fed.member_count() == 5
    assert not fed.is_member(outsider.address, 1)
    assert fed.is_member(outsider.address, 2)
    assert fed.round_info(1).member_count == 4  # the running round keeps its snapshot
    with pytest.raises(ContractRevert) as info:
        fed.submit_update(outsider, 1, blob("early"), 1)
    assert info.value.error == "NotMember"

    accept_round(fed, members, 1)
    assert fed.round_info(2).member_count == 5
    fed.submit_update(outsider, 2, blob("welcome"), 1)
    assert fed.members(2)[-1] == outsider.address
    (added,) = [e for e in fed.membership_changes() if e.account == outsider.address]
    assert added.from_round == 2


def test_a_removed_member_finishes_the_current_round(
    governed: Governed, members: list[LocalAccount]
) -> None:
    fed = governed.federation
    leaving = members[3]
    governed.remove(leaving.address)
    assert fed.is_member(leaving.address, 1)
    assert not fed.is_member(leaving.address, 2)
    assert fed.member_count() == 3
    fed.submit_update(leaving, 1, blob("last words"), 1)  # still a member of round 1

    with pytest.raises(ContractRevert) as info:
        governed.remove(leaving.address)
    assert (info.value.error, info.value.args_by_name) == (
        "NotMember",
        {"account": leaving.address, "round": 2},
    )
    accept_round(fed, members[:3], 1)
    assert fed.round_info(2).member_count == 3
    assert leaving.address not in fed.members(2)
    with pytest.raises(ContractRevert) as info:
        fed.submit_update(leaving, 2, blob("u"), 1)
    assert info.value.error == "NotMember"


def test_re_adding_before_the_removal_takes_effect_cancels_it(
    governed: Governed, members: list[LocalAccount]
) -> None:
    fed = governed.federation
    governed.remove(members[0].address)
    governed.add(members[0].address)
    assert fed.is_member(members[0].address, 1)
    assert fed.is_member(members[0].address, 2)
    assert fed.member_count() == 4
    assert fed.members(1) == fed.members(2) == [m.address for m in members]


def test_a_re_admitted_member_returns_from_the_round_after(
    governed: Governed, members: list[LocalAccount]
) -> None:
    fed = governed.federation
    governed.remove(members[0].address)
    accept_round(fed, members[1:], 1)
    assert fed.current_round() == 2
    governed.add(members[0].address)  # during round 2, where it is not a member
    assert not fed.is_member(members[0].address, 2)
    assert fed.is_member(members[0].address, 3)


def test_membership_changes_keep_the_quorum_reachable(
    governed: Governed, members: list[LocalAccount], outsider: LocalAccount
) -> None:
    governed.remove(members[0].address)  # 3 members left, quorum 3
    with pytest.raises(ContractRevert) as info:
        governed.remove(members[1].address)
    assert (info.value.error, info.value.args_by_name) == (
        "InvalidQuorum",
        {"quorum": 3, "memberCount": 2},
    )
    with pytest.raises(ContractRevert) as info:
        governed.add(members[1].address)
    assert info.value.error == "MemberExists"
    with pytest.raises(ContractRevert) as info:
        governed.add("0x" + "00" * 20)
    assert info.value.error == "InvalidMember"


def test_a_new_config_applies_from_the_next_round(
    w3: Web3, governed: Governed, members: list[LocalAccount]
) -> None:
    fed = governed.federation
    governed.set_config(2, 60, 120, "median")
    assert fed.config().version == 2
    assert fed.rule_of(1) == "fedavg"
    assert fed.round_info(1).quorum == QUORUM
    (_, change) = fed.config_changes()
    assert (change.version, change.quorum, change.rule, change.from_round) == (2, 2, "median", 2)

    accept_round(fed, members, 1)
    second = fed.round_info(2)
    assert (second.config_version, second.quorum) == (2, 2)
    assert second.submit_deadline - second.start_time == 60
    assert second.vote_deadline - second.submit_deadline == 120
    assert fed.rule_of(2) == "median"
    assert fed.config(1).rule == "fedavg"


@pytest.mark.parametrize(
    ("config", "error"),
    [
        ((5, 60, 60, "fedavg"), "InvalidQuorum"),
        ((0, 60, 60, "fedavg"), "InvalidQuorum"),
        ((2, 0, 60, "fedavg"), "InvalidWindows"),
        ((2, 60, 0, "fedavg"), "InvalidWindows"),
        ((2, 60, 60, ""), "EmptyRule"),
    ],
)
def test_an_invalid_config_is_rejected(
    governed: Governed, config: tuple[int, int, int, str], error: str
) -> None:
    with pytest.raises(ContractRevert) as info:
        governed.set_config(*config)
    assert info.value.error == error
    assert governed.federation.config().version == 1
