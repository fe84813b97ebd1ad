"""The protocol core: what every honest member must reproduce, as pure functions.

- :mod:`.update`: a member's update (train, delta, clip + noise, compress, encode);
- :mod:`.aggregate`: a round's aggregate (fetch, verify, validate with reasons, rule,
  encode), bit-exact;
- :mod:`.decide`: a member's next action from a snapshot of its round;
- :mod:`.genesis`: the task and tensor layout the genesis model pins;
- :mod:`.seeds`: the one derivation of a member's training seed;
- :mod:`.simulation`: all of it in one process, over an in-memory store.

The agent drives these over chain + store; the demo, experiments, benchmarks and the
audit call the same functions.
"""

from daofed.protocol.aggregate import (
    Exclusion,
    RoundAggregate,
    Submission,
    SubmittedUpdate,
    UpdatePolicy,
    aggregate_round,
    check_policy,
    fetch_delta,
)
from daofed.protocol.decide import Action, PrivateFacts, next_action
from daofed.protocol.genesis import (
    Genesis,
    check_task,
    decode_model,
    fetch_genesis,
    fetch_model,
    genesis_blob,
    read_genesis,
)
from daofed.protocol.seeds import training_seed
from daofed.protocol.update import (
    Update,
    UpdateRecipe,
    encode_delta,
    fit_checked,
    fit_config,
    make_update,
)

__all__ = [
    "Action",
    "Exclusion",
    "Genesis",
    "PrivateFacts",
    "RoundAggregate",
    "Submission",
    "SubmittedUpdate",
    "Update",
    "UpdatePolicy",
    "UpdateRecipe",
    "aggregate_round",
    "check_policy",
    "check_task",
    "decode_model",
    "encode_delta",
    "fetch_delta",
    "fetch_genesis",
    "fetch_model",
    "fit_checked",
    "fit_config",
    "genesis_blob",
    "make_update",
    "next_action",
    "read_genesis",
    "training_seed",
]
