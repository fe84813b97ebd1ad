"""A tiny strict binary format: fixed-size fields, big-endian counts, nothing optional.

Every message starts with ``MAGIC | version | kind | context label``, so bytes meant for
another kind of message, protocol version or round are refused before anything else is
read. The reader never guesses: a short field, a trailing byte or an unknown value is a
:class:`SecAggError` naming the field. No pickle, no self-describing format whose parser
could be talked into building objects.
"""

from __future__ import annotations

from collections.abc import Iterable

from daofed.secagg.context import Context, address_bytes, address_text
from daofed.secagg.errors import SecAggError

MAGIC = b"DFSA"
VERSION = 1
SETUP, MASKED, RECOVERY = 1, 2, 3
_KIND_NAMES = {SETUP: "setup message", MASKED: "masked update", RECOVERY: "recovery message"}


class Writer:
    """Collects fields; :meth:`value` joins them."""

    def __init__(self, kind: int, context: Context) -> None:
        self._parts = [MAGIC, bytes([VERSION, kind]), context.label()]

    def raw(self, data: bytes, size: int, what: str) -> None:
        """Append a fixed-size byte field."""
        if len(data) != size:
            raise SecAggError("malformed", f"{what} must be {size} bytes, got {len(data)}")
        self._parts.append(data)

    def uint(self, value: int, size: int, what: str) -> None:
        """Append an unsigned big-endian integer of ``size`` bytes."""
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 256**size:
            raise SecAggError("malformed", f"{what} must be an int in [0, 2^{8 * size})")
        self._parts.append(value.to_bytes(size, "big"))

    def address(self, address: str) -> None:
        """Append a 20-byte address."""
        self._parts.append(address_bytes(address))

    def members(self, context: Context, subset: Iterable[str]) -> None:
        """Append a set of members as a bitmap over ``context.members`` (bit i = position i)."""
        bits = 0
        for member in subset:
            bits |= 1 << context.position(member)
        self._parts.append(bits.to_bytes(_bitmap_bytes(context), "little"))

    def value(self) -> bytes:
        """Return the message's bytes."""
        return b"".join(self._parts)


class Reader:
    """Reads fields in order from untrusted bytes; every failure names the field."""

    def __init__(self, data: bytes, kind: int, context: Context) -> None:
        self._data = memoryview(data).cast("B")
        self._at = 0
        self.what = _KIND_NAMES[kind]
        if self.raw(len(MAGIC), "magic") != MAGIC:
            raise SecAggError("malformed", f"not a daofed {self.what} (wrong magic bytes)")
        version, found = self.raw(2, "version and kind")
        if version != VERSION:
            raise SecAggError("malformed", f"{self.what}: unsupported version {version}")
        if found != kind:
            raise SecAggError(
                "malformed", f"expected a {self.what}, got {_KIND_NAMES.get(found, found)}"
            )
        if self.raw(len(context.label()), "label") != context.label():
            raise SecAggError(
                "wrong-round", f"{self.what} was made for another chain, contract or round"
            )

    def raw(self, size: int, field: str) -> bytes:
        """Read the next ``size`` bytes."""
        end = self._at + size
        if end > len(self._data):
            raise SecAggError("truncated", f"{self.what} ends inside field {field}")
        chunk = bytes(self._data[self._at : end])
        self._at = end
        return chunk

    def uint(self, size: int, field: str) -> int:
        """Read an unsigned big-endian integer of ``size`` bytes."""
        return int.from_bytes(self.raw(size, field), "big")

    def address(self, context: Context, field: str) -> str:
        """Read a 20-byte address, which must be a member of the round."""
        member = address_text(self.raw(20, field))
        if not context.is_member(member):
            raise SecAggError("unknown-member", f"{self.what}: {field} {member} is not a member")
        return member

    def members(self, context: Context, field: str) -> tuple[str, ...]:
        """Read a member bitmap written by :meth:`Writer.members`; stray bits are refused."""
        bits = int.from_bytes(self.raw(_bitmap_bytes(context), field), "little")
        if bits >> len(context.members):
            raise SecAggError("malformed", f"{self.what}: {field} names non-members")
        return tuple(m for i, m in enumerate(context.members) if bits >> i & 1)

    def rest(self) -> memoryview:
        """All remaining bytes (the last field of a message), without copying them."""
        chunk = self._data[self._at :]
        self._at = len(self._data)
        return chunk

    def finish(self) -> None:
        """Refuse trailing bytes."""
        extra = len(self._data) - self._at
        if extra:
            raise SecAggError("oversized", f"{self.what} has {extra} unexpected trailing bytes")


def _bitmap_bytes(context: Context) -> int:
    return (len(context.members) + 7) // 8
