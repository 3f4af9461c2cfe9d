"""Partial results as JSON values, checked as they are merged back (archive summaries).

The warm path of `history.reader.fold` merges a thousand such values, so the
checks use whole-list operations (`dict`, `map`, `min`) rather than a Python
loop per item; anything a fold's `dump` would not have written raises
`ValueError`, and the reader then reads that archive instead of trusting its
summary. Shared by the fold specs of `stats` and `insights`.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Final

__all__ = [
    "STATE_VERSION",
    "add_counts",
    "add_pairs",
    "bad",
    "count",
    "earliest",
    "latest",
    "mapping",
    "nested",
    "pairs",
    "text",
]

STATE_VERSION: Final = "2"  # 2: `runs_without_end` (legacy runs)


def bad(what: str) -> ValueError:
    return ValueError(f"summary state: bad {what}")


def pairs(items: Any, key_type: type) -> dict[Any, int]:
    """`[[key, n], ...]` as a dict, every key of `key_type` (once), every count an int > 0.

    Checked with whole-list operations (`dict`, `map`, `min`), not a loop per
    item: the warm path checks a thousand summaries' worth of them.
    """
    if type(items) is not list or (items and set(map(type, items)) != {list}):
        raise bad("counts")
    try:
        pairs = dict(items)
    except (TypeError, ValueError):
        raise bad("counts") from None
    if len(pairs) != len(items):
        raise bad("counts")  # a key twice, or an item that is not a pair
    if pairs and (
        set(map(type, pairs)) != {key_type}
        or set(map(type, pairs.values())) != {int}
        or min(pairs.values()) <= 0
    ):
        raise bad("counts")
    return pairs


def add_counts(counter: Counter[str], items: Any) -> None:
    """Add `[[key, n], ...]` (keys text, counts whole numbers > 0) into `counter`."""
    counter.update(pairs(items, str))  # into an empty Counter: one C-level dict update


def add_pairs(counter: Counter[tuple[str, str]], items: Any) -> None:
    if type(items) is not list:
        raise bad("pair counts")
    for item in items:
        if type(item) is not list or len(item) != 3:
            raise bad("pair counts")
        a, b, n = item
        if type(a) is not str or type(b) is not str or type(n) is not int or n <= 0:
            raise bad("pair counts")
        counter[(a, b)] += n


def count(value: Any, what: str) -> int:
    if type(value) is not int or value < 0:
        raise bad(what)
    return value


def text(value: Any, what: str) -> str | None:
    if value is not None and type(value) is not str:
        raise bad(what)
    return value


def mapping(value: Any, what: str) -> dict[str, Any]:
    if type(value) is not dict:
        raise bad(what)
    return value


def nested(target: dict[str, Counter[str]], items: Any, what: str) -> None:
    for key, counts in mapping(items, what).items():
        counter = target.get(key)
        if counter is None:
            counter = target[key] = Counter()
        add_counts(counter, counts)


def earliest(a: str | None, b: str | None) -> str | None:
    return b if a is None or (b is not None and b < a) else a


def latest(a: str | None, b: str | None) -> str | None:
    return b if a is None or (b is not None and b > a) else a
