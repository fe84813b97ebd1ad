"""Views read through :mod:`daofed.chain.views` answer exactly what web3's contract call does.

The client encodes and decodes views from the ABI itself (web3 searches the whole ABI on
every call); these tests call every view of a federation with a proposal, a finished
round and a registered node both ways, on the embedded chain and on anvil, and compare
values, types and field names.
"""

from __future__ import annotations

from typing import Any

import pytest
from eth_account.signers.local import LocalAccount

from daofed.chain import Federation, ProposalKind
from daofed.chain.artifacts import load_artifact
from daofed.chain.views import view_functions
from daofed.errors import ChainError

from .conftest import accept_round, blob


def _same(ours: Any, theirs: Any) -> None:
    """Equal values of the same kinds; named tuples with the same names."""
    if hasattr(theirs, "_asdict"):
        assert ours._asdict().keys() == theirs._asdict().keys()
        for a, b in zip(ours, theirs, strict=True):
            _same(a, b)
    elif isinstance(theirs, list | tuple):
        assert isinstance(ours, list)
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs, strict=True):
            _same(a, b)
    else:
        assert ours == theirs
        assert type(ours) is type(theirs) or isinstance(ours, type(theirs))


def test_every_view_answers_as_web3_does(
    federation: Federation, members: list[LocalAccount], outsider: LocalAccount
) -> None:
    accept_round(federation, members[:3], 1)
    federation.set_node_addresses(members[0], ["/ip4/127.0.0.1/tcp/4001"])
    federation.propose(members[0], ProposalKind.SET_RULE, "median")
    me, other = members[0].address, outsider.address
    digest = blob("agg1").digest
    calls: dict[str, tuple[Any, ...]] = {
        "commitmentOf": (1, me),
        "config": (1,),
        "encryptionKey": (me,),
        "hasPostedRecovery": (1, me),
        "hasPostedShares": (2, me),
        "hasSubmitted": (1, me),
        "hasVoted": (1, other),
        "hasVotedOn": (1, me),
        "isMember": (me, 2),
        "members": (2,),
        "nodeAddresses": (me,),
        "phase": (1,),
        "proposal": (1,),
        "proposalState": (1,),
        "roundInfo": (1,),
        "ruleOf": (2,),
        "setupDeadline": (2,),
        "tally": (1, digest, blob("agg1").locator),
        "updateCommitment": (1, me, digest, "cid", 5, digest),
    }
    views = view_functions(load_artifact("Federation").abi)
    assert set(calls) | {name for name, view in views.items() if not view.input_types} == set(
        views
    ), "a view without a case here"
    for name in views:
        args = calls.get(name, ())
        ours = federation._view(name, *args)
        theirs = federation.contract.functions[name](*args).call()
        _same(ours, theirs)
    assert federation._view("currentRound", block=federation.deploy_block) == 1


def test_arguments_that_are_not_the_abi_s_are_a_chain_error() -> None:
    view = view_functions(load_artifact("Federation").abi)["hasVoted"]
    with pytest.raises(ChainError, match=r"cannot ask hasVoted\(uint64,address\) with \(-1, "):
        view.encode((-1, "0x" + "ab" * 20))


def test_an_answer_that_is_not_the_abi_s_is_a_chain_error() -> None:
    view = view_functions(load_artifact("Federation").abi)["roundInfo"]
    with pytest.raises(ChainError, match="not its ABI's outputs: check that the address"):
        view.decode(b"\x01" * 7, "0x" + "ab" * 20)
