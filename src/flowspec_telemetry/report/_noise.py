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


# The epsilons this mechanism can draw for in floating point. Above the top, a =
# exp(-epsilon) is so small that the noise is 0 almost surely (and exp underflows
# to 0 past ~745: log(0) fails); below the bottom, a rounds towards 1 and the
# draw divides by log(1) = 0. Both ends are far past any useful setting.
EPSILON_MIN: Final = 1e-6
EPSILON_MAX: Final = 100.0


def epsilon_problem(epsilon: float) -> str | None:
    """Why `epsilon` cannot be used, in one line fit for the CLI, or None when it can."""
    if not (math.isfinite(epsilon) and epsilon > 0):
        return "--epsilon must be a positive number"
    if not EPSILON_MIN <= epsilon <= EPSILON_MAX:
        return f"--epsilon must be between {EPSILON_MIN:g} and {EPSILON_MAX:g} (got {epsilon:g})"
    return None


def alpha(epsilon: float, sensitivity: int = 1) -> float:
    problem = epsilon_problem(epsilon)
    if problem is not None:
        raise ValueError(problem.removeprefix("--"))
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
