"""Chains: funded dev accounts on both backends, clock control, anvil's lifecycle, connect."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from web3 import Web3
from web3.exceptions import Web3RPCError
from web3.types import RPCEndpoint

from daofed import nodeproc
from daofed.chain import (
    AnvilNode,
    Federation,
    advance_time,
    connect,
    dev_account,
    dev_accounts,
    embedded_chain,
)
from daofed.chain.node import find_anvil
from daofed.errors import ChainError, ConfigError, RpcUnavailable
from daofed.retry import RetryPolicy

from .conftest import blob


def test_dev_accounts_are_the_standard_ones_and_funded(w3: Web3) -> None:
    accounts = dev_accounts()
    assert accounts[0].address == "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"  # anvil's first
    assert len({a.address for a in accounts}) == 10
    assert all(w3.eth.get_balance(a.address) >= 1000 * 10**18 for a in accounts)
    assert dev_account(3) == accounts[3]
    with pytest.raises(ConfigError, match="use 0 to 9"):
        dev_account(10)  # `--dev N` names one of the ten every local chain funds


@pytest.mark.anvil
def test_a_chain_started_for_more_accounts_funds_them_all() -> None:
    """A demo of 20 members needs 21 funded accounts: both chains start with them."""
    accounts = dev_accounts(21)
    assert accounts[:10] == dev_accounts() and len({a.address for a in accounts}) == 21
    with AnvilNode.start(accounts=21) as node:
        anvil = node.web3()
        assert all(anvil.eth.get_balance(a.address) > 0 for a in accounts)
    embedded = embedded_chain(21)
    assert all(embedded.eth.get_balance(a.address) > 0 for a in accounts)
    assert embedded_chain().eth.get_balance(accounts[20].address) == 0


def test_advance_time_moves_the_chain_clock(w3: Web3) -> None:
    before = w3.eth.get_block("latest")["timestamp"]
    advance_time(w3, 3600)
    assert w3.eth.get_block("latest")["timestamp"] >= before + 3600
    with pytest.raises(ConfigError):
        advance_time(w3, -1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_connect_names_the_url_it_could_not_reach() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(RpcUnavailable, match=url.replace(".", r"\.")):
        connect(url, timeout=2)


def test_connect_goes_through_the_environment_s_proxy_unless_told_not_to(
    anvil: AnvilNode, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The proxy settings are read once, at connection, the way requests reads them."""
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{free_port()}")  # nobody listens
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with pytest.raises(RpcUnavailable, match="no Ethereum JSON-RPC node answers"):
        connect(anvil.url, timeout=2, retry=RetryPolicy(attempts=1))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    w3 = connect(anvil.url, timeout=2)
    monkeypatch.delenv("NO_PROXY")  # read at connection: this one keeps going direct
    assert w3.eth.block_number >= 0


def _deploy_one_member(w3: Web3) -> Federation:
    return Federation.deploy(
        w3,
        dev_account(0),
        members=[dev_account(1).address],
        quorum=1,
        submit_window=60,
        vote_window=60,
        rule="fedavg",
        genesis=blob("genesis"),
    )


def test_anvil_keeps_its_chain_in_the_state_file_across_restarts(tmp_path: Path) -> None:
    state = tmp_path / "chain.json"
    with AnvilNode.start(state_file=state) as node:
        assert node.url.startswith("http://127.0.0.1:")
        federation = _deploy_one_member(node.web3())
    assert not node.process.running
    assert state.is_file()
    with AnvilNode.start(state_file=state) as again:
        restored = Federation.at(again.web3(), federation.address)
        assert restored.current_round() == 1
        assert restored.round_info(1).base == blob("genesis")


def test_anvil_keeping_recent_states_drops_old_ones_and_still_restores(tmp_path: Path) -> None:
    """``kept_states``: old blocks lose their state, the chain and its state file do not."""
    state = tmp_path / "chain.json"
    with AnvilNode.start(state_file=state, kept_states=4) as node:
        w3 = node.web3()
        federation = _deploy_one_member(w3)
        for _ in range(10):
            w3.provider.make_request(RPCEndpoint("evm_mine"), [])
        assert federation.current_round() == 1
        with pytest.raises(Web3RPCError, match="requested was"):
            w3.eth.get_balance(dev_account(0).address, federation.deploy_block)
    with AnvilNode.start(state_file=state, kept_states=4) as again:
        assert Federation.at(again.web3(), federation.address).current_round() == 1


def test_a_missing_anvil_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nodeproc, "checkout_root", lambda: None)  # as from an installed wheel
    monkeypatch.setenv("PATH", "")
    with pytest.raises(ConfigError) as caught:
        AnvilNode.start()
    message = str(caught.value)
    assert message.startswith("anvil not found on PATH: install Foundry's anvil")
    assert "--chain embedded" in message and "\n" not in message


def test_anvil_on_path_comes_before_the_checkouts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "anvil").symlink_to(find_anvil())
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_anvil() == tmp_path / "anvil"


def test_a_node_that_exits_while_starting_is_reported_in_one_line() -> None:
    with AnvilNode.start() as running:
        busy = int(running.url.rsplit(":", 1)[1])
        with pytest.raises(ChainError) as caught:
            AnvilNode.start(port=busy)
    message = str(caught.value)
    assert message.startswith("anvil exited with code") and "\n" not in message
    assert "in use" in message.lower()  # anvil's own last word: the port is taken


@pytest.mark.anvil
def test_a_snapshot_is_read_again_when_a_restarted_node_lost_the_block_it_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """anvil restarted from its state file has no state for earlier blocks: a member whose
    snapshot began on the old node reads it again at the new head instead of failing."""
    state = tmp_path / "chain.json"
    member = dev_account(1).address
    with AnvilNode.start(state_file=state) as node:
        w3 = node.web3()
        federation = Federation.deploy(
            w3,
            dev_account(0),
            members=[member],
            quorum=1,
            submit_window=60,
            vote_window=60,
            rule="fedavg",
            genesis=blob("genesis"),
        )
        w3.provider.make_request(RPCEndpoint("evm_mine"), [])
        before_restart = int(w3.eth.block_number) - 1
    with AnvilNode.start(state_file=state) as again:
        restored = Federation.at(again.web3(), federation.address)
        again.web3().provider.make_request(RPCEndpoint("evm_mine"), [])
        with pytest.raises(ChainError, match=r"reading \w+ failed"):
            restored._snapshot_at(member, before_restart)

        head = int(again.web3().eth.block_number)
        heads = iter([before_restart, head, head])  # the head named before the restart, then now
        monkeypatch.setattr(restored, "block_number", lambda: next(heads))
        snapshot = restored.snapshot(member)
    assert (snapshot.block, snapshot.round, snapshot.is_member) == (head, 1, True)
