"""Data sets for members: loading, federated partitioning and member data files.

The demo data is scikit-learn's bundled handwritten digits (1,797 8x8 images, ten
classes): real data that needs no download, small enough that a whole federation
trains in seconds on a laptop CPU.

Partitioning follows the usual FL benchmark recipe: a stratified held-out test set
shared by everybody (so federated and centralized accuracy are comparable), then the
rest split over members either IID or with Dirichlet(alpha) label skew (Hsu et al.,
2019, "Measuring the effects of non-identical data distribution"), then each member's
share split into train and validation. Everything is drawn from one seeded
``numpy.random.Generator`` so the same seed gives the same split.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import numpy as np
import numpy.typing as npt

from daofed.errors import LearningError
from daofed.extras import require

#: Features of the digits images: 8x8 pixels flattened.
DIGITS_FEATURES = 64
#: Pixel values in sklearn's digits go from 0 to 16; dividing by this maps them to [0, 1].
DIGITS_MAX_PIXEL = 16.0
#: Attempts at drawing a Dirichlet partition that gives every member enough samples.
_MAX_DIRICHLET_DRAWS = 1000


@dataclass(frozen=True, eq=False)
class Dataset:
    """Features ``x`` (float32, ``[n, d]``, scaled to [0, 1]) and labels ``y`` (int64, ``[n]``).

    Checked on construction so that every function taking a ``Dataset`` can trust it.
    """

    x: npt.NDArray[np.float32]
    y: npt.NDArray[np.int64]

    def __post_init__(self) -> None:
        if self.x.dtype != np.float32 or self.x.ndim != 2:
            raise LearningError(
                f"features must be a float32 matrix [n, d], got {self.x.dtype} with shape "
                f"{self.x.shape}; convert with x.astype(np.float32).reshape(n, -1)"
            )
        if self.y.dtype != np.int64 or self.y.ndim != 1:
            raise LearningError(
                f"labels must be an int64 vector [n], got {self.y.dtype} with shape "
                f"{self.y.shape}; convert with y.astype(np.int64)"
            )
        if self.x.shape[0] != self.y.shape[0]:
            raise LearningError(
                f"{self.x.shape[0]} feature rows but {self.y.shape[0]} labels; "
                "every sample needs exactly one label"
            )
        if not np.isfinite(self.x).all():
            raise LearningError("features contain NaN or infinity; clean the data first")
        if self.y.size and int(self.y.min()) < 0:
            raise LearningError("labels must be class indices >= 0")

    def __len__(self) -> int:
        return int(self.y.shape[0])

    def subset(self, indices: npt.NDArray[np.intp]) -> Dataset:
        """Rows ``indices`` as a new, independent ``Dataset`` (copies, in that order)."""
        return Dataset(x=self.x[indices].copy(), y=self.y[indices].copy())

    @classmethod
    def concat(cls, datasets: Sequence[Dataset]) -> Dataset:
        """Pool data sets into one, in the given order (what a centralized baseline sees)."""
        if not datasets:
            raise LearningError("nothing to pool: pass at least one data set")
        widths = sorted({d.x.shape[1] for d in datasets})
        if len(widths) != 1:
            raise LearningError(f"cannot pool data sets with different feature counts {widths}")
        return cls(
            x=np.concatenate([d.x for d in datasets]), y=np.concatenate([d.y for d in datasets])
        )


@dataclass(frozen=True, eq=False)
class MemberData:
    """One member's private data: ``train`` for local training, ``val`` for its own checks."""

    train: Dataset
    val: Dataset


@dataclass(frozen=True, eq=False)
class FederatedSplit:
    """Member shares plus the held-out ``test`` set that every comparison is made on."""

    members: tuple[MemberData, ...]
    test: Dataset


def _sklearn_datasets() -> ModuleType:
    """scikit-learn's bundled datasets: the ``demo`` extra, and a slow import, so on use."""
    return require("sklearn.datasets", "demo", "the built-in tasks' datasets")


def load_digits() -> Dataset:
    """Return sklearn's bundled digits with pixels scaled to [0, 1] (1,797 samples, 64 features)."""
    bunch = _sklearn_datasets().load_digits()
    x = (np.asarray(bunch.data, dtype=np.float64) / DIGITS_MAX_PIXEL).astype(np.float32)
    y = np.asarray(bunch.target, dtype=np.int64)
    return Dataset(x=x, y=y)


def load_breast_cancer() -> Dataset:
    """Return sklearn's bundled Wisconsin breast cancer table, features min-max scaled to [0, 1].

    569 samples, 30 features, labels 0 (malignant) and 1 (benign). The scaling uses the
    bundled table's own per-feature range, a fixed property of the data set, so member
    files written by ``daofed data split`` and test sets agree on it.
    """
    bunch = _sklearn_datasets().load_breast_cancer()
    x = np.asarray(bunch.data, dtype=np.float64)
    low, high = x.min(axis=0), x.max(axis=0)
    scaled = ((x - low) / np.where(high > low, high - low, 1.0)).astype(np.float32)
    return Dataset(x=scaled, y=np.asarray(bunch.target, dtype=np.int64))


def split_federated(
    ds: Dataset,
    num_members: int,
    *,
    alpha: float | None,
    seed: int,
    test_fraction: float = 0.2,
    val_fraction: float = 0.1,
    min_samples: int = 10,
) -> FederatedSplit:
    """Split ``ds`` into a shared test set and ``num_members`` member shares.

    - The test set takes ``round(test_fraction * n_c)`` samples of every class ``c``
      (stratified), so it measures all classes whatever the member skew.
    - ``alpha=None``: the rest is shuffled and cut into ``num_members`` near-equal parts
      (IID). ``alpha > 0``: for every class, member proportions are drawn from
      Dirichlet(alpha, ..., alpha) and that class's samples are cut accordingly; small
      alpha (0.1) gives members few classes, large alpha (100) approaches IID.
    - Every member gets at least ``min_samples`` samples (train + val). A Dirichlet draw
      that breaks this is redrawn (as Flower's ``DirichletPartitioner`` does), up to
      1,000 times, so the result is still a function of ``seed``.
    - Each member's share is shuffled and its first ``round(val_fraction * n)`` samples
      (at least one when ``val_fraction > 0``) become its validation set.
    """
    _check_split_args(len(ds), num_members, alpha, test_fraction, val_fraction, min_samples)
    rng = np.random.default_rng(seed)
    test_idx, pool_idx = _stratified_holdout(ds.y, test_fraction, rng)
    if len(pool_idx) < num_members * min_samples:
        raise LearningError(
            f"{len(pool_idx)} samples left after the test split cannot give {num_members} "
            f"members {min_samples} samples each; use fewer members, a smaller "
            "min_samples or a smaller test_fraction"
        )
    if alpha is None:
        shares = np.array_split(rng.permutation(pool_idx), num_members)
    else:
        shares = _dirichlet_shares(ds.y, pool_idx, num_members, alpha, min_samples, rng)
    members = []
    for share in shares:
        order = rng.permutation(share)
        n_val = _val_count(len(order), val_fraction)
        members.append(MemberData(train=ds.subset(order[n_val:]), val=ds.subset(order[:n_val])))
    return FederatedSplit(members=tuple(members), test=ds.subset(np.sort(test_idx)))


def _check_split_args(
    n: int,
    num_members: int,
    alpha: float | None,
    test_fraction: float,
    val_fraction: float,
    min_samples: int,
) -> None:
    if num_members < 1:
        raise LearningError(f"num_members must be >= 1, got {num_members}")
    if alpha is not None and not (math.isfinite(alpha) and alpha > 0):
        raise LearningError(f"alpha must be a positive number or None for IID, got {alpha}")
    if not 0.0 < test_fraction < 1.0:
        raise LearningError(f"test_fraction must be in (0, 1), got {test_fraction}")
    if not 0.0 <= val_fraction < 1.0:
        raise LearningError(f"val_fraction must be in [0, 1), got {val_fraction}")
    if min_samples < 2:
        raise LearningError(f"min_samples must be >= 2 (one train, one val), got {min_samples}")
    if n == 0:
        raise LearningError("the data set is empty")


def _stratified_holdout(
    y: npt.NDArray[np.int64], fraction: float, rng: np.random.Generator
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    held: list[npt.NDArray[np.intp]] = []
    rest: list[npt.NDArray[np.intp]] = []
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        k = round(fraction * len(idx))
        held.append(idx[:k])
        rest.append(idx[k:])
    return np.sort(np.concatenate(held)), np.sort(np.concatenate(rest))


def _dirichlet_shares(
    y: npt.NDArray[np.int64],
    pool_idx: npt.NDArray[np.intp],
    num_members: int,
    alpha: float,
    min_samples: int,
    rng: np.random.Generator,
) -> list[npt.NDArray[np.intp]]:
    classes = np.unique(y[pool_idx])
    for _ in range(_MAX_DIRICHLET_DRAWS):
        parts: list[list[npt.NDArray[np.intp]]] = [[] for _ in range(num_members)]
        for c in classes:
            idx = rng.permutation(pool_idx[y[pool_idx] == c])
            props = rng.dirichlet(np.full(num_members, alpha))
            cuts = (np.cumsum(props)[:-1] * len(idx)).astype(np.intp)
            for member, piece in enumerate(np.split(idx, cuts)):
                parts[member].append(piece)
        shares = [np.concatenate(p) for p in parts]
        if min(len(s) for s in shares) >= min_samples:
            return shares
    raise LearningError(
        f"{_MAX_DIRICHLET_DRAWS} Dirichlet(alpha={alpha}) draws all left a member with fewer "
        f"than {min_samples} samples; raise alpha, lower min_samples or use fewer members"
    )


def _val_count(n: int, val_fraction: float) -> int:
    if val_fraction == 0.0:
        return 0
    return min(max(1, round(val_fraction * n)), n - 1)


# --- member data files ---------------------------------------------------------------


def save_npz(path: Path, ds: Dataset) -> None:
    """Write ``ds`` as an ``.npz`` with arrays ``x`` and ``y`` (no pickled objects)."""
    with Path(path).open("wb") as fh:
        np.savez(fh, x=ds.x, y=ds.y)


def save_csv(path: Path, ds: Dataset) -> None:
    """Write ``ds`` as CSV: one row per sample, features then the label in the last column."""
    table = np.column_stack([ds.x.astype(np.float64), ds.y.astype(np.float64)])
    fmt = ["%.9g"] * ds.x.shape[1] + ["%d"]
    np.savetxt(path, table, fmt=fmt, delimiter=",")


def save_member_file(path: Path, ds: Dataset) -> None:
    """Write ``ds`` in the format named by the suffix of ``path`` (``.npz`` or ``.csv``)."""
    suffix = Path(path).suffix.lower()
    if suffix == ".npz":
        save_npz(path, ds)
    elif suffix == ".csv":
        save_csv(path, ds)
    else:
        raise LearningError(f"cannot write {path}: use a .npz or .csv file name")


def load_member_file(path: Path) -> Dataset:
    """Read a member's private data from ``.npz`` (arrays ``x``, ``y``) or ``.csv``.

    ``.npz`` files are opened with ``allow_pickle=False``: a data file must never be able
    to run code. CSV files hold one sample per row, the integer label in the last column;
    a first line that is not numeric is taken as a header. Features must already be
    scaled to [0, 1] (the digits model expects that; raw digits pixels go to 16).
    """
    path = Path(path)
    if not path.is_file():
        raise LearningError(f"member data file {path} does not exist")
    suffix = path.suffix.lower()
    if suffix == ".npz":
        x, y = _read_npz(path)
    elif suffix == ".csv":
        x, y = _read_csv(path)
    else:
        raise LearningError(f"cannot read {path}: member data must be a .npz or .csv file")
    if x.ndim != 2 or y.ndim != 1 or len(x) != len(y) or len(y) == 0:
        raise LearningError(
            f"{path}: expected x [n, d] and y [n] with n > 0, got x {x.shape} and y {y.shape}"
        )
    if not np.isfinite(x).all():
        raise LearningError(f"{path}: features contain NaN or infinity")
    if float(x.min()) < 0.0 or float(x.max()) > 1.0:
        raise LearningError(
            f"{path}: features range over [{float(x.min())}, {float(x.max())}]; scale them "
            f"to [0, 1] first (raw digits pixels: divide by {DIGITS_MAX_PIXEL:g})"
        )
    if not np.issubdtype(y.dtype, np.integer) and not _whole_numbers(y):
        raise LearningError(f"{path}: labels must be whole numbers (class indices)")
    return Dataset(x=x.astype(np.float32), y=y.astype(np.int64))


def _read_npz(path: Path) -> tuple[npt.NDArray[np.generic], npt.NDArray[np.generic]]:
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = {"x", "y"} - set(npz.files)
            if missing:
                raise LearningError(
                    f"{path} lacks array(s) {sorted(missing)}; save features as 'x' and "
                    "labels as 'y' (np.savez(path, x=..., y=...))"
                )
            x, y = npz["x"], npz["y"]
    except (ValueError, OSError, EOFError):
        # numpy's own message for bytes that are not a zip of arrays suggests loading them
        # with pickle: never repeated here, since a data file must never run code
        raise LearningError(
            f"{path} is not a numeric .npz file (a zip of plain arrays): save it with "
            "np.savez(path, x=features, y=labels), features and labels numeric"
        ) from None
    if not (_is_real(x) and _is_real(y)):
        raise LearningError(f"{path}: x and y must be numeric arrays, got {x.dtype}, {y.dtype}")
    return x, y


def _whole_numbers(y: npt.NDArray[np.generic]) -> bool:
    values = np.asarray(y, dtype=np.float64)
    return bool(np.isfinite(values).all() and (values == np.round(values)).all())


def _is_real(a: npt.NDArray[np.generic]) -> bool:
    return bool(np.issubdtype(a.dtype, np.integer) or np.issubdtype(a.dtype, np.floating))


def _read_csv(path: Path) -> tuple[npt.NDArray[np.generic], npt.NDArray[np.generic]]:
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    if lines and not _is_numeric_row(lines[0]):
        lines = lines[1:]  # header
    try:
        table = np.loadtxt(io.StringIO("\n".join(lines)), delimiter=",", ndmin=2)
    except ValueError as exc:
        raise LearningError(
            f"{path}: every row must be comma-separated numbers, label last: {exc}"
        ) from exc
    if table.shape[1] < 2:
        raise LearningError(f"{path}: need at least one feature column and a label column")
    return table[:, :-1], table[:, -1]


def _is_numeric_row(line: str) -> bool:
    try:
        [float(cell) for cell in line.split(",")]
    except ValueError:
        return False
    return True
