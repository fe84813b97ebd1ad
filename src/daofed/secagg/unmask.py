"""Turn a round's public messages into the exact aggregate: members and the audit alike.

Inputs are only what is public at the end of a round: setup messages (U1), masked updates
(U2) and recovery messages. Revealed shares are checked against the dealers' commitments
(bad ones become findings and are ignored); each submitter's seed and each dropout's mask
key are rebuilt from ``threshold`` valid shares and checked against what the dealer
published; then the masks are removed from the *sum*. No individual update is ever
formed, and nothing secret is needed, so anyone can re-run this and compare digests.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

import numpy as np

from daofed.learning.weights import Weights
from daofed.secagg import masks, shares
from daofed.secagg.context import Context
from daofed.secagg.errors import Finding, SecAggError
from daofed.secagg.fixedpoint import U64, check_capacity, decode_sum
from daofed.secagg.keys import public_key_of
from daofed.secagg.messages import (
    MaskedUpdate,
    RecoveryMessage,
    SetupMessage,
    ShareKind,
    setups_by_dealer,
)

_Points = dict[tuple[str, ShareKind], list[tuple[int, bytes]]]


@dataclass(frozen=True, eq=False)
class UnmaskResult:
    """The aggregate delta (float32 by tensor name), who is in it, and what was ignored."""

    delta: Weights
    members: tuple[str, ...]
    num_samples: int
    findings: tuple[Finding, ...]


def unmask(
    context: Context,
    setups: Collection[SetupMessage],
    updates: Collection[MaskedUpdate],
    recoveries: Collection[RecoveryMessage],
) -> UnmaskResult:
    """Sum the masked updates, remove all masks, and decode the FedAvg delta.

    Raises SecAggError when the round cannot be unmasked: fewer than ``threshold``
    submitters, updates masked against different setup sets or with different layouts, or
    a dealer whose secret has fewer than ``threshold`` valid shares (or whose shares rebuild
    something other than what it committed to); the message names the dealer.
    """
    by_dealer = setups_by_dealer(context, setups)
    submitted = _submitters(context, by_dealer, updates)
    dropped = sorted(set(by_dealer) - set(submitted))
    findings: list[Finding] = []
    points = _valid_points(context, by_dealer, tuple(submitted), recoveries, findings)

    total_samples = sum(update.num_samples for update in submitted.values())
    check_capacity(total_samples)
    first = next(iter(submitted.values()))
    total = np.zeros(first.layout.size, dtype=U64)
    for update in submitted.values():
        np.add(total, update.vector, out=total)
    for member in submitted:
        seed = _rebuild(context, points, member, "b")
        if shares.commit_seed(context, member, seed) != by_dealer[member].seed_commitment:
            raise _unrecoverable(
                "bad-secret", member, "its seed shares rebuild a seed it did not commit to"
            )
        masks.apply(total, masks.self_key(context, member, seed), -1)
    for gone in dropped:
        private = _rebuild(context, points, gone, "s")
        if public_key_of(private) != by_dealer[gone].mask_public_key:
            raise _unrecoverable(
                "bad-secret", gone, "its key shares rebuild a key it did not publish"
            )
        for member in submitted:
            key = masks.pairwise_key(
                context, private, gone, member, by_dealer[member].mask_public_key
            )
            masks.apply(total, key, -masks.sign(member, gone))
    return UnmaskResult(
        decode_sum(total, total_samples, first.layout),
        tuple(submitted),
        total_samples,
        tuple(findings),
    )


def _submitters(
    context: Context, by_dealer: Mapping[str, SetupMessage], updates: Collection[MaskedUpdate]
) -> dict[str, MaskedUpdate]:
    """Index the masked updates (U2) by member, sorted; check they can be summed."""
    mask_set = tuple(sorted(by_dealer))
    submitted: dict[str, MaskedUpdate] = {}
    for update in sorted(updates, key=lambda u: u.member):
        context.position(update.member)
        if update.member in submitted:
            raise SecAggError("duplicate", f"two masked updates from {update.member}")
        if update.mask_set != mask_set:
            raise SecAggError(
                "mask-set",
                f"masked update of {update.member} was masked against other setup messages "
                "than those on record; its masks cannot cancel and the round cannot be unmasked",
            )
        submitted[update.member] = update
    if len(submitted) < context.threshold:
        raise SecAggError(
            "too-few-submissions",
            f"{len(submitted)} masked update(s), the threshold is {context.threshold}; "
            "below it a sum could single out one member's update",
        )
    layouts = {update.layout for update in submitted.values()}
    if len(layouts) != 1:
        raise SecAggError("wrong-layout", "masked updates disagree on the tensor layout")
    return submitted


def _valid_points(
    context: Context,
    by_dealer: Mapping[str, SetupMessage],
    submitted: tuple[str, ...],
    recoveries: Collection[RecoveryMessage],
    findings: list[Finding],
) -> _Points:
    """Collect the revealed shares that open their commitments, per (dealer, kind)."""
    points: _Points = {}
    seen: set[str] = set()
    for message in sorted(recoveries, key=lambda m: context.position(m.sender)):
        sender = message.sender
        if sender in seen:
            findings.append(Finding(sender, None, "duplicate", "second recovery message ignored"))
            continue
        seen.add(sender)
        if message.submitted != submitted:
            findings.append(
                Finding(sender, None, "inconsistent-view", "recovery names other submitters")
            )
            continue
        for revealed in message.shares:
            setup = by_dealer.get(revealed.dealer)
            if setup is None:
                findings.append(
                    Finding(sender, revealed.dealer, "unknown-dealer", "no setup on record")
                )
                continue
            envelope = setup.envelope(context, sender)
            commit = shares.commit_b if revealed.kind == "b" else shares.commit_s
            expected = envelope.commit_b if revealed.kind == "b" else envelope.commit_s
            if commit(context, revealed.dealer, sender, revealed.share, revealed.salt) != expected:
                findings.append(
                    Finding(
                        sender,
                        revealed.dealer,
                        "bad-share",
                        f"{revealed.kind}-share does not open the dealer's commitment",
                    )
                )
                continue
            key = (revealed.dealer, revealed.kind)
            points.setdefault(key, []).append((context.index(sender), revealed.share))
    return points


def _rebuild(context: Context, points: _Points, dealer: str, kind: ShareKind) -> bytes:
    """Rebuild ``dealer``'s seed (``"b"``) or mask private key (``"s"``).

    From the valid shares of the ``threshold`` lowest-indexed senders: a fixed choice, so
    every member and the audit rebuild from the same shares.
    """
    valid = points.get((dealer, kind), [])
    if len(valid) < context.threshold:
        what = "seed" if kind == "b" else "mask key"
        raise _unrecoverable(
            "too-few-shares",
            dealer,
            f"{len(valid)} valid share(s) of its {what} were revealed, "
            f"{context.threshold} are needed",
        )
    chosen = sorted(valid)[: context.threshold]
    if kind == "b":
        return shares.combine(chosen)
    half = shares.SHARE_BYTES
    low = shares.combine([(index, share[:half]) for index, share in chosen])
    high = shares.combine([(index, share[half:]) for index, share in chosen])
    return low + high


def _unrecoverable(reason: str, dealer: str, why: str) -> SecAggError:
    advice = (
        "wait for more recovery messages or abandon the round"
        if reason == "too-few-shares"
        else "the dealer cheated; abandon the round"
    )
    return SecAggError(reason, f"the round cannot be unmasked: for {dealer}, {why}; {advice}")
