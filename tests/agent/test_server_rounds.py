"""Server optimisers end to end: switched to by proposal, carried in the model, audited.

On a real anvil, three members training digits-mlp start under FedAvg and, by proposals
they vote and execute, switch in turn to FedAvgM, FedAdam with FedProx, FedYogi over the
median, FedAdagrad and back to FedAvg (FedAdam for two rounds, so its state is carried).
Every accepted model holds exactly its optimiser's state; a member restarted from nothing
votes the same digest (the state is read from the fetched base, not from memory);
``daofed audit --verify --json`` recomputes every round. Then the state is tampered with:
it changes the aggregate, and a blob with state missing, unknown or NaN is refused.
A bad rule is refused before any transaction, through the API and the CLI.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from eth_account.signers.local import LocalAccount
from typer.testing import CliRunner
from web3 import Web3

from daofed.agent import MemberAgent, MemberSettings, Step
from daofed.chain import (
    AnvilNode,
    Federation,
    ProposalKind,
    advance_time,
    dev_accounts,
    embedded_chain,
)
from daofed.cli import app
from daofed.errors import ConfigError, InvalidBlob
from daofed.learning import Dataset, FitResult, Task, load_digits, split_federated
from daofed.learning.aggregation import parse_rule
from daofed.learning.aggregation.server import SERVER_OPTIMIZERS, model_weights, state_name
from daofed.learning.task import FitConfig, Metrics
from daofed.protocol import Genesis, UpdatePolicy, aggregate_round, decode_model, fetch_genesis
from daofed.storage import LocalStore, Weights, encode
from tests.federations import DIGITS, deploy

MEMBERS = 3
WINDOW = 600
VOTING_PERIOD = 60
SETTINGS = MemberSettings(options={"epochs": 1})

FEDAVGM = "fedavgm:lr=1.0,momentum=0.9"
FEDADAM = "fedadam:lr=0.01,beta1=0.9,beta2=0.99,tau=0.001,prox=0.01"
FEDYOGI = "fedyogi:lr=0.01,beta1=0.9,beta2=0.99,tau=0.001,of=median"
FEDADAGRAD = "fedadagrad:lr=0.05,tau=0.001"

#: Each round's rule, and the rule proposed (and executed) during it for the next round.
SCHEDULE: list[tuple[str, str | None]] = [
    ("fedavg", FEDAVGM),
    (FEDAVGM, FEDADAM),
    (FEDADAM, None),  # FedAdam again: round 4 steps with round 3's moments
    (FEDADAM, FEDYOGI),
    (FEDYOGI, FEDADAGRAD),
    (FEDADAGRAD, "fedavg"),
    ("fedavg", None),
]
RULES = [rule for rule, _ in SCHEDULE]
OPTIMIZERS = [None, "fedavgm", "fedadam", "fedadam", "fedyogi", "fedadagrad", None]
CARRIED = 4  # the second FedAdam round, where a member restarts before voting
runner = CliRunner()


class RecordingTask(Task[Dataset]):
    """The digits task, noting the fit config each round's training was given."""

    name = DIGITS.name

    def __init__(self) -> None:
        self.configs: dict[int, dict[str, object]] = {}

    def initial_weights(self, seed: int) -> Weights:
        return DIGITS.initial_weights(seed)

    def load_data(self, path: Path) -> Dataset:
        data: Dataset = DIGITS.load_data(path)
        return data

    def evaluate(self, weights: Weights, data: Dataset) -> Metrics:
        return DIGITS.evaluate(weights, data)

    def fit(self, weights: Weights, data: Dataset, config: FitConfig) -> FitResult:
        self.configs[int(config["round"])] = dict(config)
        return DIGITS.fit(weights, data, config)


@dataclass(frozen=True)
class ServerHistory:
    """The federation after its seven rounds, and what was seen on the way."""

    url: str
    federation: Federation
    store: LocalStore
    store_dir: Path
    genesis: Genesis
    members: list[LocalAccount]
    configs: list[dict[int, dict[str, object]]]  # per member: round -> its fit config
    voted: dict[int, list[bytes]]  # round -> the digests the members' VOTED events name
    restarted: bytes  # the digest the restarted member voted for in round CARRIED

    def accepted_blob(self, round_number: int) -> bytes:
        (accepted,) = [a for a in self.federation.accepted() if a.round == round_number]
        return self.store.get(accepted.ref)


def _switch_rule(w3: Web3, federation: Federation, members: list[LocalAccount], spec: str) -> None:
    """Propose ``spec``, every member votes yes, execute: in force from the next round."""
    proposal = federation.propose(members[0], ProposalKind.SET_RULE, spec).proposal_id
    for voter in members:
        federation.vote_proposal(voter, proposal, True)
    advance_time(w3, VOTING_PERIOD + 1)
    federation.execute_proposal(members[1], proposal)


@pytest.fixture(scope="module")
def history(own_anvil: AnvilNode, tmp_path_factory: pytest.TempPathFactory) -> ServerHistory:
    w3 = own_anvil.web3()
    store_dir = tmp_path_factory.mktemp("server-rounds") / "blobs"
    store = LocalStore(store_dir)
    deployer, *members = dev_accounts(MEMBERS + 1)
    split = split_federated(load_digits(), MEMBERS, alpha=None, seed=0)
    federation = deploy(
        w3, store, deployer, members, window=WINDOW, voting_period=VOTING_PERIOD, rule="fedavg"
    )
    tasks = [RecordingTask() for _ in members]
    agents = [
        MemberAgent(federation, store, account, task, share.train, SETTINGS)
        for account, task, share in zip(members, tasks, split.members, strict=True)
    ]
    voted: dict[int, list[bytes]] = {}
    restarted = b""
    for round_number, (rule, proposed) in enumerate(SCHEDULE, start=1):
        assert federation.current_round() == round_number
        assert federation.rule_of(round_number) == rule
        if proposed is not None:
            _switch_rule(w3, federation, members, proposed)
            assert federation.rule_of(round_number) == rule  # from the next round on
        assert [agent.step().step for agent in agents] == [Step.SUBMITTED] * MEMBERS
        if round_number == CARRIED:
            # a new process for member 3: no memory of round 3's aggregate or anything else
            tasks.append(RecordingTask())
            agents[2] = MemberAgent(
                federation, store, members[2], tasks[-1], split.members[2].train, SETTINGS
            )
        events = [agent.step() for agent in agents]
        assert [e.step for e in events] == [Step.VOTED] * MEMBERS, [e.message for e in events]
        voted[round_number] = [bytes(e.detail["digest"]) for e in events]
        if round_number == CARRIED:
            restarted = voted[round_number][2]
    return ServerHistory(
        url=own_anvil.url,
        federation=federation,
        store=store,
        store_dir=store_dir,
        genesis=fetch_genesis(store, federation.genesis()),
        members=members,
        configs=[tasks[0].configs, tasks[1].configs, {**tasks[2].configs, **tasks[3].configs}],
        voted=voted,
        restarted=restarted,
    )


def _state_names(history: ServerHistory, optimizer: str | None) -> set[str]:
    if optimizer is None:
        return set()
    return {
        state_name(optimizer, slot, tensor.name)
        for tensor in history.genesis.spec.tensors
        for slot in SERVER_OPTIMIZERS[optimizer].slots
    }


@pytest.mark.slow
def test_rounds_switch_optimizer_by_proposal_and_carry_state(history: ServerHistory) -> None:
    federation, rounds = history.federation, len(SCHEDULE)
    assert [federation.rule_of(r) for r in range(1, rounds + 2)] == [*RULES, "fedavg"]
    accepted = federation.accepted()
    assert [a.round for a in accepted] == list(range(1, rounds + 1))
    assert all(a.votes == MEMBERS for a in accepted)
    executed = federation.executed_proposals()
    assert len(executed) == sum(proposed is not None for _, proposed in SCHEDULE)

    model_names = set(history.genesis.spec.names)
    previous: Weights = history.genesis.weights
    for a, optimizer in zip(accepted, OPTIMIZERS, strict=True):
        # unanimous: every member computed the same bytes and voted for them
        assert history.voted[a.round] == [a.digest] * MEMBERS
        votes = federation.votes(a.round)
        assert sorted(v.member for v in votes) == sorted(m.address for m in history.members)
        assert {v.digest for v in votes} == {a.digest}
        # the blob holds the model and exactly the state of the rule it was made under
        weights = decode_model(history.accepted_blob(a.round), history.genesis)
        assert set(weights) == model_names | _state_names(history, optimizer)
        assert all(array.dtype == np.float32 for array in weights.values())
        assert not np.array_equal(weights["0.bias"], previous["0.bias"])  # the model moved
        previous = weights

    # the restarted member read round 3's moments from the fetched base
    assert history.restarted == accepted[CARRIED - 1].digest
    adam = [decode_model(history.accepted_blob(r), history.genesis) for r in (3, 4)]
    moments = [name for name in adam[0] if name.startswith("@server/fedadam/")]
    assert any(not np.array_equal(adam[0][name], adam[1][name]) for name in moments)

    # prox=0.01 reaches every member's training in the FedAdam rounds, and only there
    for configs in history.configs:
        assert sorted(configs) == list(range(1, rounds + 1))
        for round_number, config in configs.items():
            mu = parse_rule(RULES[round_number - 1]).proximal_mu
            if mu > 0:
                assert config["proximal_mu"] == mu == 0.01
            else:
                assert "proximal_mu" not in config
            assert config["epochs"] == 1 and config["round"] == round_number


@pytest.mark.slow
def test_the_audit_cli_verifies_every_round(history: ServerHistory) -> None:
    address = history.federation.address
    result = runner.invoke(
        app,
        [
            "audit",
            "--rpc-url",
            history.url,
            "--contract",
            address,
            "--store",
            f"local:{history.store_dir}",
            "--verify",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["verified"] is True and document["ok"] is True
    verification = document["verification"]
    assert verification["ok"] is True and verification["governance"] == []
    assert verification["task"] == "digits-mlp"
    rounds = verification["rounds"]
    assert [r["verdict"] for r in rounds] == ["verified"] * len(SCHEDULE) + ["open"]
    assert [r["rule"] for r in rounds] == [*RULES, "fedavg"]
    accepted = {a.round: "0x" + a.digest.hex() for a in history.federation.accepted()}
    for verified in rounds[: len(SCHEDULE)]:
        assert verified["findings"] == [] and verified["exclusions"] == []
        assert verified["recomputed_digest"] == verified["accepted_digest"]
        assert verified["accepted_digest"] == accepted[verified["round"]]
    proposals = document["history"]["proposals"]
    assert [(p["kind"], p["value"], p["state"]) for p in proposals] == [
        ("set-rule", proposed, "executed") for _, proposed in SCHEDULE if proposed is not None
    ]
    evaluation = document["evaluation"]
    assert [r["round"] for r in evaluation["rounds"]] == list(range(len(SCHEDULE) + 1))


@pytest.mark.slow
def test_tampered_server_state_changes_the_aggregate_or_is_refused(
    history: ServerHistory,
) -> None:
    genesis, store, federation = history.genesis, history.store, history.federation
    rule = parse_rule(federation.rule_of(CARRIED))
    base = decode_model(history.accepted_blob(CARRIED - 1), genesis)

    def recompute(base: Weights, round_number: int = CARRIED) -> tuple[str, Weights]:
        result = aggregate_round(
            round_number,
            base,
            federation.updates(round_number),
            store,
            genesis.spec,
            parse_rule(federation.rule_of(round_number)),
            UpdatePolicy(),
        )
        return hashlib.sha256(result.blob).hexdigest(), result.weights

    honest, honest_weights = recompute(base)
    assert honest == federation.round_info(CARRIED).accepted.hex  # type: ignore[union-attr]
    assert rule.spec == FEDADAM

    # (a) one second moment changed, blob re-encoded: still valid, but another aggregate
    m, v = "@server/fedadam/m/0.bias", "@server/fedadam/v/0.bias"
    where = int(np.argmax(np.abs(base[m])))
    assert base[m][where] != 0
    tampered = {name: array.copy() for name, array in base.items()}
    tampered[v][where] += np.float32(1.0)
    reread = decode_model(encode(tampered), genesis)  # a well-formed blob: it decodes
    digest, weights = recompute(reread)
    assert digest != honest
    changed = np.flatnonzero(weights["0.bias"] != honest_weights["0.bias"])
    assert changed.tolist() == [where]  # the step is elementwise: only that bias moved
    for name in model_weights(weights):
        if name != "0.bias":
            np.testing.assert_array_equal(weights[name], honest_weights[name])

    # another optimiser's state in the base is ignored: round 3 (FedAdam after FedAvgM)
    fedavgm_base = decode_model(history.accepted_blob(2), genesis)
    assert any(name.startswith("@server/fedavgm/") for name in fedavgm_base)
    stripped, _ = recompute(model_weights(fedavgm_base), 3)
    assert stripped == federation.round_info(3).accepted.hex  # type: ignore[union-attr]

    # (b) state missing, unknown, doubled or not finite: the blob is refused, saying why
    def refused(tensors: Weights) -> InvalidBlob:
        with pytest.raises(InvalidBlob) as raised:
            decode_model(encode(tensors), genesis)
        return raised.value

    no_slot = {name: a for name, a in base.items() if not name.startswith("@server/fedadam/v/")}
    error = refused(no_slot)
    assert error.reason == "missing-tensor" and "@server/fedadam/v/" in str(error)

    one_missing = {name: a for name, a in base.items() if name != v}
    error = refused(one_missing)
    assert error.reason == "missing-tensor" and repr(v) in str(error)

    unknown = {name.replace("@server/fedadam/", "@server/fedsgd/"): a for name, a in base.items()}
    error = refused(unknown)
    assert error.reason == "extra-tensor" and "@server/fedsgd/" in str(error)

    extra = {**base, "@server/fedsgd/m/0.bias": base[m].copy()}
    error = refused(extra)
    assert error.reason == "extra-tensor" and "'@server/fedsgd/m/0.bias'" in str(error)

    second = {**base, **{n: a for n, a in fedavgm_base.items() if n.startswith("@server/")}}
    error = refused(second)
    assert error.reason == "extra-tensor" and "@server/fedavgm/m/" in str(error)

    nan = {name: array.copy() for name, array in base.items()}
    nan[v][where] = np.nan
    error = refused(nan)
    assert error.reason == "non-finite" and v in str(error)

    half = {**base, v: base[v].astype(np.float16)}
    assert refused(half).reason == "wrong-dtype"


def test_a_bad_rule_is_refused_before_any_transaction(tmp_path: Path) -> None:
    w3 = embedded_chain()
    store = LocalStore(tmp_path / "blobs")
    deployer, *members = dev_accounts(MEMBERS + 1)
    federation = deploy(w3, store, deployer, members, voting_period=VOTING_PERIOD)
    block = w3.eth.block_number
    nonce = w3.eth.get_transaction_count(members[0].address)
    for spec, problem in [
        ("fedadam:lr=0.01", "fedadam: missing ['beta1', 'beta2', 'tau'] parameters"),
        ("fedadam:lr=-1,beta1=0.9,beta2=0.99,tau=0.001", "fedadam lr must be > 0, got -1.0"),
        (FEDYOGI.replace("of=median", "of=fedadam"), "of='fedadam'"),
    ]:
        with pytest.raises(ConfigError) as raised:
            federation.propose(members[0], ProposalKind.SET_RULE, spec)
        message = str(raised.value)
        assert message.startswith(f"rule {spec!r}: ") and problem in message
        assert "\n" not in message
    assert w3.eth.block_number == block
    assert w3.eth.get_transaction_count(members[0].address) == nonce
    assert federation.proposal_count() == 0


def test_the_cli_refuses_a_bad_rule_in_one_line(tmp_path: Path) -> None:
    spec = "fedadam:lr=-1,beta1=0.9,beta2=0.99,tau=0.001"
    # no deployment file, no node: the spec is checked before anything else
    result = runner.invoke(
        app,
        ["propose", "set-rule", spec, "--deployment", str(tmp_path / "none.toml"), "--dev", "1"],
    )
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"error: rule {spec!r}: fedadam lr must be > 0, got -1.0. Rules: ")
