"""The exact discrete Laplace sampler: its distribution, its determinism, its bit source.

Enough draws that a wrong scale fails: at 40,000 draws the variance is known
to about 1.1 % (5 standard errors: 6 %), while the nearest wrong
scales a bug could produce (a sensitivity off by one, epsilon instead of
epsilon / share) move it by 15 % or more.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from fractions import Fraction

import pytest

from flowspec_telemetry.report._dlaplace import KeyedBits, discrete_laplace, variance

N = 40_000


def _pmf(z: int, scale: float) -> float:
    a = math.exp(-1 / scale)
    return (1 - a) / (1 + a) * a ** abs(z)


def _tail(t: int, scale: float) -> float:
    """P(|Z| >= t) for t >= 1: 2 a^t / (1 + a)."""
    a = math.exp(-1 / scale)
    return 2 * a**t / (1 + a)


@pytest.mark.parametrize(
    ("scale", "source"),
    [
        (Fraction(1, 2), "keyed"),
        (Fraction(72, 5), "keyed"),
        (Fraction(3), "seeded"),
    ],
)
def test_mean_variance_point_mass_and_tail(scale: Fraction, source: str) -> None:
    src = (
        KeyedBits(b"test-seed-" + str(scale).encode() * 4)
        if source == "keyed"
        else random.Random(7)  # noqa: S311 - a seeded test source
    )
    draws = [discrete_laplace(src, scale) for _ in range(N)]
    s = float(scale)
    var = variance(s)
    mean = sum(draws) / N
    assert abs(mean) < 5 * math.sqrt(var / N), mean
    sample_var = sum(x * x for x in draws) / N
    # the variance of Z^2 is E[Z^4] - var^2; for the discrete Laplace E[Z^4] is about 6 var^2
    se_var = math.sqrt(5 * var * var / N) + 1e-9
    assert abs(sample_var - var) < 5 * se_var, (sample_var, var)
    counts = Counter(draws)
    p0 = _pmf(0, s)
    assert abs(counts[0] / N - p0) < 5 * math.sqrt(p0 * (1 - p0) / N)
    # symmetric
    pos, neg = sum(1 for x in draws if x > 0), sum(1 for x in draws if x < 0)
    assert abs(pos - neg) < 5 * math.sqrt(pos + neg)
    # the tail at about two standard deviations
    t = max(1, round(2 * math.sqrt(var)))
    p_tail = _tail(t, s)
    observed = sum(1 for x in draws if abs(x) >= t) / N
    assert abs(observed - p_tail) < 5 * math.sqrt(p_tail * (1 - p_tail) / N), (observed, p_tail)


def test_a_wrong_scale_is_caught() -> None:
    """The same checks reject draws made with a scale 20 % off: the test can fail."""
    src = KeyedBits(b"another-seed-0123456789")
    draws = [discrete_laplace(src, Fraction(12)) for _ in range(N)]
    var = variance(14.4)
    sample_var = sum(x * x for x in draws) / N
    assert abs(sample_var - var) > 5 * math.sqrt(5 * var * var / N)


def test_keyed_bits_are_deterministic_and_seed_dependent() -> None:
    a = [discrete_laplace(KeyedBits(b"s" * 32), Fraction(4)) for _ in range(3)]
    assert a == [discrete_laplace(KeyedBits(b"s" * 32), Fraction(4)) for _ in range(3)]
    one, two = KeyedBits(b"s" * 32), KeyedBits(b"s" * 32)
    assert [one.getrandbits(13) for _ in range(50)] == [two.getrandbits(13) for _ in range(50)]
    other = KeyedBits(b"t" * 32)
    assert [KeyedBits(b"s" * 32).getrandbits(64)] != [other.getrandbits(64)]


def test_keyed_bits_are_uniform() -> None:
    src = KeyedBits(b"uniformity-check-seed")
    ones = sum(bin(src.getrandbits(64)).count("1") for _ in range(5000))
    total = 64 * 5000
    assert abs(ones - total / 2) < 5 * math.sqrt(total / 4)
    values = Counter(src.getrandbits(3) for _ in range(40_000))
    for v in range(8):
        assert abs(values[v] - 5000) < 5 * math.sqrt(5000)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="positive"):
        discrete_laplace(KeyedBits(b"x" * 16), Fraction(0))
    with pytest.raises(ValueError, match="16 bytes"):
        KeyedBits(b"short")
