"""A federation as it runs for real: separate member processes, anvil, a real IPFS node.

Each member is its own ``daofed agent run`` OS process with an encrypted keystore; they
share only the chain (anvil, JSON-RPC) and the IPFS node (Kubo RPC API). The disturbed run
kills a member with SIGKILL in the middle of a round, takes the IPFS node down for a while
and restarts the chain node from its state file; it must end with exactly the accepted
digests of the undisturbed run of the same seed. The two runs have their own chain and
IPFS node and run at the same time (the disturbed test comes first in this file for that).
"""

from __future__ import annotations

import os
import signal
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

from daofed.chain import AnvilNode
from daofed.storage import IpfsStore
from daofed.storage.ipfs_node import IpfsNode
from tests.e2e.processes import MEMBERS, Federated, deploy_members

ROUNDS = 3
pytestmark = [pytest.mark.slow, pytest.mark.anvil, pytest.mark.ipfs]


@pytest.fixture(scope="module")
def ipfs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IpfsNode]:
    with IpfsNode.start(tmp_path_factory.mktemp("ipfs-repo")) as node:
        yield node


def deploy(
    root: Path, anvil: AnvilNode, ipfs: IpfsNode, keystores: list[Path], data: Path
) -> Federated:
    deploy_members(root, anvil.url, f"ipfs:{ipfs.api_url}", MEMBERS)
    options = ("--rounds", str(ROUNDS), "--poll", "0.2", "--epochs", "2")
    return Federated(root, keystores, data, {}, options)


def accepted_digests(federated: Federated) -> list[str]:
    return ["0x" + event.ref.hex for event in federated.federation().accepted()]


def voted_digests(federated: Federated, member: int) -> dict[int, str]:
    return {
        int(e["round"]): str(e["detail"]["digest"])  # type: ignore[index]
        for e in federated.events(member)
        if e["step"] == "voted"
    }


@pytest.fixture(scope="module")
def undisturbed(
    tmp_path_factory: pytest.TempPathFactory,
    own_anvil: AnvilNode,
    ipfs: IpfsNode,
    keystores: list[Path],
    data: Path,
) -> Iterator[Federated]:
    """The undisturbed run, started but not awaited: a test calls ``wait_all`` for its result.

    So it runs alongside the disturbed run (the first test), which has its own chain and
    IPFS node: most of either run is waiting, for other members, restarts and outages.
    """
    federated = deploy(tmp_path_factory.mktemp("undisturbed"), own_anvil, ipfs, keystores, data)
    try:
        for member in range(MEMBERS):
            federated.start_agent(member)
        yield federated
    finally:
        federated.stop()


def test_sigkill_ipfs_outage_and_chain_restart_end_with_the_same_digests(
    tmp_path: Path, undisturbed: Federated, keystores: list[Path], data: Path
) -> None:
    state = tmp_path / "anvil-state.json"
    with IpfsNode.start(tmp_path / "ipfs-repo") as ipfs:  # its own: this test takes it down
        anvil = AnvilNode.start(state_file=state)  # its own: this test restarts it
        federated = deploy(tmp_path, anvil, ipfs, keystores, data)
        try:
            for member in range(MEMBERS):
                federated.start_agent(member)
            anvil = disturb(federated, anvil, ipfs, state)
            federated.wait_all()

            undisturbed.wait_all()
            assert accepted_digests(federated) == accepted_digests(undisturbed)
            errors = [
                e for m in range(MEMBERS) for e in federated.events(m) if e["step"] == "error"
            ]
            by_kind: defaultdict[str, list[str]] = defaultdict(list)
            for e in errors:
                by_kind[str(e["detail"]["error"])].append(str(e["message"]))  # type: ignore[index]
            assert any(ipfs.api_url in m for m in by_kind["StoreUnavailable"])  # the outage, named
            # A restart shorter than the retry policy's waits goes unnoticed; one that is
            # noticed is named.
            assert all(anvil.url in m for m in by_kind["RpcUnavailable"])
            federation = federated.federation()
            per_member_round: dict[tuple[str, int], int] = defaultdict(int)
            for round_number in range(1, ROUNDS + 1):
                for update in federation.updates(round_number):
                    per_member_round[(update.member, round_number)] += 1
            assert len(per_member_round) == MEMBERS * ROUNDS
            assert set(per_member_round.values()) == {1}
        finally:
            federated.stop()
            anvil.stop()


def disturb(federated: Federated, anvil: AnvilNode, ipfs: IpfsNode, state: Path) -> AnvilNode:
    """Kill a member, take IPFS down and restart the chain, one per round; return the chain."""

    def submitted(member: int, round_number: int) -> bool:
        return any(
            e["step"] == "submitted" and e["round"] == round_number
            for e in federated.events(member)
        )

    # SIGKILL member 1 right after it submitted in round 1, then restart it.
    federated.wait_for(lambda: submitted(1, 1), "member 1 submits in round 1")
    federated.agents[1].send_signal(signal.SIGKILL)
    federated.agents[1].wait()
    federated.start_agent(1)

    # Take IPFS down as round 2 starts, bring it back a few seconds later.
    federated.wait_for(lambda: any(submitted(m, 2) for m in range(MEMBERS)), "round 2 starts")
    os.kill(ipfs.pid or 0, signal.SIGKILL)
    federated.wait_for(
        lambda: any(e["step"] == "error" for m in range(MEMBERS) for e in federated.events(m)),
        "an agent reports the IPFS outage",
    )
    time.sleep(2)
    ipfs.restart()

    # Restart the chain node from its state file, on the same port, as round 3 starts.
    federated.wait_for(lambda: any(submitted(m, 3) for m in range(MEMBERS)), "round 3 starts")
    anvil.stop()  # SIGINT: anvil writes its state file
    port = int(anvil.url.rsplit(":", 1)[1])
    return AnvilNode.start(state_file=state, port=port)


def test_four_member_processes_complete_three_rounds(
    undisturbed: Federated, ipfs: IpfsNode
) -> None:
    undisturbed.wait_all()
    digests = accepted_digests(undisturbed)
    assert len(digests) == ROUNDS
    federation = undisturbed.federation()
    with IpfsStore(ipfs.api_url) as store:
        for event in federation.accepted():
            store.get(event.ref)  # raises DigestMismatch unless IPFS holds exactly these bytes
    for member in range(MEMBERS):
        assert voted_digests(undisturbed, member) == {r + 1: d for r, d in enumerate(digests)}
