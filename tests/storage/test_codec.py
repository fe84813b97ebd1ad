import hashlib
import json
import pickle
import struct
from typing import Any

import numpy as np
import pytest
import safetensors.numpy
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.typing import NDArray

from daofed.errors import InvalidBlob, StorageError
from daofed.storage import ModelSpec, TensorSpec, Weights, decode, encode


def model() -> Weights:
    rng = np.random.default_rng(7)
    return {
        "layer.0.weight": rng.standard_normal((4, 3)).astype(np.float32),
        "layer.0.bias": rng.standard_normal(4).astype(np.float32),
        "steps": np.array(12, dtype=np.int64),
        "mask": np.array([True, False, True]),
        "half": rng.standard_normal((2, 2)).astype(np.float16),
        "empty": np.zeros((0, 5), dtype=np.float64),
    }


SPEC = ModelSpec.from_arrays(model())


def raw_safetensors(header: dict[str, Any], data: bytes) -> bytes:
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data


def reason_of(blob: bytes, spec: ModelSpec = SPEC) -> InvalidBlob:
    with pytest.raises(InvalidBlob) as caught:
        decode(blob, spec)
    return caught.value


# --- round trip ------------------------------------------------------------------------


def test_round_trip_keeps_names_dtypes_shapes_and_values() -> None:
    original = model()
    decoded = decode(encode(original), SPEC)
    assert sorted(decoded) == sorted(original)
    for name, array in original.items():
        assert decoded[name].dtype == array.dtype
        assert decoded[name].shape == array.shape
        np.testing.assert_array_equal(decoded[name], array)


def test_decoded_arrays_are_writable_and_independent_of_the_blob() -> None:
    blob = encode(model())
    decoded = decode(blob, SPEC)
    others = [other for name, other in decoded.items() if name != "layer.0.bias"]
    for array in decoded.values():
        assert array.flags.writeable
        assert not np.shares_memory(array, np.frombuffer(blob, dtype=np.uint8))
    assert not any(np.shares_memory(decoded["layer.0.bias"], other) for other in others)
    decoded["layer.0.bias"][:] = 0
    assert decode(blob, SPEC)["layer.0.bias"].any()


def test_output_is_readable_by_the_safetensors_library() -> None:
    loaded = safetensors.numpy.load(encode(model()))
    for name, array in model().items():
        np.testing.assert_array_equal(loaded[name], array)


def test_encoded_size_is_the_exact_length_of_the_encoding() -> None:
    assert SPEC.encoded_size == len(encode(model()))


# --- canonical bytes -------------------------------------------------------------------


def test_dict_order_does_not_change_the_bytes() -> None:
    forward = model()
    backward = dict(reversed(list(forward.items())))
    assert encode(forward) == encode(backward)


def test_memory_layout_and_byte_order_do_not_change_the_bytes() -> None:
    values = np.arange(24, dtype=np.float32).reshape(4, 6)
    padded = np.zeros((4, 12), dtype=np.float32)
    padded[:, ::2] = values
    layouts = [
        values,
        np.asfortranarray(values),
        padded[:, ::2],  # strided view
        values.T.copy().T,  # transposed view of a transposed copy
        values.astype(">f4"),  # big-endian
    ]
    assert not layouts[2].flags.c_contiguous
    assert not layouts[3].flags.c_contiguous
    for array in layouts:
        np.testing.assert_array_equal(array, values)
    assert len({encode({"w": array}) for array in layouts}) == 1


def test_transposed_view_is_encoded_by_value_not_by_memory() -> None:
    # safetensors.numpy.save copies nbytes from the data pointer; a transposed view would
    # come back scrambled. Our encoder must keep the logical values.
    matrix = np.arange(6, dtype=np.float32).reshape(2, 3).T
    decoded = decode(encode({"m": matrix}), ModelSpec.from_arrays({"m": matrix}))
    np.testing.assert_array_equal(decoded["m"], matrix)


def test_bytes_match_the_safetensors_library_when_its_order_agrees() -> None:
    # Single dtype, names already sorted: the library's own layout equals ours, so the
    # canonical form is plain safetensors, not a dialect.
    tensors = {name: a for name, a in sorted(model().items()) if a.dtype == np.float32}
    assert encode(tensors) == safetensors.numpy.save(tensors)


def test_canonical_form_is_pinned() -> None:
    # Changing these bytes changes every model's identity on chain: do it on purpose only.
    tensors: Weights = {
        "b": np.array([1.0, -2.5], dtype=np.float32),
        "a": np.array([7], dtype=np.int64),
    }
    header = (
        b'{"a":{"dtype":"I64","shape":[1],"data_offsets":[0,8]},'
        b'"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}    '  # padded to 8
    )
    data = struct.pack("<q2f", 7, 1.0, -2.5)
    expected = struct.pack("<Q", len(header)) + header + data
    assert encode(tensors) == expected
    assert hashlib.sha256(expected).hexdigest() == PINNED_DIGEST


PINNED_DIGEST = "1762015bc09c21d75d77b3b1f1ecfc6ad32b7b7bd9c03f0138b77cc1d477918d"


arrays = hnp.arrays(
    dtype=st.sampled_from([np.float32, np.float64, np.int32, np.uint8, np.bool_]),
    shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4),
)


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(
        st.text(min_size=1, max_size=8).filter(lambda s: s != "__metadata__"), arrays, max_size=5
    ),
    st.randoms(),
)
def test_any_tensors_round_trip_and_any_order_gives_the_same_bytes(
    tensors: dict[str, NDArray[Any]], random: Any
) -> None:
    items = list(tensors.items())
    random.shuffle(items)
    blob = encode(tensors)
    assert encode(dict(items)) == blob
    decoded = decode(blob, ModelSpec.from_arrays(tensors)) if _finite(tensors) else None
    if decoded is not None:
        for name, array in tensors.items():
            np.testing.assert_array_equal(decoded[name], array)


def _finite(tensors: dict[str, NDArray[Any]]) -> bool:
    return all(a.dtype.kind != "f" or np.isfinite(a).all() for a in tensors.values())


# --- rejections ------------------------------------------------------------------------


def test_rejects_a_pickle() -> None:
    error = reason_of(pickle.dumps(model()))
    assert error.reason == "not-safetensors"
    assert "not a valid safetensors file" in str(error)
    assert "pickle" in str(error)


@pytest.mark.parametrize("cut", [0, 4, 8, 50, -1])
def test_rejects_a_truncated_file(cut: int) -> None:
    blob = encode(model())
    error = reason_of(blob[:cut])
    assert error.reason == "not-safetensors"


def test_rejects_trailing_garbage() -> None:
    assert reason_of(encode(model()) + b"\0" * 8).reason == "not-safetensors"


@pytest.mark.parametrize(
    ("offsets", "size"),
    [([[0, 4], [0, 4]], 4), ([[0, 4], [8, 12]], 12), ([[0, 4], [4, 8]], 6), ([[4, 0], [0, 4]], 4)],
    ids=["overlap", "gap", "out-of-range", "reversed"],
)
def test_rejects_inconsistent_offsets(offsets: list[list[int]], size: int) -> None:
    header = {
        name: {"dtype": "F32", "shape": [1], "data_offsets": span}
        for name, span in zip(["a", "b"], offsets, strict=True)
    }
    spec = ModelSpec((TensorSpec("a", (1,), "float32"), TensorSpec("b", (1,), "float32")))
    assert reason_of(raw_safetensors(header, bytes(size)), spec).reason == "not-safetensors"


def test_rejects_a_header_with_a_repeated_name() -> None:
    text = (
        b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},'
        b'"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}'
    )
    blob = struct.pack("<Q", len(text)) + text + bytes(4)
    error = reason_of(blob, ModelSpec((TensorSpec("a", (1,), "float32"),)))
    assert error.reason == "not-safetensors"
    assert "repeats" in str(error)


def test_rejects_a_missing_tensor_and_names_it() -> None:
    tensors = model()
    del tensors["layer.0.bias"]
    error = reason_of(encode(tensors))
    assert error.reason == "missing-tensor"
    assert "'layer.0.bias'" in str(error)


def test_rejects_an_extra_tensor_and_names_it() -> None:
    tensors = model() | {"backdoor": np.zeros(3, dtype=np.float32)}
    error = reason_of(encode(tensors))
    assert error.reason == "extra-tensor"
    assert "'backdoor'" in str(error)


def test_rejects_a_wrong_dtype_and_says_which() -> None:
    tensors = model()
    tensors["layer.0.weight"] = tensors["layer.0.weight"].astype(np.float64)
    error = reason_of(encode(tensors))
    assert error.reason == "wrong-dtype"
    assert "'layer.0.weight' is float64, the model wants float32" in str(error)


def test_rejects_a_dtype_numpy_cannot_hold() -> None:
    header = {"a": {"dtype": "BF16", "shape": [1], "data_offsets": [0, 2]}}
    error = reason_of(
        raw_safetensors(header, bytes(8)[:2]), ModelSpec((TensorSpec("a", (1,), "float16"),))
    )
    assert error.reason == "wrong-dtype"
    assert "BF16" in str(error)


def test_rejects_a_wrong_shape_and_gives_both_shapes() -> None:
    tensors = model()
    tensors["layer.0.weight"] = tensors["layer.0.weight"].reshape(3, 4)
    error = reason_of(encode(tensors))
    assert error.reason == "wrong-shape"
    assert "[3, 4]" in str(error) and "[4, 3]" in str(error)


@pytest.mark.parametrize(
    ("value", "label"), [(np.nan, "1 NaN and 0"), (np.inf, "0 NaN and 1"), (-np.inf, "0 NaN and 1")]
)
def test_rejects_non_finite_values(value: float, label: str) -> None:
    tensors = model()
    tensors["layer.0.weight"][1, 2] = value
    error = reason_of(encode(tensors))
    assert error.reason == "non-finite"
    assert label in str(error)
    assert "'layer.0.weight'" in str(error)


def test_rejects_non_finite_half_precision() -> None:
    tensors = model()
    tensors["half"][0, 0] = np.float16(np.inf)
    assert reason_of(encode(tensors)).reason == "non-finite"


def test_rejects_metadata_padding_as_oversized() -> None:
    blob = safetensors.numpy.save(model(), metadata={"note": "x" * 1000})
    error = reason_of(blob)
    assert error.reason == "oversized"
    assert str(SPEC.encoded_size) in str(error)


def test_accepts_the_safetensors_library_own_layout() -> None:
    # Another valid writer (different tensor order, same tensors) is still accepted.
    blob = safetensors.numpy.save(model())
    assert blob != encode(model())
    assert len(blob) == SPEC.encoded_size
    decoded = decode(blob, SPEC)
    np.testing.assert_array_equal(decoded["half"], model()["half"])


def test_a_canonical_blob_and_another_writers_decode_alike() -> None:
    """Another valid writer's blob of the same tensors decodes to the very same arrays."""
    ours = decode(encode(model()), SPEC)
    theirs = decode(safetensors.numpy.save(model()), SPEC)
    assert list(ours) == list(theirs) == list(SPEC.names)
    for name, array in theirs.items():
        assert ours[name].dtype == array.dtype and ours[name].shape == array.shape
        assert ours[name].flags.writeable and ours[name].flags.c_contiguous
        np.testing.assert_array_equal(ours[name], array)


def test_a_canonical_header_does_not_excuse_a_bad_body() -> None:
    blob = encode(model())
    assert reason_of(blob[:-1]).reason == "not-safetensors"
    nan = encode({**model(), "half": np.array([[np.nan, 0], [0, 0]], dtype=np.float16)})
    assert reason_of(nan).reason == "non-finite"


# --- what cannot be encoded ------------------------------------------------------------


@pytest.mark.parametrize(
    "tensors",
    [
        {"x": np.array([object()])},
        {"x": np.array([1 + 2j])},
        {"x": np.array(["text"])},
        {"__metadata__": np.zeros(1)},
        {"": np.zeros(1)},
        {1: np.zeros(1)},
        {"\ud800": np.zeros(1)},
    ],
    ids=["object", "complex", "str", "reserved", "empty-name", "int-name", "surrogate"],
)
def test_encode_refuses_what_safetensors_cannot_carry(tensors: Any) -> None:
    with pytest.raises(InvalidBlob) as caught:
        encode(tensors)
    assert caught.value.reason == "unencodable"


# --- specs -----------------------------------------------------------------------------


def test_spec_is_order_independent_and_rejects_bad_entries() -> None:
    a, b = TensorSpec("a", (1,), "float32"), TensorSpec("b", [2, 3], "int64")  # type: ignore[arg-type]
    assert ModelSpec((a, b)) == ModelSpec((b, a))
    assert b.shape == (2, 3)
    assert ModelSpec((a, b)).names == ("a", "b")
    with pytest.raises(StorageError, match="more than once"):
        ModelSpec((a, a))
    with pytest.raises(StorageError, match="not supported"):
        TensorSpec("c", (1,), "complex64")
    with pytest.raises(StorageError, match="non-negative"):
        TensorSpec("c", (-1,), "float32")
