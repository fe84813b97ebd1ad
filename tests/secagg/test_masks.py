"""Masks: the keystream is the specified AES-256-CTR one, and pairwise masks cancel."""

from __future__ import annotations

import os

import numpy as np
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from daofed.secagg import Context, KeyPair, masks

A, B = "0x" + "a" * 40, "0x" + "B" * 40
CONTEXT = Context(5, bytes(20), 2, (A, B), 2)


def test_keystream_is_aes_256_ctr_with_zero_nonce_as_little_endian_u64() -> None:
    key = os.urandom(32)
    size = 3 * (1 << 15) + 5  # crosses chunk boundaries and ends in a partial chunk
    encryptor = Cipher(algorithms.AES(key), modes.CTR(bytes(16))).encryptor()
    want = np.frombuffer(encryptor.update(bytes(8 * size)), dtype="<u8")
    got = np.zeros(size, np.uint64)
    masks.apply(got, key, 1)
    assert np.array_equal(got, want)
    masks.apply(got, key, -1)
    assert not got.any()
    masks.apply(got, key, -1)
    assert np.array_equal(got, (np.uint64(0) - want.astype(np.uint64)))


def test_pairwise_masks_cancel_and_depend_on_the_round() -> None:
    a, b = KeyPair.generate(), KeyPair.generate()
    key_ab = masks.pairwise_key(CONTEXT, a.private, A, B, b.public)
    assert key_ab == masks.pairwise_key(CONTEXT, b.private, B, A, a.public)
    assert masks.sign(A, B) == 1 and masks.sign(B, A) == -1
    total = np.full(1000, 7, np.uint64)
    masks.apply(total, key_ab, masks.sign(A, B))
    assert np.count_nonzero(total == 7) < 3
    masks.apply(total, key_ab, masks.sign(B, A))
    assert (total == 7).all()
    other_round = Context(5, bytes(20), 3, (A, B), 2)
    assert masks.pairwise_key(other_round, a.private, A, B, b.public) != key_ab
    seed = os.urandom(16)
    assert masks.self_key(CONTEXT, A, seed) != masks.self_key(CONTEXT, B, seed)
