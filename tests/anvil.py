"""The test session's one anvil, and the snapshots that keep tests from moving each other's clock.

Session fixtures deploy federations on that node for good, some with a round whose deadline
is minutes away. A test or module that moves the clock (a proposal waits out its voting
period, a round its windows) does it inside `reverted`, which undoes its changes, clock
included, when it is done: it cannot push another fixture's round past its deadline.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from web3 import Web3
from web3.types import RPCEndpoint

from daofed.chain import AnvilNode

_holders: list[str] = []  # who holds a snapshot now, innermost last


@contextmanager
def reverted(node: AnvilNode, holder: str) -> Iterator[Web3]:
    """A connection to ``node`` whose changes, clock included, are undone on exit.

    ``holder`` names the test or module in `lasting`'s error.
    """
    w3 = node.web3()
    snapshot = _request(w3, "evm_snapshot")
    _holders.append(holder)
    try:
        yield w3
    finally:
        _holders.remove(holder)
        assert _request(w3, "evm_revert", snapshot) is True, f"anvil lost snapshot {snapshot}"


def lasting(node: AnvilNode) -> Web3:
    """A connection for a session fixture's deployment, which must outlive every snapshot.

    A session fixture first requested inside a snapshot would be deployed in it and vanish
    when it is reverted, failing some later test far from the cause: fail here instead.
    """
    if _holders:
        pytest.fail(
            f"a session fixture deploys on anvil inside {_holders[-1]}'s snapshot, which "
            "would undo it: a module on `own_anvil` must not use session fixtures on anvil"
        )
    return node.web3()


def _request(w3: Web3, method: str, *params: Any) -> Any:
    return w3.provider.make_request(RPCEndpoint(method), list(params))["result"]
