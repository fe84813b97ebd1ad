"""The genesis pins the task: name and layout in, the first mismatched tensor named out."""

from __future__ import annotations

import json

import numpy as np
import pytest

from daofed.errors import ConfigError, InvalidBlob
from daofed.learning import ModelConfig, load_task, mlp_task
from daofed.protocol import check_task, genesis_blob, read_genesis
from daofed.storage import BlobRef, MemoryStore, encode

CNN = load_task("digits-cnn")


def genesis_of(blob: bytes):  # type: ignore[no-untyped-def]
    store = MemoryStore()
    return read_genesis(blob, store.put(blob))


def test_the_genesis_records_the_tasks_name_and_tensor_order() -> None:
    blob = genesis_blob(CNN, 3)
    assert genesis_blob(CNN, 3) == blob  # seeded: reproducible bytes
    header = json.loads(blob[8 : 8 + int.from_bytes(blob[:8], "little")])
    assert header["__metadata__"]["daofed.task"] == "digits-cnn"
    genesis = genesis_of(blob)
    assert genesis.task == "digits-cnn"
    assert genesis.order == tuple(CNN.initial_weights(3))  # the model's order, not sorted
    assert genesis.order != tuple(sorted(genesis.order))
    assert all(np.array_equal(genesis.weights[k], v) for k, v in CNN.initial_weights(3).items())
    check_task(CNN, genesis)


def test_a_genesis_without_metadata_has_no_task_and_sorted_order() -> None:
    genesis = genesis_of(encode(CNN.initial_weights(0)))
    assert genesis.task is None and genesis.order == tuple(sorted(genesis.order))
    check_task(CNN, genesis)


@pytest.mark.parametrize(
    ("task", "said"),
    [
        (
            mlp_task(ModelConfig(hidden=(32,))),
            "task 'digits-mlp' builds a different model: tensor '0.weight' expected "
            "float32[64, 64], got float32[32, 64]",
        ),
        (
            CNN,
            "task 'digits-cnn' (the federation trains 'digits-mlp') builds a different model: "
            "tensor '0.weight' (expected float32[64, 64]) is missing",
        ),
    ],
)
def test_a_task_building_another_model_is_refused_naming_the_tensor(task, said) -> None:  # type: ignore[no-untyped-def]
    genesis = genesis_of(genesis_blob(load_task("digits-mlp"), 0))
    with pytest.raises(ConfigError) as raised:
        check_task(task, genesis)
    assert said in str(raised.value)


def test_a_non_canonical_or_lying_genesis_is_refused() -> None:
    blob = genesis_blob(CNN, 0)
    header_len = int.from_bytes(blob[:8], "little")
    padded = (header_len + 8).to_bytes(8, "little") + blob[8 : 8 + header_len] + b" " * 8
    with pytest.raises(InvalidBlob):
        genesis_of(padded + blob[8 + header_len :])
    lying = encode(CNN.initial_weights(0), {"daofed.task": "x", "daofed.tensors": '["a"]'})
    with pytest.raises(InvalidBlob, match="does not list its tensors"):
        genesis_of(lying)
    with pytest.raises(InvalidBlob, match="not a safetensors"):
        read_genesis(b"\x80\x04pickle", BlobRef(bytes(32), "x"))
