"""Secure aggregation (SecAgg, Bonawitz et al. CCS'17) with the chain as bulletin board.

Members mask their fixed-point updates with pairwise masks that cancel in the sum and a
self mask; shares of the mask secrets let the round finish when members drop out; anyone
holding the round's public messages can compute the exact aggregate and nothing else.
This package is the pure protocol: keys, masks, shares, messages and unmasking. Wiring it
to the chain and the agent is a separate layer. See docs/privacy.md.
"""

from daofed.secagg.context import Context
from daofed.secagg.errors import Finding, SecAggError
from daofed.secagg.fixedpoint import BOUND, FRACTION_BITS, Layout, fixed_point_fedavg
from daofed.secagg.keys import KeyPair, check_public_key, derive_identity
from daofed.secagg.member import RoundSecrets, build_masked_update, build_recovery, build_setup
from daofed.secagg.messages import (
    MaskedUpdate,
    RecoveryMessage,
    RevealedShare,
    SetupMessage,
    decode_masked,
    decode_recovery,
    decode_setup,
    encode_masked,
    encode_recovery,
    encode_setup,
)
from daofed.secagg.unmask import UnmaskResult, unmask

__all__ = [
    "BOUND",
    "FRACTION_BITS",
    "Context",
    "Finding",
    "KeyPair",
    "Layout",
    "MaskedUpdate",
    "RecoveryMessage",
    "RevealedShare",
    "RoundSecrets",
    "SecAggError",
    "SetupMessage",
    "UnmaskResult",
    "build_masked_update",
    "build_recovery",
    "build_setup",
    "check_public_key",
    "decode_masked",
    "decode_recovery",
    "decode_setup",
    "derive_identity",
    "encode_masked",
    "encode_recovery",
    "encode_setup",
    "fixed_point_fedavg",
    "unmask",
]
