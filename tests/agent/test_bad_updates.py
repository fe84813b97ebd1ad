"""Bad bytes from a member never break a round: each is excluded with its reason.

Honest MemberAgents and one or more "bad" members share a real Federation on the embedded
chain and one LocalStore. A bad member commits (with a valid transaction) to a blob that
is hostile or broken in one way; every honest agent must leave it out with the right
reason tag, report it as an EXCLUDED event, compute byte-identical aggregates from the
honest updates alone, and the round must be accepted.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import pickletools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from eth_account.signers.local import LocalAccount

from daofed.agent import AgentEvent, MemberAgent, MemberSettings, Step
from daofed.chain import Federation, Phase, dev_accounts, embedded_chain
from daofed.learning import FederatedSplit, ModelConfig, load_digits, model_spec, split_federated
from daofed.learning.aggregation import MemberUpdate, apply_delta, fedavg, l2_norm
from daofed.protocol import UpdatePolicy
from daofed.storage import BlobRef, LocalStore, Weights, decode, encode
from tests.federations import DIGITS, deploy

SPEC = model_spec(ModelConfig())
MAX_NORM = 100.0  # honest one-epoch updates here have norms of ~4.5
HONEST = 2
BAD_SAMPLES = 100


@pytest.fixture(scope="module")
def split() -> FederatedSplit:
    return split_federated(load_digits(), 4, alpha=None, seed=0)


def plausible_delta() -> Weights:
    """A delta with the model's exact layout and a small norm: the base to corrupt."""
    rng = np.random.default_rng(0)
    return {t.name: rng.normal(0.0, 0.01, size=t.shape).astype(np.float32) for t in SPEC.tensors}


def raw(data: bytes) -> Callable[[LocalStore, Path], BlobRef]:
    """Store ``data`` as it is and commit to its true digest."""
    return lambda store, _tmp: store.put(data)


def tensors(change: Callable[[Weights], Weights]) -> Callable[[LocalStore, Path], BlobRef]:
    """Commit to the canonical encoding of a plausible delta after ``change``."""
    return raw(encode(change(plausible_delta())))


def with_value(value: float) -> Callable[[Weights], Weights]:
    def change(delta: Weights) -> Weights:
        delta["0.weight"][3, 5] = value
        return delta

    return change


class RunsCode:
    """Unpickling this creates a directory: proof that something unpickled the blob."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Callable[[str], None], tuple[str]]:
        return os.mkdir, (str(self.marker),)


def hostile_pickle(store: LocalStore, tmp: Path) -> BlobRef:
    return store.put(pickle.dumps({"0.weight": RunsCode(tmp / "pickle-ran")}))


def truncated(store: LocalStore, _tmp: Path) -> BlobRef:
    data = encode(plausible_delta())
    return store.put(data[: len(data) // 2])


def extra_tensor_that_fits(store: LocalStore, _tmp: Path) -> BlobRef:
    """An extra tensor, made to fit the size limit by halving another tensor's dtype."""
    delta = plausible_delta()
    delta["0.weight"] = delta["0.weight"].astype(np.float16)
    delta["zz.extra"] = np.ones(4, np.float32)
    return store.put(encode(delta))


def wrong_digest(store: LocalStore, _tmp: Path) -> BlobRef:
    """On chain: the digest of one blob; in the store under that digest: other bytes."""
    claimed = encode(with_value(0.5)(plausible_delta()))
    ref = store.put(claimed)
    store.path_for(ref.digest).write_bytes(encode(plausible_delta()))
    return ref


def missing_blob(_store: LocalStore, _tmp: Path) -> BlobRef:
    digest = hashlib.sha256(b"never stored anywhere").digest()
    return BlobRef(digest, digest.hex())


BadBlob = Callable[[LocalStore, Path], BlobRef]

CASES: dict[str, tuple[BadBlob, str]] = {
    "pickle": (hostile_pickle, "not-safetensors"),
    "truncated": (truncated, "not-safetensors"),
    "garbage": (raw(b"\x00" * 64), "not-safetensors"),
    # all the model's tensors plus one more can only be larger than the canonical
    # encoding: the fetch stops at the size limit, before any parsing
    "extra-tensor": (
        tensors(lambda d: d | {"zz.extra": np.ones(4, np.float32)}),
        "oversized",
    ),
    "extra-tensor-that-fits": (extra_tensor_that_fits, "extra-tensor"),
    "missing-tensor": (
        tensors(lambda d: {k: v for k, v in d.items() if k != "2.bias"}),
        "missing-tensor",
    ),
    "wrong-dtype": (
        tensors(lambda d: {k: v.astype(np.float16) for k, v in d.items()}),
        "wrong-dtype",
    ),
    "wrong-shape": (tensors(lambda d: d | {"2.weight": d["2.weight"].T.copy()}), "wrong-shape"),
    "nan": (tensors(with_value(float("nan"))), "non-finite"),
    "inf": (tensors(with_value(float("inf"))), "non-finite"),
    "minus-inf": (tensors(with_value(float("-inf"))), "non-finite"),
    "oversized": (raw(encode(plausible_delta()) * 4), "oversized"),
    "wrong-digest": (wrong_digest, "wrong-digest"),
    "missing-blob": (missing_blob, "missing-blob"),
    "norm-bound": (
        tensors(lambda d: {k: np.full_like(v, 3.0) for k, v in d.items()}),
        "norm-bound",
    ),
}


@dataclass
class Federated:
    federation: Federation
    store: LocalStore
    agents: list[MemberAgent]
    bad: list[LocalAccount]
    events: list[AgentEvent]
    genesis: Weights


@pytest.fixture
def federated(split: FederatedSplit, tmp_path: Path, request: pytest.FixtureRequest) -> Federated:
    bad_count: int = getattr(request, "param", 1)
    deployer, *accounts = dev_accounts(1 + HONEST + bad_count)
    honest, bad = accounts[:HONEST], accounts[HONEST:]
    store = LocalStore(tmp_path / "store")
    genesis = DIGITS.initial_weights(0)
    # the honest members alone accept the round
    federation = deploy(embedded_chain(), store, deployer, accounts, quorum=HONEST, window=3600)
    settings = MemberSettings(options={"epochs": 1}, policy=UpdatePolicy(max_norm=MAX_NORM))
    events: list[AgentEvent] = []
    agents = [
        MemberAgent(
            federation, store, account, DIGITS, split.members[i].train, settings, events.append
        )
        for i, account in enumerate(honest)
    ]
    return Federated(federation, store, agents, bad, events, genesis)


def run_round(f: Federated, bad_refs: list[BlobRef]) -> None:
    """Honest agents submit, bad members submit, honest agents aggregate and vote."""
    assert [agent.step().step for agent in f.agents] == [Step.SUBMITTED] * HONEST
    for account, ref in zip(f.bad, bad_refs, strict=True):
        f.federation.submit_update(account, 1, ref, BAD_SAMPLES)
    assert f.federation.phase(1) is Phase.VOTE
    assert [agent.step().step for agent in f.agents] == [Step.VOTED] * HONEST


def expected_aggregate(f: Federated) -> bytes:
    """The round's aggregate computed from the honest submissions only, independently."""
    honest = {agent.address for agent in f.agents}
    updates = [
        MemberUpdate(s.member, s.num_samples, decode(f.store.get(s.ref), SPEC))
        for s in f.federation.updates(1)
        if s.member in honest
    ]
    assert len(updates) == HONEST
    assert all(l2_norm(u.delta) < MAX_NORM for u in updates)  # the bound spares honest updates
    return encode(apply_delta(f.genesis, fedavg(updates)))


def check_round(f: Federated, reasons: dict[str, str]) -> None:
    """``reasons``: bad member address -> the reason tag every honest agent must give."""
    honest = sorted((agent.address for agent in f.agents), key=str.lower)
    blob = expected_aggregate(f)
    for agent in f.agents:
        result = agent.aggregate(1)
        assert result.blob == blob  # byte-identical across honest members
        assert list(result.included) == honest
        assert {e.member: e.reason for e in result.excluded} == reasons
        assert all(e.message for e in result.excluded)
        reported = [e for e in f.events if e.member == agent.address and e.step is Step.EXCLUDED]
        assert {str(e.detail["excluded_member"]): e.detail["reason"] for e in reported} == reasons
        submitted = {s.member: s.digest for s in f.federation.updates(1)}
        assert all(
            e.detail["digest"] == submitted[str(e.detail["excluded_member"])] for e in reported
        )
    info = f.federation.round_info(1)
    assert info.phase is Phase.ACCEPTED and f.federation.current_round() == 2
    assert info.accepted is not None
    assert info.accepted.digest == hashlib.sha256(blob).digest()
    votes = f.federation.votes(1)
    assert {v.member for v in votes} == set(honest) and {v.digest for v in votes} == {
        info.accepted.digest
    }


@pytest.mark.parametrize("case", list(CASES))
def test_a_bad_update_is_excluded_with_its_reason(
    federated: Federated, case: str, tmp_path: Path
) -> None:
    make, reason = CASES[case]
    ref = make(federated.store, tmp_path)
    run_round(federated, [ref])
    check_round(federated, {federated.bad[0].address: reason})
    assert not (tmp_path / "pickle-ran").exists()


MIXED = ["pickle", "wrong-shape", "nan", "oversized", "wrong-digest", "missing-blob", "norm-bound"]


@pytest.mark.parametrize("federated", [len(MIXED)], indirect=True)
def test_many_bad_members_in_one_round(federated: Federated, tmp_path: Path) -> None:
    """Seven bad members against two honest ones: the honest pair still decides the round."""
    refs = [CASES[case][0](federated.store, tmp_path) for case in MIXED]
    run_round(federated, refs)
    check_round(
        federated,
        {
            account.address: CASES[case][1]
            for account, case in zip(federated.bad, MIXED, strict=True)
        },
    )
    assert not (tmp_path / "pickle-ran").exists()


def test_the_hostile_pickle_carries_a_code_execution_payload(tmp_path: Path) -> None:
    """Guard for the pickle case, read statically (never unpickled): loading it would call
    ``os.mkdir``, so the marker directory staying absent above means nothing unpickled it."""
    data = LocalStore(tmp_path / "store").get(
        hostile_pickle(LocalStore(tmp_path / "store"), tmp_path)
    )
    ops = [(op.name, arg) for op, arg, _pos in pickletools.genops(data)]
    names = [arg for name, arg in ops if name in {"SHORT_BINUNICODE", "BINUNICODE", "UNICODE"}]
    assert os.mkdir.__module__ in names and "mkdir" in names
    assert ("REDUCE", None) in ops and str(tmp_path / "pickle-ran") in names
