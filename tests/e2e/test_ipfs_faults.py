"""Availability without a central blob server: a member's node dies, a member lies by omission.

Four members on anvil, each with its own IPFS node (its own repo; no shared store or
directory) and its own ``daofed agent run`` process; a quorum of three, so the members
left can accept without the faulty one. Two faults, one federation each:

- A member's node is killed after it submitted and after a peer's node fetched its
  update: the update is still aggregated (any node that holds a blob serves it by
  bitswap), the round is accepted with it, and the member whose node died reports its
  store unavailable and retries, never crashes.
- A member submits the CID of bytes nobody ever added: every other member excludes it
  as "missing-blob" once its node's search times out (IpfsStore's find timeout), and the
  round is accepted with the others' updates.

Every wait has a timeout; the times to acceptance are printed (``-s``), not asserted.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from daofed.audit import Verdict, run_audit
from daofed.chain import AnvilNode, Federation, dev_account
from daofed.peering import announced_addresses, connect_all
from daofed.storage import IpfsStore
from daofed.storage.ipfs_node import IpfsNode
from tests.e2e.processes import MEMBERS, Federated, deploy_members

QUORUM = 3  # the members left when one member's node is down or its blob is missing
WAIT = 120.0  # seconds any one wait of this file may take
pytestmark = [pytest.mark.slow, pytest.mark.anvil, pytest.mark.ipfs]


@pytest.fixture
def nodes(tmp_path: Path) -> Iterator[list[IpfsNode]]:
    """One node per member, each on a repo of its own, started side by side."""
    with ThreadPoolExecutor(MEMBERS) as pool:
        starting = [pool.submit(IpfsNode.start, tmp_path / f"ipfs-{m}") for m in range(MEMBERS)]
    started = [future.result() for future in starting if future.exception() is None]
    try:
        for future in starting:
            future.result()  # raises the first start that failed, after the others stop
        yield started
    finally:
        for node in started:
            node.stop()


def deploy(
    root: Path, anvil: AnvilNode, nodes: list[IpfsNode], keystores: list[Path], data: Path
) -> Federated:
    """Deploy from the first member's node (it holds the genesis model) with a quorum of 3.

    The other members' agents find that node on chain once the first member's agent has
    published it, and fetch the genesis model from it.
    """
    deploy_members(root, anvil.url, f"ipfs:{nodes[0].api_url}", QUORUM)
    return Federated(root, keystores, data, {}, ("--rounds", "1", "--poll", "0.2", "--epochs", "1"))


@pytest.fixture
def federated(
    tmp_path: Path, own_anvil: AnvilNode, nodes: list[IpfsNode], keystores: list[Path], data: Path
) -> Iterator[Federated]:
    """The deployed federation; its agents are stopped after the test, failed or not."""
    running = deploy(tmp_path, own_anvil, nodes, keystores, data)
    try:
        yield running
    finally:
        running.stop()


def start(federated: Federated, member: int, node: IpfsNode) -> None:
    federated.start_agent(member, "--store", f"ipfs:{node.api_url}")


def holds(node: IpfsNode, cid: str) -> bool:
    """Whether the block is in the node's own repo (``offline``: no peer is asked)."""
    answer = httpx.post(
        f"{node.api_url}/api/v0/block/stat",
        params={"arg": cid, "offline": "true"},
        timeout=10,
        trust_env=False,
    )
    return answer.status_code == 200


def steps(federated: Federated, member: int, step: str) -> list[dict[str, object]]:
    return [e for e in federated.events(member) if e["step"] == step]


def accepted_watching(
    federated: Federated, federation: Federation, since: float
) -> tuple[Callable[[], bool], dict[str, float]]:
    """A wait's predicate (round 1 accepted) that notes when each agent's step first showed.

    Returns the predicate and the times it notes: ``"member step"`` -> seconds after
    ``since``, for the output.
    """
    seen: dict[str, float] = {}

    def accepted() -> bool:
        for member in federated.agents:
            for event in federated.events(member):
                seen.setdefault(f"{member} {event['step']}", round(time.monotonic() - since, 1))
        return federation.round_info(1).accepted is not None

    return accepted, seen


def detail(event: dict[str, object]) -> dict[str, object]:
    found = event["detail"]
    assert isinstance(found, dict)
    return found


def test_an_update_is_aggregated_after_its_authors_node_died(
    federated: Federated, nodes: list[IpfsNode]
) -> None:
    victim, late = 3, 2  # the late member starts after the victim's node is gone
    federation = federated.federation()
    for member in (0, 1, victim):
        start(federated, member, nodes[member])
    federated.wait_for(
        lambda: bool(steps(federated, victim, "submitted")), "the victim submits", WAIT
    )
    cid = str(detail(steps(federated, victim, "submitted")[0])["cid"])
    federated.wait_for(
        lambda: any(holds(nodes[m], cid) for m in (0, 1)), "a peer fetches its update", WAIT
    )
    holders = [m for m in (0, 1) if holds(nodes[m], cid)]
    os.kill(nodes[victim].pid or 0, signal.SIGKILL)
    killed = time.monotonic()
    start(federated, late, nodes[late])
    round_accepted, seen = accepted_watching(federated, federation, killed)
    federated.wait_for(round_accepted, "round 1 is accepted", WAIT)
    print(
        f"\nnode of member {victim} killed; held by member(s) {holders}; round 1 accepted "
        f"{time.monotonic() - killed:.1f} s later (member {late} started after the kill); "
        f"first events after the kill, in s: {seen}"
    )

    federated.wait_all(WAIT)  # the victim's agent too: it ends cleanly, never crashes
    accepted = federation.round_info(1).accepted
    assert accepted is not None
    for member in (0, 1, late):
        assert not steps(federated, member, "excluded"), federated.events(member)
        voted = [detail(e) for e in steps(federated, member, "voted")]
        assert [(v["digest"], v["included"]) for v in voted] == [("0x" + accepted.hex, MEMBERS)]
    assert holds(nodes[late], cid)  # fetched from a peer: its author's node was gone
    outage = [
        str(e["message"])
        for e in steps(federated, victim, "error")
        if detail(e)["error"] == "StoreUnavailable"
    ]
    assert outage and all(nodes[victim].api_url in message for message in outage)
    assert "retrying" in outage[0]
    assert not steps(federated, victim, "voted")

    # an audit from the late member's node recomputes the round with the victim's update
    with IpfsStore(nodes[late].api_url) as store:
        connect_all(federation, store)  # the victim's node is unreachable: reported
        report = run_audit(federation, store, verify=True, evaluate=False)
    assert report.ok and report.verification is not None
    verified = report.verification.rounds[0]
    assert verified.verdict is Verdict.VERIFIED
    everyone = [dev_account(m + 1).address for m in range(MEMBERS)]
    assert sorted(verified.included) == sorted(everyone)  # the victim's included


def test_a_blob_nobody_holds_is_excluded_as_missing(
    federated: Federated, nodes: list[IpfsNode]
) -> None:
    liar = 3  # submits from the test, not from an agent
    honest = (0, 1, 2)
    federation = federated.federation()
    account = dev_account(liar + 1)
    for member in honest:
        start(federated, member, nodes[member])
    with IpfsStore(nodes[liar].api_url) as store:
        federation.set_node_addresses(account, announced_addresses(store))  # dialled, too
        ref = store.locate(os.urandom(4096))  # hashed, never added: no node holds it
    federated.wait_for(
        lambda: all(steps(federated, m, "submitted") for m in honest),
        "the honest members submit",
        WAIT,
    )
    federation.submit_update(account, 1, ref, 100)
    submitted = time.monotonic()  # the last submission: the vote phase opens
    round_accepted, seen = accepted_watching(federated, federation, submitted)
    federated.wait_for(round_accepted, "round 1 is accepted", WAIT)
    print(
        f"\nround 1 accepted {time.monotonic() - submitted:.1f} s after the missing "
        "blob was submitted (the last submission, which opened the vote phase); first "
        f"events since, in s: {seen}"
    )

    federated.wait_all(WAIT)
    accepted = federation.round_info(1).accepted
    assert accepted is not None
    for member in honest:
        [excluded] = [detail(e) for e in steps(federated, member, "excluded")]
        assert excluded["excluded_member"] == account.address
        assert excluded["reason"] == "missing-blob"
        assert excluded["digest"] == "0x" + ref.hex
        voted = [detail(e) for e in steps(federated, member, "voted")]
        assert [(v["digest"], v["included"]) for v in voted] == [("0x" + accepted.hex, len(honest))]
    assert not any(holds(node, ref.locator) for node in nodes)
