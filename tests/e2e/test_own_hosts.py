"""Members on their own hosts: each member's agent and IPFS node in a network namespace of its
own, the chain node on the bridge between them, nothing shared but the network.

Each host reaches the others only over its veth link (``tests/netns.py``): the chain at the
bridge's address, the other members' nodes at theirs. Every member starts its own node with
``daofed ipfs up`` on its host's address and runs ``daofed agent run`` against it; the
members find each other's nodes through the addresses they announce on chain. An auditor on
a fifth host, with a fresh node that holds nothing, then verifies every round, fetching
every blob from the members' nodes.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from daofed.chain import AnvilNode, Federation, connect, dev_account
from daofed.chain.deployment import Deployment
from daofed.learning import DEFAULT_TASK, Dataset, load_task, save_member_file, split_federated
from daofed.session import abi_version
from daofed.storage import IpfsStore
from tests import federations
from tests.e2e.processes import read_document
from tests.netns import Host, PrivateNetwork, private_network, require_netns

MEMBERS = 4
ROUNDS = 3
API_PORT = 5001
SWARM_PORT = 4001
START_TIMEOUT = 90.0
RUN_TIMEOUT = 240.0
WINDOW = 300  # seconds: rounds end when all have voted, far sooner
pytestmark = [pytest.mark.slow, pytest.mark.anvil, pytest.mark.ipfs]


@pytest.fixture(scope="module")
def network() -> Iterator[PrivateNetwork]:
    """Four members' hosts and an auditor's, on one bridge."""
    require_netns()
    with private_network(MEMBERS + 1) as built:
        yield built


@dataclass(frozen=True)
class Node:
    """A host's IPFS node as ``daofed ipfs up --json`` described it."""

    host: Host
    process: subprocess.Popen[str]  # its ``daofed ipfs up``
    api_url: str
    peer_id: str
    addresses: tuple[str, ...]

    @property
    def store(self) -> str:
        return f"ipfs:{self.api_url}"

    def call(self, command: str, **params: str) -> httpx.Response:
        """POST to the node's Kubo RPC API, from the root namespace over the bridge."""
        return httpx.post(
            f"{self.api_url}/api/v0/{command}", params=params, timeout=30, trust_env=False
        )

    def holds(self, cid: str) -> bool:
        """Whether the block is in this node's own repo (``offline``: no peer is asked)."""
        return self.call("block/stat", arg=cid, offline="true").status_code == 200

    def peer_addresses(self) -> dict[str, str]:
        """Connected peers: peer id -> the remote address of the connection."""
        peers = self.call("swarm/peers").json().get("Peers") or []
        return {str(peer["Peer"]): str(peer["Addr"]) for peer in peers}


def start_nodes(hosts: list[Host], root: Path) -> list[Node]:
    """Run ``daofed ipfs up`` on each host, on its address only, with a repo of its own."""
    started = []
    for host in hosts:
        with (root / f"ipfs-up-{host.address}.err").open("w") as err:
            process = host.popen(
                [
                    sys.executable, "-m", "daofed", "ipfs", "up", "--json",
                    "--repo", str(root / f"ipfs-{host.address}"),
                    "--api-host", host.address, "--api-port", str(API_PORT),
                    "--swarm", f"/ip4/{host.address}/tcp/{SWARM_PORT}",
                ],
                stdout=subprocess.PIPE, stderr=err, text=True,
            )  # fmt: skip
        started.append((host, process))
    return [_described(host, process) for host, process in started]


def _described(host: Host, process: subprocess.Popen[str]) -> Node:
    said = read_document(process, f"ipfs up on {host.address}", START_TIMEOUT)
    return Node(host, process, said["api_url"], said["peer_id"], tuple(said["addresses"]))


def test_members_on_their_own_hosts_complete_rounds_and_an_auditor_fetches_every_blob(
    network: PrivateNetwork, tmp_path: Path
) -> None:
    members, auditor_host = network.hosts[:MEMBERS], network.hosts[MEMBERS]
    with AnvilNode.start(host=network.bridge_address) as anvil:
        assert anvil.url.startswith(f"http://{network.bridge_address}:")
        nodes = start_nodes([*members, auditor_host], tmp_path)
        member_nodes, auditor = nodes[:MEMBERS], nodes[MEMBERS]
        homes = member_homes(tmp_path)
        deployment = deploy(anvil.url, member_nodes[0])
        for home, node in zip(homes, member_nodes, strict=True):
            replace(deployment, store=node.store).save(home / "daofed.toml")
        agents = [
            start_agent(host, home, m + 1, anvil.url, node)
            for m, (host, home, node) in enumerate(zip(members, homes, member_nodes, strict=True))
        ]
        wait_all(agents, homes)

        federation = Federation.at(connect(anvil.url), deployment.contract, deployment.deploy_block)
        accepted = federation.accepted()
        assert len(accepted) == ROUNDS
        for m, home in enumerate(homes):
            voted = {
                int(e["round"]): str(e["detail"]["digest"])
                for e in events(home)
                if e["step"] == "voted"
            }
            assert voted == {e.round: "0x" + e.ref.hex for e in accepted}, f"member {m + 1}"

        # Every member's node is connected to the others, over the bridge only.
        peer_ids = {node.peer_id for node in member_nodes}
        for node in member_nodes:
            connected = node.peer_addresses()
            assert peer_ids - {node.peer_id} <= set(connected), node.host.address
            assert all(_on(network, address) for address in connected.values()), connected

        # The auditor's fresh node holds none of the federation's blobs...
        cids = [federation.genesis().locator] + [e.ref.locator for e in accepted]
        cids += [u.ref.locator for r in range(1, ROUNDS + 1) for u in federation.updates(r)]
        assert len(cids) == 1 + ROUNDS + MEMBERS * ROUNDS
        assert not any(auditor.holds(cid) for cid in cids)
        assert auditor.peer_addresses() == {}

        # ...and verifies every round from its own host, fetching them all over the network.
        home = tmp_path / "auditor"
        home.mkdir()
        replace(deployment, store=auditor.store).save(home / "daofed.toml")
        audited = auditor_host.run(
            [sys.executable, "-m", "daofed", "audit", "--verify", "--json"],
            cwd=home, capture_output=True, text=True, timeout=180,
        )  # fmt: skip
        assert audited.returncode == 0, audited.stderr[-3000:]
        report = json.loads(audited.stdout)
        assert report["ok"] is True, audited.stdout[-3000:]
        verified = {r["round"]: r for r in report["verification"]["rounds"]}
        for r in range(1, ROUNDS + 1):
            assert verified[r]["verdict"] == "verified" and len(verified[r]["included"]) == MEMBERS
        assert all(auditor.holds(cid) for cid in cids)
        connected = auditor.peer_addresses()
        assert peer_ids <= set(connected)
        assert all(_on(network, address) for address in connected.values()), connected


def member_homes(root: Path) -> list[Path]:
    """Each member's own directory, with its data file (as ``daofed data split`` writes)."""
    parts = split_federated(load_task(DEFAULT_TASK).dataset(), MEMBERS, alpha=None, seed=0)
    homes = []
    for m, part in enumerate(parts.members, start=1):
        home = root / f"member-{m}"
        home.mkdir()
        save_member_file(home / f"member-{m}.npz", Dataset.concat([part.train, part.val]))
        homes.append(home)
    return homes


def deploy(rpc_url: str, node: Node) -> Deployment:
    """Deploy with the genesis model on the first member's node (the deployer's store)."""
    w3 = connect(rpc_url)
    members = [dev_account(m + 1) for m in range(MEMBERS)]
    with IpfsStore(node.api_url) as store:
        federation = federations.deploy(w3, store, dev_account(0), members, window=WINDOW)
    return Deployment(
        chain_id=w3.eth.chain_id,
        rpc_url=rpc_url,
        contract=federation.address,
        deploy_block=federation.deploy_block,
        abi_version=abi_version(),
        store=node.store,
    )


def start_agent(
    host: Host, home: Path, account: int, rpc_url: str, node: Node
) -> subprocess.Popen[bytes]:
    """Run the member's agent on its host, against its own node and the chain on the bridge."""
    with (home / "agent.jsonl").open("wb") as out, (home / "agent.err").open("wb") as err:
        return host.popen(
            [sys.executable, "-m", "daofed", "agent", "run",
             "--dev", str(account), "--data", f"member-{account}.npz",
             "--store", node.store, "--rpc-url", rpc_url,
             "--rounds", str(ROUNDS), "--poll", "0.2", "--epochs", "2"],
            cwd=home, stdout=out, stderr=err,
        )  # fmt: skip


def events(home: Path) -> list[dict[str, Any]]:
    lines = (home / "agent.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def wait_all(agents: list[subprocess.Popen[bytes]], homes: list[Path]) -> None:
    deadline = time.monotonic() + RUN_TIMEOUT
    while not all(agent.poll() == 0 for agent in agents):
        failed = {m + 1: a.returncode for m, a in enumerate(agents) if a.poll() not in (None, 0)}
        if failed or time.monotonic() > deadline:
            logs = "\n".join(
                f"--- member {m + 1}:\n" + (home / "agent.err").read_text()[-1500:]
                for m, home in enumerate(homes)
            )
            raise AssertionError(f"agents exited {failed} or timed out\n{logs}")
        time.sleep(0.5)


def _on(network: PrivateNetwork, address: str) -> bool:
    """Whether a connection's remote multiaddr is a host on the bridge (not loopback)."""
    parts = address.split("/")
    return (
        len(parts) > 2
        and parts[1] == "ip4"
        and any(parts[2] == host.address for host in network.hosts)
    )
