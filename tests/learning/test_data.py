from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from daofed.errors import LearningError
from daofed.learning import (
    Dataset,
    FederatedSplit,
    load_member_file,
    save_member_file,
    split_federated,
)


def _rows(ds: Dataset) -> list[bytes]:
    """Each sample as bytes (features + label), to compare data sets as multisets."""
    return sorted(
        x.tobytes() + int(y).to_bytes(2, "little") for x, y in zip(ds.x, ds.y, strict=True)
    )


def _all_parts(split: FederatedSplit) -> list[Dataset]:
    return [split.test] + [d for m in split.members for d in (m.train, m.val)]


def _label_hist(ds: Dataset) -> np.ndarray:
    return np.bincount(ds.y, minlength=10) / len(ds)


def test_load_digits_is_scaled_float32(digits: Dataset) -> None:
    assert digits.x.shape == (1797, 64) and digits.x.dtype == np.float32
    assert digits.y.shape == (1797,) and digits.y.dtype == np.int64
    assert digits.x.min() == 0.0 and digits.x.max() == 1.0
    assert set(np.unique(digits.y)) == set(range(10))


@pytest.mark.parametrize("alpha", [None, 0.5, 0.1])
def test_split_covers_every_sample_exactly_once(digits: Dataset, alpha: float | None) -> None:
    split = split_federated(digits, 5, alpha=alpha, seed=3)
    assert len(split.members) == 5
    assert _rows(Dataset.concat(_all_parts(split))) == _rows(digits)


def test_test_set_is_stratified(digits: Dataset) -> None:
    split = split_federated(digits, 4, alpha=0.1, seed=0)
    per_class = np.bincount(digits.y, minlength=10)
    assert np.array_equal(np.bincount(split.test.y, minlength=10), np.round(0.2 * per_class))


def test_iid_members_get_equal_shares_and_a_tenth_for_validation(digits: Dataset) -> None:
    split = split_federated(digits, 5, alpha=None, seed=1)
    sizes = [len(m.train) + len(m.val) for m in split.members]
    assert max(sizes) - min(sizes) <= 1
    for m in split.members:
        n = len(m.train) + len(m.val)
        assert len(m.val) == round(0.1 * n)


def test_dirichlet_gives_every_member_the_minimum(digits: Dataset) -> None:
    for seed in range(5):
        split = split_federated(digits, 10, alpha=0.05, seed=seed, min_samples=25)
        assert min(len(m.train) + len(m.val) for m in split.members) >= 25
        assert all(len(m.val) >= 1 for m in split.members)


def test_small_alpha_skews_labels_and_large_alpha_does_not(digits: Dataset) -> None:
    def mean_tv_distance(alpha: float | None) -> float:
        split = split_federated(digits, 5, alpha=alpha, seed=7, val_fraction=0.0)
        overall = _label_hist(Dataset.concat([m.train for m in split.members]))
        return float(
            np.mean([0.5 * abs(_label_hist(m.train) - overall).sum() for m in split.members])
        )

    iid, wide, skewed = mean_tv_distance(None), mean_tv_distance(100.0), mean_tv_distance(0.1)
    assert iid < 0.1 and wide < 0.1
    assert skewed > 0.5


def test_split_is_a_function_of_the_seed(digits: Dataset) -> None:
    a = split_federated(digits, 3, alpha=0.5, seed=11)
    b = split_federated(digits, 3, alpha=0.5, seed=11)
    c = split_federated(digits, 3, alpha=0.5, seed=12)
    for x, y in zip(_all_parts(a), _all_parts(b), strict=True):
        assert np.array_equal(x.x, y.x) and np.array_equal(x.y, y.y)
    assert not np.array_equal(a.members[0].train.y, c.members[0].train.y)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"num_members": 0, "alpha": None}, "num_members"),
        ({"num_members": 200, "alpha": None}, "fewer members"),
        ({"num_members": 3, "alpha": 0.0}, "alpha"),
        ({"num_members": 3, "alpha": None, "test_fraction": 1.0}, "test_fraction"),
        ({"num_members": 50, "alpha": 0.01, "min_samples": 25}, "raise alpha"),
    ],
)
def test_split_rejects_impossible_requests(
    digits: Dataset, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(LearningError, match=message):
        split_federated(digits, seed=0, **kwargs)  # type: ignore[arg-type]


def test_dataset_checks_its_arrays() -> None:
    with pytest.raises(LearningError, match="float32"):
        Dataset(x=np.zeros((2, 3)), y=np.zeros(2, dtype=np.int64))  # type: ignore[arg-type]
    with pytest.raises(LearningError, match="labels"):
        Dataset(x=np.zeros((2, 3), np.float32), y=np.zeros(3, dtype=np.int64))
    with pytest.raises(LearningError, match="NaN"):
        Dataset(x=np.full((1, 3), np.nan, np.float32), y=np.zeros(1, dtype=np.int64))


@pytest.mark.parametrize("suffix", [".npz", ".csv"])
def test_member_file_round_trip(tmp_path: Path, digits: Dataset, suffix: str) -> None:
    ds = Dataset(x=digits.x[:50].copy(), y=digits.y[:50].copy())
    path = tmp_path / f"member{suffix}"
    save_member_file(path, ds)
    back = load_member_file(path)
    assert back.x.dtype == np.float32 and back.y.dtype == np.int64
    assert np.array_equal(back.x, ds.x) and np.array_equal(back.y, ds.y)


def test_csv_with_header(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text("a,b,label\n0.5,0.25,3\n1,0,1\n")
    ds = load_member_file(path)
    assert ds.x.tolist() == [[0.5, 0.25], [1.0, 0.0]] and ds.y.tolist() == [3, 1]


def test_npz_with_objects_is_refused_without_unpickling(tmp_path: Path) -> None:
    path = tmp_path / "evil.npz"
    np.savez(path, x=np.array([object()], dtype=object), y=np.zeros(1, np.int64))
    with pytest.raises(LearningError, match=r"not a numeric \.npz file"):
        load_member_file(path)


def test_a_text_file_named_npz_gets_no_advice_to_unpickle(tmp_path: Path) -> None:
    path = tmp_path / "notes.npz"
    path.write_text("these are notes, not arrays\n")
    with pytest.raises(LearningError, match=r"not a numeric \.npz file") as raised:
        load_member_file(path)
    assert "pickle" not in str(raised.value) and "np.savez" in str(raised.value)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"x": np.zeros((2, 4))}, "lacks"),
        ({"x": np.full((2, 4), 16.0), "y": np.zeros(2)}, "scale them"),
        ({"x": np.zeros((2, 4)), "y": np.array([0.5, 1.0])}, "whole numbers"),
        ({"x": np.zeros((2, 4)), "y": np.zeros(3)}, "expected x"),
    ],
)
def test_bad_npz_files(tmp_path: Path, content: dict[str, np.ndarray], message: str) -> None:
    path = tmp_path / "m.npz"
    np.savez(path, **content)
    with pytest.raises(LearningError, match=message):
        load_member_file(path)


def test_unknown_suffix_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(LearningError, match="does not exist"):
        load_member_file(tmp_path / "nope.npz")
    (tmp_path / "m.txt").write_text("1,2\n")
    with pytest.raises(LearningError, match=r"\.npz or \.csv"):
        load_member_file(tmp_path / "m.txt")
