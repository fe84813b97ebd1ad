"""Test accuracy of the model each round left behind, on a held-out test set.

The default test set is the digits' held-out split that ``daofed demo`` and
``daofed data split`` measure on: ``split_federated(load_digits(), n, seed=seed).test``.
It is drawn first from the seeded generator and stratified by class, so it depends on the
seed and ``test_fraction`` only, never on the number of members or on ``alpha``: one
auditor's default is every member's test set for the same seed. A federation that
trained on other data passes its own test set (``load_test_set``; ``--test-data``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from daofed.audit.model import fetch_genesis
from daofed.audit.records import History, Outcome
from daofed.errors import BlobNotFound, ConfigError, DigestMismatch, InvalidBlob, LearningError
from daofed.learning import (
    Dataset,
    ModelConfig,
    evaluate,
    load_digits,
    load_member_file,
    split_federated,
)
from daofed.storage import BlobRef, BlobStore, ModelSpec, decode

DEFAULT_TEST_SEED = 0
"""The seed of the default test set: ``daofed demo``'s and ``daofed data split``'s default."""


@dataclass(frozen=True)
class RoundAccuracy:
    """Accuracy of the model round ``round`` left behind (round 0: the genesis model).

    ``accepted`` is False when the round ended without a new model (closed without
    quorum): the model is its base, carried over.
    """

    round: int
    digest: str
    accepted: bool
    accuracy: float | None  # None: the model's blob cannot be fetched or decoded


def default_test_set(seed: int = DEFAULT_TEST_SEED) -> Dataset:
    """Return the digits' held-out test split for ``seed`` (359 samples, all ten classes)."""
    return split_federated(load_digits(), 1, alpha=None, seed=seed).test


def load_test_set(path: Path) -> Dataset:
    """Read a test set file (``.npz`` with ``x``, ``y``, or ``.csv`` with the label last)."""
    try:
        return load_member_file(path)
    except LearningError as error:
        raise ConfigError(f"cannot use {path} as test data: {error}") from None


def evaluate_history(
    history: History, store: BlobStore, test: Dataset
) -> tuple[RoundAccuracy, ...]:
    """Evaluate the genesis model and every finished round's model on ``test``.

    Each model is fetched by its on-chain digest (so verified), decoded against the spec
    of the genesis model, and evaluated with the MLP that spec describes. Open rounds have
    no result yet and are left out.
    """
    genesis = BlobRef.from_hex(history.genesis_digest, history.genesis_cid)
    spec, weights = fetch_genesis(store, genesis)
    config = model_config_of(spec)
    _check_features(config, test)
    results = [RoundAccuracy(0, history.genesis_digest, True, evaluate(config, weights, test))]
    scores: dict[str, float | None] = {history.genesis_digest: results[0].accuracy}
    for record in history.rounds:
        if record.outcome is Outcome.OPEN:
            continue
        digest = record.result_digest
        if digest not in scores:
            ref = BlobRef.from_hex(digest, record.result_cid)
            try:
                model = decode(store.get(ref, max_bytes=spec.encoded_size), spec)
            except (BlobNotFound, DigestMismatch, InvalidBlob):
                scores[digest] = None  # verify() says what is wrong with it
            else:
                scores[digest] = evaluate(config, model, test)
        accepted = record.outcome is Outcome.ACCEPTED
        results.append(RoundAccuracy(record.round, digest, accepted, scores[digest]))
    return tuple(results)


def _check_features(config: ModelConfig, test: Dataset) -> None:
    if test.x.shape[1] != config.input_dim:
        raise ConfigError(
            f"the test data has {test.x.shape[1]} features but the federation's model takes "
            f"{config.input_dim}: pass test data of the federation's task (--test-data)"
        )
    if len(test) == 0:
        raise ConfigError("the test data is empty: pass a file with at least one sample")


def model_config_of(spec: ModelSpec) -> ModelConfig:
    """Recover the daofed MLP whose tensors are exactly ``spec`` (to evaluate accuracy).

    Layers are ``0.weight, 0.bias, 2.weight, ...`` (``nn.Sequential`` numbering, ReLUs at
    odd indices), each weight ``[fan_out, fan_in]``.
    """
    shapes = {tensor.name: tensor.shape for tensor in spec.tensors}
    problem = ConfigError(
        f"the genesis model's tensors {sorted(shapes)} are not a daofed MLP, so its accuracy "
        "cannot be evaluated here; audit without --plot, or evaluate it with its own code"
    )
    try:
        layers = sorted(int(name.split(".")[0]) for name in shapes if name.endswith(".weight"))
        sizes = (shapes[f"{layers[0]}.weight"][1], *(shapes[f"{n}.weight"][0] for n in layers))
        config = ModelConfig(input_dim=sizes[0], hidden=tuple(sizes[1:-1]), num_classes=sizes[-1])
    except (IndexError, KeyError, ValueError, LearningError):
        raise problem from None
    if config.tensor_shapes() != shapes or any(t.dtype != "float32" for t in spec.tensors):
        raise problem
    return config
