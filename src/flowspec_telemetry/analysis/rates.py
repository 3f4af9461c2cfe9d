"""Rates and how they are said: the one set of formatters for terminal, HTML and org.

A rate is a ratio with what it is based on (`Rate`). Its `value` is None
when it would mislead: the denominator is below the minimum (`enough_data`
false), or the numerator exceeds it (`comparable` false: a window cut runs
in two, or counts were suppressed or noised before sharing, and a rate above
100 % would be wrong). Every place that shows a rate says the same thing
about it through the functions below, so the local and the org answers, the
terminal and the HTML report cannot drift apart again (the org terminal once
said "not enough data" where the local one said "not comparable").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, TypedDict

__all__ = [
    "MIN_DENOMINATOR",
    "Rate",
    "percent",
    "rate",
    "rate_figure",
    "rate_phrase",
    "rate_text",
    "why_no_value",
]

MIN_DENOMINATOR: Final = 5
"""Below this many cases in the denominator a rate is "not enough data"."""


class Rate(TypedDict):
    """A ratio and its base, as it appears in the insights JSON."""

    value: float | None
    numerator: int
    denominator: int
    enough_data: bool
    comparable: bool


def rate(numerator: int, denominator: int, minimum: int = MIN_DENOMINATOR) -> Rate:
    """A ratio with what it is based on; `value` is None when it would mislead."""
    enough = denominator >= minimum
    comparable = numerator <= denominator
    return {
        "value": round(numerator / denominator, 4)
        if enough and comparable and denominator
        else None,
        "numerator": numerator,
        "denominator": denominator,
        "enough_data": enough,
        "comparable": comparable,
    }


def why_no_value(r: Mapping[str, Any] | None) -> str:
    """The short reason a rate has no value ("not comparable", "not enough data"), or ""."""
    if r is not None and r.get("comparable") is False:
        return "not comparable"
    return "not enough data" if r is None or r.get("value") is None else ""


def rate_text(r: Mapping[str, Any]) -> str:
    """Why a rate has no value, said in full for an answer; "" when it has one."""
    if r.get("comparable") is False:
        return "not comparable: more than its base (counts cut by a window, suppressed or noised)"
    return "not enough data" if r.get("value") is None else ""


def percent(value: float | None) -> str:
    """A rate's value as a whole percentage ("80%"), or "not enough data"."""
    return "not enough data" if value is None else f"{value * 100:.0f}%"


def rate_phrase(r: Mapping[str, Any]) -> str:
    """A rate inside an answer sentence: "80% (8 of 10)", or the full reason and the counts."""
    if r["value"] is None:
        return f"{rate_text(r)} ({r['numerator']} of {r['denominator']})"
    return f"{percent(r['value'])} ({r['numerator']} of {r['denominator']})"


def rate_figure(r: Mapping[str, Any] | None) -> str:
    """A rate as a terminal figure: "80% (8/10)", "not comparable (6/5)", "not enough data"."""
    if not r:
        return "not enough data"
    if r["value"] is None:
        return f"{why_no_value(r)} ({r['numerator']}/{r['denominator']})"
    return f"{percent(r['value'])} ({r['numerator']}/{r['denominator']})"
