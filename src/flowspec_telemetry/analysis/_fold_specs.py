"""How `stats` and `insights` fold the history (`history.reader.FoldSpec`).

Each spec says how to start, feed and merge its accumulator, and how to keep
a partial result in an archive summary: `dump` writes plain JSON values and
`merge_state` adds one into a live accumulator directly (the warm path merges
a thousand of them, so no intermediate accumulator is built). Every value is
type-checked as it is merged: anything `dump` would not have written raises
`ValueError`, and the reader then discards the half-merged result and reads
that archive instead of trusting its summary. A spec's `key` changes whenever its
state would: `insights` depends on which agents the catalog calls security
agents, so its key carries a digest of them.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from flowspec_telemetry.analysis._distinct import Distinct
from flowspec_telemetry.analysis.insights import MAX_LABEL, Durations, Insights
from flowspec_telemetry.analysis.stats import Stats

__all__ = ["InsightsSpec", "StatsSpec"]

_STATE_VERSION: Final = "1"
# Counters of `Insights` keyed by one string, and by a pair of strings.
_STR_COUNTERS: Final = (
    "by_type",
    "unknown_types",
    "selected",
    "selected_at_init",
    "commands",
    "agent_calls",
    "security_calls",
    "started",
    "completed",
    "failed",
)
_PAIR_COUNTERS: Final = ("changes", "offered", "clicked")
_STATS_COUNTERS: Final = ("by_type", "by_role", "commands", "agents")


def _bad(what: str) -> ValueError:
    return ValueError(f"summary state: bad {what}")


def _pairs(items: Any, key_type: type) -> dict[Any, int]:
    """`[[key, n], ...]` as a dict, every key of `key_type` (once), every count an int > 0.

    Checked with whole-list operations (`dict`, `map`, `min`), not a loop per
    item: the warm path checks a thousand summaries' worth of them.
    """
    if type(items) is not list or (items and set(map(type, items)) != {list}):
        raise _bad("counts")
    try:
        pairs = dict(items)
    except (TypeError, ValueError):
        raise _bad("counts") from None
    if len(pairs) != len(items):
        raise _bad("counts")  # a key twice, or an item that is not a pair
    if pairs and (
        set(map(type, pairs)) != {key_type}
        or set(map(type, pairs.values())) != {int}
        or min(pairs.values()) <= 0
    ):
        raise _bad("counts")
    return pairs


def _add_counts(counter: Counter[str], items: Any) -> None:
    """Add `[[key, n], ...]` (keys text, counts whole numbers > 0) into `counter`."""
    counter.update(_pairs(items, str))  # into an empty Counter: one C-level dict update


def _add_pairs(counter: Counter[tuple[str, str]], items: Any) -> None:
    if type(items) is not list:
        raise _bad("pair counts")
    for item in items:
        if type(item) is not list or len(item) != 3:
            raise _bad("pair counts")
        a, b, n = item
        if type(a) is not str or type(b) is not str or type(n) is not int or n <= 0:
            raise _bad("pair counts")
        counter[(a, b)] += n


def _count(value: Any, what: str) -> int:
    if type(value) is not int or value < 0:
        raise _bad(what)
    return value


def _text(value: Any, what: str) -> str | None:
    if value is not None and type(value) is not str:
        raise _bad(what)
    return value


def _mapping(value: Any, what: str) -> dict[str, Any]:
    if type(value) is not dict:
        raise _bad(what)
    return value


def _nested(target: dict[str, Counter[str]], items: Any, what: str) -> None:
    for key, counts in _mapping(items, what).items():
        counter = target.get(key)
        if counter is None:
            counter = target[key] = Counter()
        _add_counts(counter, counts)


# --------------------------------------------------------------------- stats


def _stats_adder(acc: Stats) -> Callable[[dict[str, Any]], None]:
    by_type, by_role, commands, agents = acc.by_type, acc.by_role, acc.commands, acc.agents

    def add(event: dict[str, Any]) -> None:
        acc.total += 1
        by_type[event["event_type"]] += 1
        role = event.get("role")
        by_role[role if isinstance(role, str) else "(none)"] += 1
        command = event.get("command")
        if isinstance(command, str):
            commands[command] += 1
        agent = event.get("agent")
        if isinstance(agent, str):
            agents[agent] += 1
        ts = event.get("timestamp")
        if isinstance(ts, str):
            if acc.first is None or ts < acc.first:
                acc.first = ts
            if acc.last is None or ts > acc.last:
                acc.last = ts

    return add


def _earliest(a: str | None, b: str | None) -> str | None:
    return b if a is None or (b is not None and b < a) else a


def _latest(a: str | None, b: str | None) -> str | None:
    return b if a is None or (b is not None and b > a) else a


@dataclass(frozen=True, slots=True)
class StatsSpec:
    """`stats`: totals by event type, role, command and agent (skipped lines set by the caller)."""

    key: str = f"stats-{_STATE_VERSION}"

    def new(self) -> Stats:
        return Stats()

    def adder(self, acc: Stats) -> Callable[[dict[str, Any]], None]:
        return _stats_adder(acc)

    def merge(self, acc: Stats, other: Stats) -> None:
        acc.total += other.total
        acc.by_type.update(other.by_type)
        acc.by_role.update(other.by_role)
        acc.commands.update(other.commands)
        acc.agents.update(other.agents)
        acc.first = _earliest(acc.first, other.first)
        acc.last = _latest(acc.last, other.last)

    def dump(self, acc: Stats) -> Any:
        return {
            "total": acc.total,
            "first": acc.first,
            "last": acc.last,
            **{name: list(getattr(acc, name).items()) for name in _STATS_COUNTERS},
        }

    def merge_state(self, acc: Stats, state: Any) -> None:
        state = _mapping(state, "stats")
        total = _count(state.get("total"), "total")
        first, last = _text(state.get("first"), "first"), _text(state.get("last"), "last")
        for name in _STATS_COUNTERS:
            _add_counts(getattr(acc, name), state.get(name))
        acc.total += total
        acc.first = _earliest(acc.first, first)
        acc.last = _latest(acc.last, last)


# ------------------------------------------------------------------ insights


def _durations_dump(d: Durations) -> dict[str, Any]:
    buckets = d.buckets if d.buckets is not None else d.bucketed()
    return {
        "n": d.count,
        "s": d.samples if d.buckets is None else None,
        "b": sorted([k, n] for k, n in buckets.items()),
    }


def _merge_durations(target: Durations, value: Any) -> None:
    """Add a `_durations_dump` value into `target` (the same as adding its values)."""
    value = _mapping(value, "durations")
    count = _count(value.get("n"), "duration count")
    samples, raw = value.get("s"), value.get("b")
    if type(raw) is not list:
        raise _bad("duration histogram")
    if samples is None and count <= Durations.EXACT_SAMPLES:
        raise _bad("duration samples")  # a fold keeps samples until there are more
    if (
        target.buckets is None
        and samples is not None
        and (target.count + count <= Durations.EXACT_SAMPLES)
    ):
        if (
            type(samples) is not list
            or len(samples) != count
            or set(map(type, samples)) - {float}
            or (samples and min(samples) < 0)
        ):
            raise _bad("duration samples")
        target.samples.extend(samples)
        target.count += count
        target.pre = None
        return
    buckets = _pairs(raw, int)
    if buckets and (min(buckets) < 0 or max(buckets) > Durations.MAX_BUCKET):
        raise _bad("duration histogram")
    if sum(buckets.values()) != count:
        raise _bad("duration histogram")
    target.merge(Durations(buckets=Counter(buckets), count=count))


@dataclass(frozen=True, slots=True)
class InsightsSpec:
    """`insights` (and the HTML report): the accumulator of `analysis.insights`."""

    security_agents: frozenset[str]
    developer_role: str | None = None  # question 3's roles (`Insights.for_catalog`)
    security_role: str | None = None

    @property
    def key(self) -> str:
        """Changes with what the state depends on: which agents and which home role make an
        invocation a security one (the developer role only chooses what is reported)."""
        basis = "\n".join([str(self.security_role), *sorted(self.security_agents)])
        digest = hashlib.sha256(basis.encode()).hexdigest()
        return f"insights-{_STATE_VERSION}-{MAX_LABEL}-{digest[:16]}"

    def new(self) -> Insights:
        return Insights(
            security_agents=self.security_agents,
            developer_role=self.developer_role,
            security_role=self.security_role,
        )

    def adder(self, acc: Insights) -> Callable[[dict[str, Any]], None]:
        return acc.add

    def merge(self, acc: Insights, other: Insights) -> None:
        acc.merge(other)

    def dump(self, acc: Insights) -> Any:
        out: dict[str, Any] = {name: list(getattr(acc, name).items()) for name in _STR_COUNTERS}
        for name in _PAIR_COUNTERS:
            out[name] = [[a, b, n] for (a, b), n in getattr(acc, name).items()]
        out["events"] = acc.events
        out["future_versions"] = acc.future_versions
        out["commands_by_role"] = {r: list(c.items()) for r, c in acc.commands_by_role.items()}
        for name in ("sessions", "security_sessions"):
            out[name] = {r: d.to_state(with_bitmap=True) for r, d in getattr(acc, name).items()}
        out["durations"] = {c: _durations_dump(d) for c, d in acc.durations.items()}
        out["by_day"] = {day: list(c.items()) for day, c in acc.by_day.items()}
        out["first"], out["last"] = acc.first, acc.last
        return out

    def merge_state(self, acc: Insights, state: Any) -> None:
        state = _mapping(state, "insights")
        events = _count(state.get("events"), "events")
        future = _count(state.get("future_versions"), "future_versions")
        first, last = _text(state.get("first"), "first"), _text(state.get("last"), "last")
        for name in _STR_COUNTERS:
            _add_counts(getattr(acc, name), state.get(name))
        for name in _PAIR_COUNTERS:
            _add_pairs(getattr(acc, name), state.get(name))
        _nested(acc.commands_by_role, state.get("commands_by_role"), "commands_by_role")
        _nested(acc.by_day, state.get("by_day"), "by_day")
        for name in ("sessions", "security_sessions"):
            mine = getattr(acc, name)
            for role, value in _mapping(state.get(name), name).items():
                target = mine.get(role)
                if target is None:
                    target = mine[role] = Distinct()
                target.merge_state(value)
        for cmd, value in _mapping(state.get("durations"), "durations").items():
            target_d = acc.durations.get(cmd)
            if target_d is None:
                target_d = acc.durations[cmd] = Durations()
            _merge_durations(target_d, value)
        acc.events += events
        acc.future_versions += future
        acc.first = _earliest(acc.first, first)
        acc.last = _latest(acc.last, last)
