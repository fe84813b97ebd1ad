"""Update compression: error bounds, canonical bytes, strict decoding of hostile blobs."""

from __future__ import annotations

import numpy as np
import pytest
from safetensors.numpy import load as safetensors_load

from daofed.errors import InvalidBlob, LearningError, StorageError
from daofed.learning.compression import (
    SCALE_SUFFIX,
    Compression,
    compress,
    compressed_spec,
    decode_update,
    decompress,
    encode_update,
    parse_compression,
    quantize_int8,
)
from daofed.storage import ModelSpec, encode

SHAPES = {"0.weight": (64, 64), "0.bias": (64,), "2.weight": (10, 64), "2.bias": (10,)}
COMPRESSED = (Compression.FP16, Compression.INT8)


def _delta(seed: int, scale: float = 0.05) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        name: (rng.standard_normal(shape) * scale).astype(np.float32)
        for name, shape in SHAPES.items()
    }


SPEC = ModelSpec.from_arrays(_delta(0))


@pytest.mark.parametrize("scale", [1e-6, 1e-2, 1.0, 1e3])
def test_int8_error_is_at_most_half_a_step(scale: float) -> None:
    delta = _delta(1, scale)
    back = decode_update(encode_update(delta, Compression.INT8), SPEC, Compression.INT8)
    for name, original in delta.items():
        step = float(np.abs(original).max()) / 127
        error = np.abs(back[name].astype(np.float64) - original.astype(np.float64))
        assert back[name].dtype == np.float32
        assert float(error.max()) <= step / 2 * (1 + 1e-5)
        assert np.abs(back[name]).max() == np.float32(np.abs(original).max())  # peak exact


@pytest.mark.parametrize("scale", [1e-3, 1.0, 1e3])
def test_fp16_error_is_half_precisions_rounding(scale: float) -> None:
    delta = _delta(2, scale)
    back = decode_update(encode_update(delta, Compression.FP16), SPEC, Compression.FP16)
    for name, original in delta.items():
        x = original.astype(np.float64)
        error = np.abs(back[name].astype(np.float64) - x)
        # relative 2^-11 in fp16's normal range; absolute 2^-25 among its subnormals
        assert (error <= np.maximum(np.abs(x) * 2.0**-11, 2.0**-25)).all()


def test_none_is_the_float32_encoding() -> None:
    delta = _delta(3)
    assert encode_update(delta, Compression.NONE) == encode(delta)
    assert compressed_spec(SPEC, Compression.NONE) == SPEC


@pytest.mark.parametrize("compression", COMPRESSED)
def test_bytes_are_canonical_and_readable_by_safetensors(compression: Compression) -> None:
    delta = _delta(4)
    data = encode_update(delta, compression)
    reordered = {name: delta[name].copy(order="F") for name in reversed(list(delta))}
    assert encode_update(reordered, compression) == data
    wire = compressed_spec(SPEC, compression)
    assert len(data) == wire.encoded_size
    loaded = safetensors_load(data)
    assert sorted(loaded) == list(wire.names)
    assert {name: str(array.dtype) for name, array in loaded.items()} == {
        t.name: t.dtype for t in wire.tensors
    }


def test_payload_is_two_bytes_or_one_byte_and_a_scale_per_value() -> None:
    params = sum(int(np.prod(shape)) for shape in SHAPES.values())
    payload = {c: sum(t.nbytes for t in compressed_spec(SPEC, c).tensors) for c in Compression}
    assert payload == {
        Compression.NONE: 4 * params,
        Compression.FP16: 2 * params,
        Compression.INT8: params + 4 * len(SHAPES),
    }
    int8 = compressed_spec(SPEC, Compression.INT8)
    assert int8.names == tuple(sorted([*SHAPES, *(name + SCALE_SUFFIX for name in SHAPES)]))
    assert int8.encoded_size < 0.3 * SPEC.encoded_size  # header included


def test_int8_quantization_is_symmetric_with_a_float32_scale() -> None:
    q, scale = quantize_int8(np.array([-2.54, 0.0, 1.27, 2.54], np.float32))
    assert scale.dtype == np.float32 and scale.shape == ()
    assert float(scale) == pytest.approx(0.02)
    assert q.tolist() == [-127, 0, 64, 127]


@pytest.mark.parametrize("values", [[0.0, 0.0, -0.0], [1e-40, -3e-39], []])
def test_zero_and_negligible_tensors_get_scale_one(values: list[float]) -> None:
    q, scale = quantize_int8(np.array(values, np.float32))
    assert float(scale) == 1.0 and not q.any()


def test_compressing_a_non_finite_or_huge_update_says_why() -> None:
    with pytest.raises(LearningError, match="NaN or infinity"):
        compress({"w": np.array([np.nan], np.float32)}, Compression.INT8)
    with pytest.raises(LearningError, match="float16"):
        compress({"w": np.array([1e5], np.float32)}, Compression.FP16)
    with pytest.raises(LearningError, match="float32"):
        compress({"w": np.array([1.0], np.float64)}, Compression.FP16)


def test_parse_compression() -> None:
    assert parse_compression("int8") is Compression.INT8
    assert parse_compression("fp16") is Compression.FP16
    for bad in ("none", "INT8", "int4", ""):
        with pytest.raises(LearningError, match="compress must be one of fp16, int8"):
            parse_compression(bad)


def _int8_tensors(delta: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return compress(delta, Compression.INT8)


def _bad(mutate: str) -> bytes:
    tensors = _int8_tensors(_delta(5))
    scale_name = "0.bias" + SCALE_SUFFIX
    if mutate == "scale-float64":
        tensors[scale_name] = tensors[scale_name].astype(np.float64)
    elif mutate == "scale-missing":
        del tensors[scale_name]
    elif mutate == "scale-vector":
        tensors[scale_name] = np.repeat(tensors[scale_name], 2)
    elif mutate == "scale-zero":
        tensors[scale_name] = np.array(0.0, np.float32)
    elif mutate == "scale-negative":
        tensors[scale_name] = -tensors[scale_name]
    elif mutate == "scale-subnormal":
        tensors[scale_name] = np.array(1e-40, np.float32)
    elif mutate == "scale-nan":
        tensors[scale_name] = np.array(np.nan, np.float32)
    elif mutate == "overflow":
        tensors[scale_name] = np.array(np.finfo(np.float32).max, np.float32)
    elif mutate == "minus-128":
        tensors["0.bias"] = tensors["0.bias"].copy()
        tensors["0.bias"][0] = -128
    elif mutate == "float32-values":
        tensors["0.bias"] = _delta(5)["0.bias"]
    elif mutate == "plain-float32":
        tensors = _delta(5)
    elif mutate == "fp16":
        tensors = compress(_delta(5), Compression.FP16)
    return encode(tensors)


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        ("scale-float64", "wrong-dtype"),
        ("scale-missing", "missing-tensor"),
        ("scale-vector", "wrong-shape"),
        ("scale-zero", "bad-scale"),
        ("scale-negative", "bad-scale"),
        ("scale-subnormal", "bad-scale"),
        ("scale-nan", "non-finite"),
        ("overflow", "non-finite"),
        ("minus-128", "out-of-range"),
        ("float32-values", "wrong-dtype"),
        ("plain-float32", "missing-tensor"),
        ("fp16", "missing-tensor"),
    ],
)
def test_bad_int8_blobs_are_refused_with_a_reason(mutate: str, reason: str) -> None:
    with pytest.raises(InvalidBlob) as caught:
        decode_update(_bad(mutate), SPEC, Compression.INT8)
    assert caught.value.reason == reason


def test_an_int8_blob_is_not_an_fp16_or_float32_update() -> None:
    data = encode_update(_delta(6), Compression.INT8)
    for compression in (Compression.FP16, Compression.NONE):
        with pytest.raises(InvalidBlob) as caught:
            decode_update(data, SPEC, compression)
        assert caught.value.reason in {"extra-tensor", "wrong-dtype"}


def test_decompression_of_fp16_is_exact_widening() -> None:
    halves = {"w": np.array([65504.0, -6e-8, 0.1, 0.0], np.float16)}
    back = decompress(halves, Compression.FP16)
    assert back["w"].dtype == np.float32
    assert back["w"].tolist() == halves["w"].astype(np.float64).tolist()


def test_a_model_tensor_named_like_a_scale_cannot_be_quantized() -> None:
    spec = ModelSpec.from_arrays(
        {"w": np.zeros(2, np.float32), "w::scale": np.zeros((), np.float32)}
    )
    with pytest.raises(StorageError, match="more than once"):
        compressed_spec(spec, Compression.INT8)
