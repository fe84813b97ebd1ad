"""Time the explorer over a long history: ``python -m bench.explorer``.

Acceptance: with 1,000 rounds of history the overview renders in under 2 s. This script
builds such a history for real: it starts anvil, deploys the shipped Federation contract,
and has every member submit an update and vote the round's aggregate, round after round,
so the chain holds the events a real federation leaves (R rounds x 2N transactions),
with a rule changed by proposal every hundred rounds. It then times what the explorer
does with them: ``read_history`` (what its follower runs whenever the chain moves) and
the pages themselves, served by ``daofed.explorer``.

The updates are not trained and their blobs are never stored: digests and CIDs are
distinct fake ones. The history does not fetch blobs; the explorer's follower looks for
each model to evaluate it, finds none (the overview then shows no metric) and the verify
job, which would fetch them all, is not started. Filling goes around the Python
``Federation`` API, which estimates gas and waits for a receipt per transaction: the
members are impersonated on anvil, each phase of a round is one JSON-RPC batch of
``eth_sendTransaction`` mined as one block, and the round is checked to have moved on.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import requests
from eth_abi.abi import encode
from eth_typing import ABI, ABIFunction
from eth_utils.abi import function_abi_to_4byte_selector
from eth_utils.address import to_checksum_address

from daofed.audit import AuditSource, read_history
from daofed.chain import AnvilNode, Federation, advance_time, dev_account, fund
from daofed.learning import load_task
from daofed.protocol import genesis_blob
from daofed.storage import BlobRef, LocalStore

GOAL_SECONDS = 2.0
"""The acceptance goal: the overview of 1,000 rounds renders in less than this."""
PAGES = ("/", "/rounds", "/proposals", "/api/charts")
"""What a visitor loads first: the overview, then the timeline, proposals and charts."""
SUBMIT_GAS = 300_000  # a submission costs ~80k gas; unused gas is not charged
VOTE_GAS = 600_000  # the vote that reaches quorum also opens the next round (~200k more)
SAMPLES = 100  # member i claims SAMPLES + i samples: weights differ, as in real rounds
RULES = ("median", "trimmed-mean:beta=0.1", "fedavgm:lr=1.0,momentum=0.9", "fedavg")
"""The rules the DAO switches between, in turn, when the history includes rule changes."""
PROPOSAL_GAS = 500_000  # a proposal stores its rule; executing it writes a config version
POLL_SECONDS = 1.0  # how often the explorer asks the node for a new block (its default)
FOLLOW_TIMEOUT = 600.0  # seconds the explorer may take to read the history the first time


# -- the federation -----------------------------------------------------------------------


def member_address(index: int) -> str:
    """Return member ``index``'s address: any number of members, none of them a dev key.

    anvil has only ten funded dev accounts; impersonated addresses lift that limit.
    """
    return to_checksum_address(
        hashlib.sha256(f"daofed bench member {index}".encode()).digest()[-20:]
    )


def update_ref(round_number: int, member: int) -> BlobRef:
    """Name member ``member``'s update of round ``round_number``: distinct in every round."""
    return BlobRef.of_bytes(f"update of member {member} in round {round_number}".encode())


def aggregate_ref(round_number: int) -> BlobRef:
    """Name the aggregate every member votes for in round ``round_number``."""
    return BlobRef.of_bytes(f"aggregate of round {round_number}".encode())


def deploy_federation(
    node: AnvilNode, store: LocalStore, members: Sequence[str], window: int
) -> Federation:
    """Deploy the Federation with ``members``, unanimity, FedAvg and the digits genesis.

    Unanimity makes the last vote of a round the one that accepts it, so every vote of a
    round is on chain (a lower quorum would leave the late voters' votes refused).
    Proposals stay open for one window, half a round: one made as a round opens can be
    executed in its vote phase, without the round expiring.
    """
    w3 = node.web3()
    for address in members:
        fund(w3, address)
    return Federation.deploy(
        w3,
        dev_account(0),
        members=list(members),
        quorum=len(members),
        submit_window=window,
        vote_window=window,
        rule="fedavg",
        genesis=store.put(genesis_blob(load_task("digits-mlp"), 0)),
        voting_period=window,
    )


# -- raw transactions ---------------------------------------------------------------------


class Calldata:
    """Encode calls to the federation's ``submitUpdate`` and ``voteAggregate`` quickly.

    web3's ``encode_abi`` takes ~2 ms a call (it re-resolves the ABI each time): 40 s for
    a history of 1,000 rounds of 10 members. Selectors and types are looked up here once,
    from the same ABI, so a changed contract still fails loudly rather than silently.
    """

    def __init__(self, abi: ABI) -> None:
        self._functions: dict[str, tuple[bytes, list[str]]] = {}
        for item in abi:
            if item.get("type") == "function":
                function = cast(ABIFunction, item)
                types = [entry["type"] for entry in function.get("inputs", ())]
                selector = function_abi_to_4byte_selector(function)
                self._functions[function["name"]] = (selector, types)

    def __call__(self, name: str, *args: Any) -> str:
        """Return the hex calldata of ``name(*args)``."""
        selector, types = self._functions[name]
        return "0x" + (selector + encode(types, list(args))).hex()


class RawChain:
    """Send anvil many transactions from impersonated members, in JSON-RPC batches.

    One HTTP request per batch of sends and one per block: the Federation API's path
    (estimate, sign, send, wait for the receipt) costs ~15-30 ms per transaction.
    """

    def __init__(self, url: str, contract: str) -> None:
        self.url = url
        self.contract = contract
        self._session = requests.Session()
        self._next_id = 0

    def call(self, method: str, *params: Any) -> Any:
        """Send one JSON-RPC request and return its result (RuntimeError on an error)."""
        return self.batch([(method, list(params))])[0]

    def batch(self, requests_: Sequence[tuple[str, list[Any]]]) -> list[Any]:
        """Send ``requests_`` as one JSON-RPC batch; return their results in order."""
        body: list[Any] = []
        for method, params in requests_:
            self._next_id += 1
            body.append({"jsonrpc": "2.0", "id": self._next_id, "method": method, "params": params})
        response = self._session.post(self.url, json=body, timeout=120)
        response.raise_for_status()
        answers = sorted(response.json(), key=lambda answer: answer["id"])
        errors = [answer["error"] for answer in answers if "error" in answer]
        if errors:
            raise RuntimeError(f"{len(errors)} of {len(body)} requests failed, first: {errors[0]}")
        return [answer["result"] for answer in answers]

    def send_block(self, senders: Sequence[str], calldata: Sequence[str], gas: int) -> None:
        """Send one transaction per sender to the contract, then mine them as one block."""
        self.batch(
            [
                (
                    "eth_sendTransaction",
                    [{"from": s, "to": self.contract, "data": d, "gas": hex(gas)}],
                )
                for s, d in zip(senders, calldata, strict=True)
            ]
        )
        self.call("evm_mine")

    @contextmanager
    def manual_mining(self) -> Iterator[None]:
        """Impersonate every address and mine only on ``evm_mine`` while inside."""
        self.call("anvil_autoImpersonateAccount", True)
        self.call("evm_setAutomine", False)
        try:
            yield
        finally:
            self.call("evm_setAutomine", True)
            self.call("anvil_autoImpersonateAccount", False)


# -- the history --------------------------------------------------------------------------


@dataclass(frozen=True)
class Fill:
    """What filling the history took: rounds, transactions and wall-clock seconds."""

    rounds: int
    transactions: int
    seconds: float


def fill_history(
    node: AnvilNode,
    federation: Federation,
    members: Sequence[str],
    rounds: int,
    progress: Callable[[int], None] | None = None,
    *,
    rule_every: int = 0,
) -> Fill:
    """Play ``rounds`` accepted rounds from the current one: all submit, then all vote.

    Each phase is one block; after the votes the contract must have opened the next
    round, which proves every transaction of the round succeeded (a failed one would
    leave the round short of submissions or votes) without fetching receipts. Every
    ``rule_every`` rounds (0: never) the members also change the rule by proposal.
    """
    raw = RawChain(node.url, federation.address)
    calldata = Calldata(federation.contract.abi)
    first = federation.current_round()
    proposals = federation.proposal_count()
    started = time.perf_counter()
    sent = 0
    with raw.manual_mining():
        for index, round_number in enumerate(range(first, first + rounds)):
            submits = [
                calldata("submitUpdate", round_number, ref.digest, ref.locator, SAMPLES + i)
                for i, ref in enumerate(update_ref(round_number, i) for i in range(len(members)))
            ]
            changes_rule = rule_every > 0 and index % rule_every == rule_every - 1
            if changes_rule:
                proposals += 1
                sent += change_rule(
                    raw, calldata, members, proposals, RULES[(proposals - 1) % len(RULES)]
                )
            raw.send_block(members, submits, SUBMIT_GAS)
            if changes_rule:
                advance_time(federation.w3, federation.config().voting_period + 1)
                raw.send_block(members[:1], [calldata("execute", proposals)], PROPOSAL_GAS)
                sent += 1
            aggregate = aggregate_ref(round_number)
            vote = calldata("voteAggregate", round_number, aggregate.digest, aggregate.locator)
            raw.send_block(members, [vote] * len(members), VOTE_GAS)
            sent += 2 * len(members)
            _check_moved_on(federation, round_number)
            if progress is not None:
                progress(index + 1)
    return Fill(rounds, sent, time.perf_counter() - started)


def change_rule(
    raw: RawChain, calldata: Calldata, members: Sequence[str], proposal: int, rule: str
) -> int:
    """Propose ``rule`` (as proposal number ``proposal``) and have every member vote yes.

    Two blocks before the round's submissions; the caller executes the proposal once its
    voting period is over, in the round's vote phase, so the next round uses the rule.
    Returns the transactions sent.
    """
    raw.send_block(members[:1], [calldata("proposeRule", rule)], PROPOSAL_GAS)
    raw.send_block(members, [calldata("voteProposal", proposal, True)] * len(members), PROPOSAL_GAS)
    return 1 + len(members)


def _check_moved_on(federation: Federation, round_number: int) -> None:
    """Fail at the first round that did not end accepted, naming where it stands."""
    current = federation.current_round()
    if current != round_number + 1:
        raise RuntimeError(
            f"round {round_number} was not accepted: the current round is {current}, "
            f"round {round_number} is in phase {federation.phase(round_number).name}"
        )


# -- reusing a filled chain ----------------------------------------------------------------


def load_filled(node: AnvilNode, state: Path, shape: dict[str, int]) -> Federation | None:
    """Open the federation a previous run left in ``state``, if it has this ``shape``.

    Filling 1,000 rounds takes most of a minute; a saved chain lets the explorer be
    timed again after each change to it in seconds. The shape is in a file beside it.
    """
    shape_file = _shape_file(state)
    if not (state.is_file() and shape_file.is_file()):
        return None
    saved = json.loads(shape_file.read_text())
    contract = saved.pop("contract")
    return Federation.at(node.web3(), contract) if saved == shape else None


def save_shape(state: Path, federation: Federation, shape: dict[str, int]) -> None:
    """Record what ``state`` will hold once anvil writes it (when it stops)."""
    _shape_file(state).write_text(json.dumps({"contract": federation.address, **shape}) + "\n")


def _shape_file(state: Path) -> Path:
    """Where the shape of the chain in ``state`` is recorded: beside it."""
    return state.with_name(state.name + ".shape.json")


# -- timing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    """Repeated timings of one thing, in seconds, with the size of what it produced."""

    name: str
    seconds: tuple[float, ...]
    size: int  # bytes of the response (0 for a non-HTTP step)

    @property
    def median(self) -> float:
        """The middle run: the figure to quote, robust to a slow first or noisy run."""
        return statistics.median(self.seconds)

    @property
    def worst(self) -> float:
        """The slowest run: what an unlucky visitor waits."""
        return max(self.seconds)


def time_read_history(federation: Federation, repeat: int) -> Timing:
    """Time ``read_history``: the explorer's follower runs it whenever the chain moves."""
    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        history = read_history(federation)
        seconds.append(time.perf_counter() - started)
    return Timing(f"read_history ({len(history.rounds)} rounds)", tuple(seconds), 0)


def time_pages(federation: Federation, store: LocalStore, repeat: int) -> list[Timing]:
    """Time the explorer's first read of the chain, each of :data:`PAGES`, and a new block.

    The last is how long a new block takes to show. In-process (Starlette's test
    client): what is timed is the app, not a network.
    """
    # imported here: --history-only runs without the explorer (and times what it reads)
    from daofed.explorer import create_app

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Using `httpx`")  # advises httpx2: not here
        from starlette.testclient import TestClient

    app = create_app(AuditSource(federation, store), poll_interval=POLL_SECONDS)
    with TestClient(app, base_url="http://127.0.0.1") as client:  # a host it serves
        first = wait_followed(lambda: client.get("/api/head").json())
        timings = [Timing("explorer's first read of the chain", (first,), 0)]
        timings += [time_get(client.get, page, repeat) for page in PAGES]
        timings.append(time_refresh(client.get, federation, repeat))
    return timings


def time_get(get: Callable[[str], Any], page: str, repeat: int) -> Timing:
    """Time ``repeat`` requests of ``page``: the visitor's wait for the whole response."""
    seconds, size = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        response = get(page)
        seconds.append(time.perf_counter() - started)
        response.raise_for_status()
        size = len(response.content)
    return Timing(f"GET {page}", tuple(seconds), size)


def time_refresh(get: Callable[[str], Any], federation: Federation, repeat: int) -> Timing:
    """Time how long the explorer takes to show a new block, after its first read.

    The follower keeps one HistoryReader: a new block costs its own events plus the last
    few blocks re-read, not the whole history again. Timed from mining the block until
    ``/api/head`` reports it, so it includes up to one poll interval of waiting.
    """
    seconds = []
    for _ in range(repeat):
        block = get("/api/head").json()["block"]
        federation.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
        started = time.perf_counter()
        while get("/api/head").json()["block"] == block:
            time.sleep(0.01)
        seconds.append(time.perf_counter() - started)
    return Timing(f"a new block shown (poll every {POLL_SECONDS:g} s)", tuple(seconds), 0)


def wait_followed(head: Callable[[], dict[str, Any]], timeout: float = FOLLOW_TIMEOUT) -> float:
    """Wait until the explorer's follower has read the history once; return the seconds.

    ``/api/head`` reports version 0 until the first read is done (``problem`` says why a
    read failed, which is worth stopping for rather than timing error pages).
    """
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        state = head()
        if state.get("problem"):
            raise RuntimeError(f"the explorer could not read the history: {state['problem']}")
        if state.get("version", 0) >= 1:
            return time.perf_counter() - started
        time.sleep(0.05)
    raise RuntimeError(f"the explorer did not read the history within {timeout:.0f} s")


def print_table(timings: Sequence[Timing]) -> None:
    """Print median, worst and size of each timing as a Markdown table."""
    print("| what | median s | max s | runs | bytes |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for t in timings:
        size = f"{t.size:,}" if t.size else ""
        print(f"| {t.name} | {t.median:.3f} | {t.worst:.3f} | {len(t.seconds)} | {size} |")


# -- the script ---------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """Return the command line: sizes of the history and how often to time each step."""
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--rounds", type=int, default=1000, help="accepted rounds (default 1000)")
    p.add_argument("--members", type=int, default=10, help="members, all voting (default 10)")
    p.add_argument("--repeat", type=int, default=5, help="runs of each timing (default 5)")
    p.add_argument(
        "--rule-every",
        type=int,
        default=100,
        help="change the rule by proposal every N rounds (default 100; 0: never)",
    )
    p.add_argument(
        "--window", type=int, default=300, help="submit and vote windows in seconds (default 300)"
    )
    p.add_argument(
        "--state",
        type=Path,
        help="keep the filled chain in this anvil state file and reuse it when it matches",
    )
    p.add_argument(
        "--history-only",
        action="store_true",
        help="fill and time read_history, not the explorer's pages",
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Fill the history, time reading and rendering it, print the headline figure."""
    args = build_parser().parse_args(argv)
    if args.rounds < 1 or args.members < 1 or args.repeat < 1 or args.rule_every < 0:
        build_parser().error(
            "--rounds, --members and --repeat must be at least 1, --rule-every at least 0"
        )
    members = [member_address(i) for i in range(args.members)]
    with (
        AnvilNode.start(state_file=args.state) as node,
        tempfile.TemporaryDirectory() as tmp,
    ):
        store = LocalStore(Path(tmp))
        federation = _filled_federation(node, store, members, args)
        timings = [time_read_history(federation, args.repeat)]
        if not args.history_only:
            timings += time_pages(federation, store, args.repeat)
        print_table(timings)
        if not args.history_only:
            overview = next(t for t in timings if t.name == "GET /")
            print(
                f"overview of {args.rounds} rounds rendered in {overview.median:.3f} s "
                f"(median of {len(overview.seconds)}), goal < {GOAL_SECONDS:g} s"
            )
    return 0


def _filled_federation(
    node: AnvilNode, store: LocalStore, members: list[str], args: argparse.Namespace
) -> Federation:
    """Reuse the chain saved in ``--state`` if it fits, else deploy, fill and report."""
    shape = {
        "rounds": args.rounds,
        "members": len(members),
        "rule_every": args.rule_every,
        "window": args.window,
    }
    if args.state is not None:
        federation = load_filled(node, args.state, shape)
        if federation is not None:
            store.put(genesis_blob(load_task("digits-mlp"), 0))  # as the deployment did
            print(f"reusing {args.rounds} filled rounds from {args.state}")
            return federation
    federation = deploy_federation(node, store, members, args.window)
    fill = fill_history(
        node, federation, members, args.rounds, _progress(args.rounds), rule_every=args.rule_every
    )
    print(
        f"filled {fill.rounds} rounds ({fill.transactions:,} transactions, "
        f"{len(members)} members) in {fill.seconds:.1f} s "
        f"({fill.transactions / fill.seconds:.0f} tx/s)"
    )
    if args.state is not None:
        save_shape(args.state, federation, shape)
    return federation


def _progress(total: int) -> Callable[[int], None]:
    """Report every tenth of the fill on stderr (a minute is long to wait in silence)."""
    step = max(1, total // 10)

    def report(done: int) -> None:
        if done % step == 0 or done == total:
            print(f"  {done}/{total} rounds", file=sys.stderr, flush=True)

    return report


if __name__ == "__main__":
    sys.exit(main())
