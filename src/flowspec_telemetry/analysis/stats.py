"""Exact totals over the whole history (`stats`), a fold over `history.reader`.

Memory is bounded by the number of distinct values (roles, commands, agents),
never by the number of events, so `stats` is exact at any history size.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Final

from flowspec_telemetry.analysis import _states
from flowspec_telemetry.core.names import FLOWSPEC, ToolNames
from flowspec_telemetry.core.store import ReadStats
from flowspec_telemetry.history.reader import Window, fold, in_window

TYPE_CHECKING = False
if TYPE_CHECKING:
    from flowspec_telemetry.core.names import StrPath

__all__ = ["Stats", "StatsSpec", "compute_stats", "project_stats"]

__all__ = [
    "Stats",
    "compute_stats",
]


@dataclass(slots=True)
class Stats:
    """Totals by event type, role, command and agent."""

    total: int = 0
    skipped: int = 0
    by_type: Counter[str] = field(default_factory=Counter)
    by_role: Counter[str] = field(default_factory=Counter)
    commands: Counter[str] = field(default_factory=Counter)
    agents: Counter[str] = field(default_factory=Counter)
    first: str | None = None
    last: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "skipped_lines": self.skipped,
            "first": self.first,
            "last": self.last,
            "by_type": dict(self.by_type.most_common()),
            "by_role": dict(self.by_role.most_common()),
            "top_commands": dict(self.commands.most_common(5)),
            "top_agents": dict(self.agents.most_common(5)),
        }


def compute_stats(
    events: Iterable[dict[str, Any]],
    read: ReadStats,
    *,
    since: str | None = None,
    until: str | None = None,
) -> Stats:
    """Fold `events` into `Stats`; `read` supplies the skipped-line count once drained."""
    out = Stats()
    by_type = out.by_type
    by_role = out.by_role
    commands = out.commands
    agents = out.agents
    first = last = None
    for event in events:
        ts = event.get("timestamp")
        if (since is not None or until is not None) and not in_window(ts, since, until):
            continue
        out.total += 1
        by_type[event["event_type"]] += 1
        role = event.get("role")
        by_role[role if isinstance(role, str) else "(none)"] += 1
        command = event.get("command")
        if isinstance(command, str):
            commands[command] += 1
        agent = event.get("agent")
        if isinstance(agent, str):
            agents[agent] += 1
        if isinstance(ts, str):
            if first is None or ts < first:
                first = ts
            if last is None or ts > last:
                last = ts
    out.first, out.last = first, last
    out.skipped = read.skipped
    return out


def project_stats(
    root: StrPath,
    names: ToolNames = FLOWSPEC,
    *,
    since: str | None = None,
    until: str | None = None,
    workers: int | None = None,
    summaries: bool = True,
) -> Stats:
    """Exact stats of every event of the project (archives included) in [since, until).

    Archives the window covers are merged from their summaries; the rest is
    parsed, in parallel when it is a lot (`history.reader.fold`).
    """
    from pathlib import Path

    out, read = fold(
        Path(root),
        StatsSpec(),
        names,
        window=Window(since, until),
        workers=workers,
        summaries=summaries,
    )
    out.skipped = read.skipped
    return out


# ------------------------------------------------ the fold (`history.reader.FoldSpec`)


_STATS_COUNTERS: Final = ("by_type", "by_role", "commands", "agents")


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


@dataclass(frozen=True, slots=True)
class StatsSpec:
    """`stats`: totals by event type, role, command and agent (skipped lines set by the caller)."""

    key: str = f"stats-{_states.STATE_VERSION}"

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
        acc.first = _states.earliest(acc.first, other.first)
        acc.last = _states.latest(acc.last, other.last)

    def dump(self, acc: Stats) -> Any:
        return {
            "total": acc.total,
            "first": acc.first,
            "last": acc.last,
            **{name: list(getattr(acc, name).items()) for name in _STATS_COUNTERS},
        }

    def merge_state(self, acc: Stats, state: Any) -> None:
        state = _states.mapping(state, "stats")
        total = _states.count(state.get("total"), "total")
        first, last = (
            _states.text(state.get("first"), "first"),
            _states.text(state.get("last"), "last"),
        )
        for name in _STATS_COUNTERS:
            _states.add_counts(getattr(acc, name), state.get(name))
        acc.total += total
        acc.first = _states.earliest(acc.first, first)
        acc.last = _states.latest(acc.last, last)
