"""`--epsilon` at the edges of floating point (issue 13.13).

`--epsilon 1000` made exp(-epsilon) underflow to 0 (log(0): a traceback) and
`--epsilon 1e-17` made it round to 1 (a division by log(1) = 0). Every epsilon
the CLI accepts must draw, and every other one is one line on stderr, exit 2,
and no file touched.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowspec_telemetry.cli.app import run
from flowspec_telemetry.report import _noise as noise


@settings(deadline=None)  # a bound on behaviour, not on time: the machine is shared
@given(st.floats(min_value=noise.EPSILON_MIN, max_value=noise.EPSILON_MAX), st.integers(1, 8))
def test_every_accepted_epsilon_draws_and_has_a_finite_variance(
    epsilon: float, sensitivity: int
) -> None:
    assert isinstance(noise.two_sided_geometric(epsilon, sensitivity), int)
    assert math.isfinite(noise.variance(epsilon, sensitivity))


@settings(deadline=None)  # a bound on behaviour, not on time: the machine is shared
@given(
    st.floats(allow_nan=True, allow_infinity=True).filter(
        lambda e: not noise.EPSILON_MIN <= e <= noise.EPSILON_MAX
    )
)
def test_every_other_epsilon_is_refused_with_a_reason(epsilon: float) -> None:
    assert noise.epsilon_problem(epsilon) is not None
    with pytest.raises(ValueError, match="epsilon"):
        noise.two_sided_geometric(epsilon)


@pytest.mark.parametrize(
    "epsilon", ["1000", "1e-17", "746", "1e-7", "1e308", "inf", "nan", "0", "-1"]
)
def test_cli_refuses_an_unusable_epsilon_in_one_line(
    consented: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    epsilon: str,
) -> None:
    monkeypatch.chdir(consented)
    before = sorted(p.name for p in consented.rglob("*"))
    code = run(["report", "--preview", "--epsilon", epsilon])
    err = capsys.readouterr().err
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and "epsilon" in err
    assert sorted(p.name for p in consented.rglob("*")) == before
