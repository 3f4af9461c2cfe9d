"""Distinct counts that stay exact while small and bounded in memory when large.

`insights` counts distinct sessions per role (question 3: the share of
developer sessions that used a security agent). A set of every session id
grows with history: 10 million events hold ~650,000 sessions, about 60 MB of
Python strings. So a `Distinct` keeps the exact set up to `EXACT_LIMIT` values
and then switches to linear counting (Whang et al., 1990) over a bitmap of
`BITS` bits (32 KiB): each value sets one bit, the count is
`-BITS * ln(zero bits / BITS)`. Its standard error is under 0.2 % up to
250,000 distinct values and under 0.5 % up to a million; past about three
million the bitmap saturates and the count stops growing.

Both forms merge exactly: a union of sets, an OR of bitmaps. The switch
depends only on the number of distinct values seen, so folding a history in
one pass, in parallel pieces, or from archive summaries gives the same state,
and so the same answer.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from typing import Any, Final

__all__ = ["BITS", "EXACT_LIMIT", "Distinct"]

EXACT_LIMIT: Final = 16_384
BITS: Final = 1 << 18
_MASK: Final = BITS - 1
_HEX: Final = frozenset("0123456789abcdef")


def _bit(value: str) -> int:
    """The bit a value sets: our keyed hashes are uniform already, anything else is hashed."""
    if len(value) == 21 and value.startswith("hmac:") and _HEX.issuperset(value[5:]):
        return int(value[5:], 16) & _MASK
    digest = hashlib.blake2b(value.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big") & _MASK


class Distinct:
    """A set of strings that answers `len()`: exact up to `EXACT_LIMIT`, estimated above."""

    __slots__ = ("bits", "exact")

    def __init__(self, values: Iterable[str] = ()) -> None:
        self.exact: set[str] | None = set()
        self.bits: bytearray | None = None
        self.update(values)

    @property
    def is_exact(self) -> bool:
        return self.exact is not None

    def add(self, value: str) -> None:
        exact = self.exact
        if exact is not None:
            exact.add(value)
            if len(exact) > EXACT_LIMIT:
                self._to_bits()
            return
        bit = _bit(value)
        bits = self.bits
        assert bits is not None  # noqa: S101 - one of the two forms is always set
        bits[bit >> 3] |= 1 << (bit & 7)

    def update(self, values: Iterable[str]) -> None:
        exact = self.exact
        if exact is not None:
            exact.update(values)
            if len(exact) > EXACT_LIMIT:
                self._to_bits()
            return
        for value in values:
            self.add(value)

    def _to_bits(self) -> None:
        bits = bytearray(BITS // 8)
        for value in self.exact or ():
            bit = _bit(value)
            bits[bit >> 3] |= 1 << (bit & 7)
        self.bits = bits
        self.exact = None

    def merge(self, other: Distinct) -> None:
        """Fold `other` in: the union of both (exact while the union is small)."""
        if other.exact is not None:
            self.update(other.exact)
            return
        if self.exact is not None:
            self._to_bits()
        mine = self.bits
        assert mine is not None  # noqa: S101 - converted just above
        assert other.bits is not None  # noqa: S101 - not exact, so a bitmap
        merged = int.from_bytes(mine, "little") | int.from_bytes(other.bits, "little")
        self.bits = bytearray(merged.to_bytes(BITS // 8, "little"))

    def __len__(self) -> int:
        if self.exact is not None:
            return len(self.exact)
        assert self.bits is not None  # noqa: S101 - one of the two forms is always set
        ones = int.from_bytes(self.bits, "little").bit_count()
        zeros = BITS - ones
        if zeros == 0:  # saturated: the largest count the bitmap can tell
            return round(BITS * math.log(BITS))
        return round(-BITS * math.log(zeros / BITS))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Distinct) and (self.exact, self.bits) == (other.exact, other.bits)

    __hash__ = None  # type: ignore[assignment]  # mutable

    def bitmap(self) -> bytes:
        """The bitmap these values set (made from the exact set when there is one)."""
        if self.bits is not None:
            return bytes(self.bits)
        bits = bytearray(BITS // 8)
        for value in self.exact or ():
            bit = _bit(value)
            bits[bit >> 3] |= 1 << (bit & 7)
        return bytes(bits)

    def merge_bitmap(self, packed: str) -> None:
        """OR in a `pack`ed bitmap; only valid when this set is no longer exact."""
        assert self.bits is not None  # noqa: S101 - callers check `is_exact` first
        other = _unpack(packed)
        merged = int.from_bytes(self.bits, "little") | int.from_bytes(other, "little")
        self.bits = bytearray(merged.to_bytes(BITS // 8, "little"))

    def to_state(self, *, with_bitmap: bool = False) -> Any:
        """A JSON value: the sorted values while exact (and, with `with_bitmap`, their
        packed bitmap, so a merge into an estimated set is one OR), else the bitmap."""
        if self.exact is not None:
            values = sorted(self.exact)
            return {"ids": values, "bits": pack(self.bitmap())} if with_bitmap else values
        assert self.bits is not None  # noqa: S101 - one of the two forms is always set
        return {"bits": pack(bytes(self.bits))}

    def merge_state(self, state: Any) -> None:
        """Merge a `to_state` value in; ValueError (nothing merged) when it is not one."""
        if type(state) is list:
            if state and set(map(type, state)) != {str}:
                raise ValueError("not a distinct-count state")
            self.update(state)
            return
        if type(state) is not dict or type(state.get("bits")) is not str:
            raise ValueError("not a distinct-count state")
        ids = state.get("ids")
        if ids is None:  # an estimated set
            other = bytearray(_unpack(state["bits"]))
            if self.exact is not None:
                self._to_bits()
            self.merge(_from_bits(other))
            return
        if type(ids) is not list or (ids and set(map(type, ids)) != {str}):
            raise ValueError("not a distinct-count state")
        if self.exact is not None:
            self.update(ids)
        else:
            self.merge_bitmap(state["bits"])

    @classmethod
    def from_state(cls, state: Any) -> Distinct:
        """Inverse of `to_state`; raises ValueError on anything else."""
        out = cls()
        out.merge_state(state)
        return out


def _from_bits(bits: bytearray) -> Distinct:
    out = Distinct()
    out.exact, out.bits = None, bits
    return out


def pack(bitmap: bytes) -> str:
    import base64
    import zlib

    return base64.b64encode(zlib.compress(bitmap, 6)).decode("ascii")


def _unpack(packed: str) -> bytes:
    """A packed bitmap's bytes; ValueError unless it is exactly one bitmap."""
    import base64
    import binascii
    import zlib

    try:  # never inflate more than one bitmap's worth (a hostile summary)
        inflate = zlib.decompressobj()
        raw = inflate.decompress(base64.b64decode(packed, validate=True), BITS // 8)
    except (binascii.Error, zlib.error) as exc:
        raise ValueError(f"bad bitmap: {exc}") from None
    if len(raw) != BITS // 8 or inflate.unconsumed_tail or not inflate.eof:
        raise ValueError("bitmap of the wrong size")
    return raw
