"""Chains big enough for benchmarks: many funded members and room for large constructors.

anvil funds only the ten standard dev accounts, and a federation of 1,000 members needs
more: their keys are derived from the same public dev mnemonic further along the same HD
path, so any tool that knows the mnemonic finds them, and funded with ``anvil_setBalance``.
A constructor taking 1,000 addresses exceeds both the default block gas limit and the
EIP-3860 initcode size limit, so benchmark chains are started with both lifted.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import cache

from eth_account import Account
from eth_account.hdaccount import seed_from_mnemonic
from eth_account.signers.local import LocalAccount
from eth_keys.datatypes import PrivateKey
from web3 import Web3

from daofed.chain import AnvilNode
from daofed.chain.node import DEV_ACCOUNT_COUNT, DEV_MNEMONIC
from daofed.errors import ChainError

BLOCK_GAS_LIMIT = 1_000_000_000
"""Room for a 1,000-member constructor (~70k gas per member) in one block."""
BENCH_BALANCE_WEI = 1_000 * 10**18
_SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_HARDENED = 2**31


@cache
def _parent_node() -> tuple[bytes, bytes, bytes]:
    """Key, chain code and compressed public key of ``m/44'/60'/0'/0`` (the dev HD parent).

    Computed once: deriving each account from the seed would redo four hardened steps and
    an elliptic-curve multiplication per account (eth-account's pure-Python backend makes
    that ~17 ms each, 17 s for 1,000 members).
    """
    seed = seed_from_mnemonic(DEV_MNEMONIC, "")
    node = hmac.digest(b"Bitcoin seed", seed, hashlib.sha512)
    key, chain_code = node[:32], node[32:]
    for index in (44 + _HARDENED, 60 + _HARDENED, _HARDENED, 0):
        key, chain_code = _child(key, chain_code, index)
    public = PrivateKey(key).public_key.to_compressed_bytes()
    return key, chain_code, public


def _child(key: bytes, chain_code: bytes, index: int) -> tuple[bytes, bytes]:
    """BIP-32 CKDpriv (the invalid-key case has probability < 2**-127 and is refused)."""
    if index >= _HARDENED:
        data = b"\x00" + key + index.to_bytes(4, "big")
    else:
        data = PrivateKey(key).public_key.to_compressed_bytes() + index.to_bytes(4, "big")
    return _finish(key, chain_code, data)


def _finish(key: bytes, chain_code: bytes, data: bytes) -> tuple[bytes, bytes]:
    digest = hmac.digest(chain_code, data, hashlib.sha512)
    tweak = int.from_bytes(digest[:32], "big")
    child = (tweak + int.from_bytes(key, "big")) % _SECP256K1_N
    if tweak >= _SECP256K1_N or child == 0:
        raise ChainError("BIP-32 derived an invalid key; use another account index")
    return child.to_bytes(32, "big"), digest[32:]


@cache
def bench_account(index: int) -> LocalAccount:
    """Account ``m/44'/60'/0'/0/index`` of the dev mnemonic (0-9 are anvil's dev accounts)."""
    parent_key, parent_chain, parent_public = _parent_node()
    key, _ = _finish(parent_key, parent_chain, parent_public + index.to_bytes(4, "big"))
    account: LocalAccount = Account.from_key(key)
    return account


def bench_accounts(first: int, count: int) -> list[LocalAccount]:
    """Accounts ``first .. first + count - 1`` of the dev HD path."""
    return [bench_account(i) for i in range(first, first + count)]


def fund(w3: Web3, accounts: list[LocalAccount]) -> None:
    """Give every account beyond anvil's own ten a balance (anvil only)."""
    for account in accounts:
        if account.address in _dev_addresses():
            continue
        answer = w3.provider.make_request(
            "anvil_setBalance",  # type: ignore[arg-type]
            [account.address, hex(BENCH_BALANCE_WEI)],
        )
        if "error" in answer:
            raise ChainError(f"anvil_setBalance failed ({answer['error']}): use an anvil node")


@cache
def _dev_addresses() -> frozenset[str]:
    return frozenset(bench_account(i).address for i in range(DEV_ACCOUNT_COUNT))


def start_big_anvil(timeout: float = 30.0) -> AnvilNode:
    """Start anvil like :meth:`AnvilNode.start`, with the gas and initcode limits lifted."""
    return AnvilNode.start(gas_limit=BLOCK_GAS_LIMIT, code_size_limit=False, timeout=timeout)
