"""One exception hierarchy for daofed.

Every message says what failed and what the user can do about it, so the CLI can print
``str(error)`` as it is. Callers catch :class:`DaofedError` for anything daofed raises.
"""

from __future__ import annotations


class DaofedError(Exception):
    """Base of every error daofed raises on purpose."""


class ConfigError(DaofedError):
    """A deployment file, keystore, flag or argument is missing or wrong."""


class ChainError(DaofedError):
    """Talking to the chain failed."""


class RpcUnavailable(ChainError):
    """The JSON-RPC endpoint could not be reached (after retries)."""


class ContractRevert(ChainError):
    """A transaction or call was rejected by the contract with a named custom error.

    ``error`` is the Solidity error name (``"AlreadySubmitted"``), ``args`` its decoded
    arguments by name, so callers can branch on the reason instead of parsing text.
    """

    def __init__(self, error: str, args: dict[str, object], message: str) -> None:
        super().__init__(message)
        self.error = error
        self.args_by_name = args


class StorageError(DaofedError):
    """Storing or fetching a blob failed."""


class StoreUnavailable(StorageError):
    """The blob store (e.g. an IPFS node) could not be reached (after retries)."""


class BlobNotFound(StorageError):
    """No blob is stored under the requested reference."""


class DigestMismatch(StorageError):
    """Fetched bytes do not hash to the digest they were requested by."""


class InvalidBlob(StorageError):
    """Bytes are not an acceptable model/update: not safetensors, wrong tensors, NaN...

    ``reason`` is a short machine-readable tag (``"not-safetensors"``, ``"wrong-shape"``,
    ``"non-finite"`` ...) used in logs, status and audit output.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class LearningError(DaofedError):
    """Training, evaluation or aggregation cannot proceed with the given inputs."""


class TaskError(LearningError):
    """A federation's task (user code) failed or returned something unusable this round.

    The member does not submit that round and keeps running; nothing is lost.
    """
