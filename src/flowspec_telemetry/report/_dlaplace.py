"""An exact discrete Laplace sampler driven by a keyed, deterministic bit stream.

Share reports (format 2) add discrete Laplace noise to every cell:

    P(Z = z) = (1 - a) / (1 + a) * a^|z|,   a = exp(-1 / scale)

which is the two-sided geometric distribution; with scale = Δ / ε (Δ the L1
sensitivity of the table) it gives ε-differential privacy (Ghosh,
Roughgarden, Sundararajan 2009). Why a sampler of our own and not a library:

- **Exact.** A sampler that computes `log(u) / log(a)` on floats has gaps
  and a distorted tail (Mironov 2012); this one follows Canonne, Kamath and
  Steinke 2020 ("The Discrete Gaussian for Differential Privacy", Algorithm
  2) and uses only integer and `fractions.Fraction` arithmetic: every
  Bernoulli(exp(-g)) is built from Bernoulli(g / k) trials, each a uniform
  integer compared with a numerator. The scale is a rational number.
- **Deterministic per cell.** The noise of a cell must be the same each time
  the report of a week is made (so re-making it leaks nothing new), which
  needs a seeded source; OpenDP's samplers draw from the operating system's
  CSPRNG only and cannot be seeded, and diffprivlib samples on floats. Here
  the bits come from `KeyedBits`: SHA-256 in counter mode over a 32-byte
  seed that the caller derives with HMAC-SHA256 from the project's secret
  salt and the (period, table, cell). Without the salt the stream cannot be
  predicted; with it, it is always the same.
- **No dependency** on the report path (standard library only).
"""

from __future__ import annotations

import hashlib
from fractions import Fraction
from typing import Final, Protocol

__all__ = ["BitSource", "KeyedBits", "discrete_laplace", "variance"]

_BLOCK_BITS: Final = 256


class BitSource(Protocol):
    """Anything that yields uniform random bits (tests may pass a seeded `random.Random`)."""

    def getrandbits(self, k: int, /) -> int: ...


class KeyedBits:
    """Uniform bits from SHA-256(seed || counter), 256 at a time, never reused."""

    __slots__ = ("_avail", "_counter", "_pool", "_seed")

    def __init__(self, seed: bytes) -> None:
        if len(seed) < 16:
            raise ValueError("the seed must have at least 16 bytes")
        self._seed = hashlib.sha256(seed)
        self._counter = 0
        self._pool = 0
        self._avail = 0

    def getrandbits(self, k: int, /) -> int:
        """`k` fresh bits as an integer in [0, 2^k)."""
        while self._avail < k:
            block = self._seed.copy()
            block.update(self._counter.to_bytes(8, "big"))
            self._counter += 1
            self._pool = (self._pool << _BLOCK_BITS) | int.from_bytes(block.digest(), "big")
            self._avail += _BLOCK_BITS
        self._avail -= k
        out = self._pool >> self._avail
        self._pool &= (1 << self._avail) - 1
        return out


def _below(src: BitSource, n: int) -> int:
    """A uniform integer in [0, n), by rejection (no modulo bias)."""
    if n == 1:
        return 0
    bits = (n - 1).bit_length()
    while True:
        value = src.getrandbits(bits)
        if value < n:
            return value


def _bernoulli_exp_at_most_1(src: BitSource, num: int, den: int) -> bool:
    """True with probability exp(-num/den) for 0 <= num <= den (CKS20, Algorithm 1).

    Trial k succeeds with probability (num/den) / k: a uniform integer below
    den * k compared with num, so every step is exact integer arithmetic.
    """
    k = 1
    while _below(src, den * k) < num:
        k += 1
    return k % 2 == 1


def _bernoulli_exp(src: BitSource, num: int, den: int) -> bool:
    """True with probability exp(-num/den) for num >= 0."""
    while num > den:
        if not _bernoulli_exp_at_most_1(src, 1, 1):
            return False
        num -= den
    return _bernoulli_exp_at_most_1(src, num, den)


def discrete_laplace(src: BitSource, scale: Fraction) -> int:
    """One draw Z with P(Z = z) proportional to exp(-|z| / scale) (CKS20, Algorithm 2)."""
    if scale <= 0:
        raise ValueError("the scale must be positive")
    t, s = scale.numerator, scale.denominator  # scale = t / s
    while True:
        u = _below(src, t)
        if not _bernoulli_exp(src, u, t):
            continue
        v = 0
        while _bernoulli_exp_at_most_1(src, 1, 1):
            v += 1
        y = (u + t * v) // s
        negative = src.getrandbits(1) == 1
        if negative and y == 0:
            continue
        return -y if negative else y


def variance(scale: float) -> float:
    """The variance of the noise: 2a / (1 - a)^2 with a = exp(-1 / scale)."""
    import math

    a = math.exp(-1.0 / scale)
    return 2 * a / (1 - a) ** 2
