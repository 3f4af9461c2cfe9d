"""The two-sided geometric mechanism (discrete Laplace) for counts.

For a count with L1 sensitivity `s` (adding or removing one unit of privacy
changes it by at most `s`), adding noise Z with

    P(Z = z) = (1 - a) / (1 + a) * a^|z|,   a = exp(-epsilon / s)

gives epsilon-differential privacy (Ghosh, Roughgarden, Sundararajan 2009).
Z has mean 0 and variance 2a / (1 - a)^2. Z is drawn as the difference of
two geometric variables G1 - G2 with P(G = g) = (1 - a) a^g, each sampled by
inversion from a uniform draw.

Real reports draw from `random.SystemRandom` (the operating system's CSPRNG,
what `secrets` uses); tests inject a seeded `random.Random`.
"""

from __future__ import annotations

import math
import random
from typing import Final

MECHANISM: Final = "two-sided-geometric"


def alpha(epsilon: float, sensitivity: int = 1) -> float:
    if not (math.isfinite(epsilon) and epsilon > 0):
        raise ValueError("epsilon must be a positive, finite number")
    if sensitivity < 1:
        raise ValueError("sensitivity must be at least 1")
    return math.exp(-epsilon / sensitivity)


def variance(epsilon: float, sensitivity: int = 1) -> float:
    """The variance of the noise: 2a / (1 - a)^2."""
    a = alpha(epsilon, sensitivity)
    return 2 * a / (1 - a) ** 2


def _geometric(a: float, rng: random.Random) -> int:
    """P(G = g) = (1 - a) a^g for g >= 0, by inversion."""
    u = 1.0 - rng.random()  # in (0, 1]
    return math.floor(math.log(u) / math.log(a))


def two_sided_geometric(
    epsilon: float, sensitivity: int = 1, rng: random.Random | None = None
) -> int:
    """One draw of the noise for a count."""
    a = alpha(epsilon, sensitivity)
    source = rng if rng is not None else random.SystemRandom()
    return _geometric(a, source) - _geometric(a, source)
