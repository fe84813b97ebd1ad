"""A private network of hosts on this machine: Linux network namespaces on one bridge.

Each host is a network namespace with its own loopback and one veth link to a bridge in
the root namespace; the bridge has the first address of the subnet (a chain node there is
reachable from every host), host ``k`` has address 10 + k. Processes run inside a host
with ``ip netns exec``, so they see only its interfaces: what they reach, they reach over
the links, as members on their own machines would.

Everything is torn down (processes, veths, namespaces, bridge) when the context exits,
failure or not, and at interpreter exit as a last resort. Names carry this process's pid
(interface names stay within Linux's 15 characters), and the subnet is one no interface
of this machine uses yet, so test runs side by side do not meet. It needs root and
``ip netns``: :func:`require_netns` skips the test otherwise, saying why.

Bridged frames pass the root namespace's iptables FORWARD chain when ``br_netfilter`` is
loaded (a Docker host drops them there); the bridge is made with ``nf_call_iptables 0``
so its own traffic never enters it.
"""

from __future__ import annotations

import atexit
import ipaddress
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

import pytest

_STOP_TIMEOUT = 10.0


def require_netns() -> None:
    """Skip the calling test unless this process can build namespaces (root, ``ip netns``)."""
    if os.geteuid() != 0:
        pytest.skip("network namespaces need root (CI runs as root)")
    if shutil.which("ip") is None:
        pytest.skip("`ip` (iproute2) is not installed")
    probe = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        pytest.skip(f"`ip netns` is unavailable here: {probe.stderr.strip()}")


def ip(*args: str) -> None:
    """Run ``ip ARGS``; fail with its message."""
    done = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"`ip {' '.join(args)}` failed: {done.stderr.strip()}")


@dataclass
class Host:
    """One namespace on the bridge: its name, its address, the processes run in it."""

    namespace: str
    address: str
    veth: str  # the root namespace's end of its link
    processes: list[subprocess.Popen[Any]] = field(default_factory=list)

    def command(self, argv: Sequence[str]) -> list[str]:
        """``argv`` to run inside this host."""
        return ["ip", "netns", "exec", self.namespace, *argv]

    def popen(self, argv: Sequence[str], **kwargs: Any) -> subprocess.Popen[Any]:
        """Start ``argv`` inside this host (Popen's keywords); it is stopped on teardown."""
        process: subprocess.Popen[Any] = subprocess.Popen(self.command(argv), **kwargs)
        self.processes.append(process)
        return process

    def run(self, argv: Sequence[str], **kwargs: Any) -> subprocess.CompletedProcess[Any]:
        """Run ``argv`` inside this host to completion (subprocess.run's keywords)."""
        return subprocess.run(self.command(argv), **kwargs)

    def stop_processes(self) -> None:
        """SIGTERM what runs here (ours first, then anything left), SIGKILL what lingers."""
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        listed = subprocess.run(
            ["ip", "netns", "pids", self.namespace], capture_output=True, text=True, check=False
        )
        for pid in (int(p) for p in listed.stdout.split()):  # e.g. a node an agent started
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


class PrivateNetwork:
    """A bridge and the hosts on it; build it with :func:`private_network`."""

    def __init__(self, subnet: ipaddress.IPv4Network, tag: str) -> None:
        self.subnet = subnet
        self.tag = tag  # makes every name of this network unique on the machine
        self.bridge = f"dfb{tag}"
        self.bridge_address = str(subnet[1])
        self.hosts: list[Host] = []

    def add_host(self) -> Host:
        """Create the next host (namespace, veth to the bridge, address, loopback up)."""
        index = len(self.hosts) + 1
        host = Host(
            namespace=f"daofed-{self.tag}-{index}",
            address=str(self.subnet[10 + index]),
            veth=f"dfv{self.tag}n{index}",
        )
        self.hosts.append(host)  # torn down from here on, whatever fails below
        ip("netns", "add", host.namespace)
        ip(
            "link",
            "add",
            host.veth,
            "type",
            "veth",
            "peer",
            "name",
            "eth0",
            "netns",
            host.namespace,
        )
        ip("link", "set", host.veth, "master", self.bridge, "up")
        prefix = f"{host.address}/{self.subnet.prefixlen}"
        ip("-n", host.namespace, "addr", "add", prefix, "dev", "eth0")
        ip("-n", host.namespace, "link", "set", "eth0", "up")
        ip("-n", host.namespace, "link", "set", "lo", "up")
        return host

    def _create(self) -> None:
        ip("link", "add", self.bridge, "type", "bridge")
        ip("link", "set", self.bridge, "type", "bridge", "nf_call_iptables", "0")
        ip("addr", "add", f"{self.bridge_address}/{self.subnet.prefixlen}", "dev", self.bridge)
        ip("link", "set", self.bridge, "up")

    def close(self) -> None:
        """Stop every process in the hosts, then delete veths, namespaces and the bridge."""
        for host in self.hosts:  # all asked at once: each may take seconds to stop
            for process in host.processes:
                if process.poll() is None:
                    process.terminate()
        for host in self.hosts:
            host.stop_processes()
        for host in self.hosts:
            # the veth first: a namespace deleted with a link in it frees it only later
            subprocess.run(["ip", "link", "del", host.veth], capture_output=True, check=False)
            subprocess.run(["ip", "netns", "del", host.namespace], capture_output=True, check=False)
        subprocess.run(["ip", "link", "del", self.bridge], capture_output=True, check=False)
        self.hosts.clear()
        _open.discard(self)


_open: set[PrivateNetwork] = set()


@atexit.register
def _close_all() -> None:
    """Tear down networks a crash left open, so the machine keeps none of them."""
    for network in list(_open):
        network.close()


@contextmanager
def private_network(hosts: int, first: str = "10.77.0.0/24") -> Iterator[PrivateNetwork]:
    """A bridge with ``hosts`` namespaces on it, torn down on exit; call require_netns first.

    The subnet is ``first``, or the next /24 after it that no interface here uses yet.
    """
    tag = str(os.getpid())
    network = PrivateNetwork(_free_subnet(ipaddress.IPv4Network(first)), tag)
    _open.add(network)
    try:
        network._create()
        for _ in range(hosts):
            network.add_host()
        yield network
    finally:
        network.close()


def _free_subnet(first: ipaddress.IPv4Network) -> ipaddress.IPv4Network:
    used = [
        ipaddress.IPv4Interface(word).network
        for line in subprocess.run(
            ["ip", "-4", "-o", "addr"], capture_output=True, text=True, check=True
        ).stdout.splitlines()
        for word in line.split()[3:4]
    ]
    candidate = first
    for _ in range(256):
        if not any(candidate.overlaps(network) for network in used):
            return candidate
        candidate = ipaddress.IPv4Network((int(candidate.network_address) + 256, 24))
    raise RuntimeError(f"no free /24 after {first}: {used}")
