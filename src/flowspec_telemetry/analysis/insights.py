"""Answers to the product questions, from one streaming pass over the history.

The questions (DESIGN.md section 8):

1. Which role is selected most at init? (plus all selections and role changes)
2. The top 5 commands across roles, and per role.
3. Do developer-role users invoke security agents? (share of sessions and of
   agent invocations, per role)
4. Are handoffs clicked or ignored? (clicked / offered, per from -> to pair)
5. How often do commands that start also complete? (completed / started per
   command, failures, median and p90 duration)

plus activity over time (events per day and per ISO week, by role).

`Insights` is an accumulator: `add()` one event at a time, `merge()` partial
results (so pieces of a history can be folded in parallel), then `to_json()`.
Memory is bounded by the number of distinct keys (roles, commands, agent
pairs, sessions, days), never by the number of events: durations go into a
fixed-size quantile sketch. Every rate says what it is based on and is
withheld ("not enough data") when its denominator is below `min_denominator`.
The JSON shape is versioned by `INSIGHTS_VERSION`.
"""

from __future__ import annotations

import bisect
import hashlib
import math
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Final

from flowspec_telemetry.analysis import _states
from flowspec_telemetry.analysis._distinct import Distinct
from flowspec_telemetry.analysis.question_roles import question_roles
from flowspec_telemetry.analysis.rates import (
    MIN_DENOMINATOR,
    rate,
    rate_phrase,
)
from flowspec_telemetry.core.events import EVENT_TYPE_VALUES
from flowspec_telemetry.core.names import FLOWSPEC, ToolNames
from flowspec_telemetry.core.roles import DEFAULT_CATALOG, Catalog

if TYPE_CHECKING:
    from flowspec_telemetry.core.names import StrPath

__all__ = [
    "INSIGHTS_VERSION",
    "MAX_LABEL",
    "TOP_N",
    "Durations",
    "Insights",
    "compute_insights",
    "project_insights",
]

INSIGHTS_VERSION: Final = "1"
TOP_N: Final = 5
MAX_LABEL: Final = 80  # longer values are cut, so a hostile 100 KB value cannot bloat the result
_EXACT_SAMPLES: Final = 2048
# Log-spaced histogram edges (ms): 2^(k/16), 1 ms .. ~12 days, about 4.4 % apart.
_EDGES: Final = tuple(2 ** (k / 16) for k in range(0, 16 * 30 + 1))
_NONE: Final = "(none)"


def _label(value: object) -> str:
    if not isinstance(value, str) or not value:
        return _NONE
    return value if len(value) <= MAX_LABEL else value[: MAX_LABEL - 1] + "…"


@dataclass(slots=True)
class Durations:
    """Exact samples up to `_EXACT_SAMPLES`, then a log-spaced histogram (bounded memory).

    `pre` caches the histogram of the samples (an archive summary stores it),
    so merging many exact partial results into a histogram does not place
    every sample again. The result never depends on it: a sample's bucket is
    a function of the sample.
    """

    EXACT_SAMPLES: ClassVar[int] = _EXACT_SAMPLES
    MAX_BUCKET: ClassVar[int] = len(_EDGES)  # bisect_left's index for values past the last edge

    samples: list[float] = field(default_factory=list)
    buckets: Counter[int] | None = None
    count: int = 0
    pre: Counter[int] | None = field(default=None, compare=False, repr=False)

    def add(self, value: float) -> None:
        self.count += 1
        if self.buckets is None:
            self.pre = None
            self.samples.append(value)
            if len(self.samples) > _EXACT_SAMPLES:
                self._to_histogram()
        else:
            self.buckets[bisect.bisect_left(_EDGES, value)] += 1

    def bucketed(self) -> Counter[int]:
        """The histogram of what was added (the live one once there is no sample list)."""
        if self.buckets is not None:
            return self.buckets
        if self.pre is None:
            self.pre = Counter(bisect.bisect_left(_EDGES, v) for v in self.samples)
        return self.pre

    def _to_histogram(self) -> None:
        self.buckets = Counter(self.bucketed())
        self.samples = []
        self.pre = None

    def merge(self, other: Durations) -> None:
        """Add `other` in: the same state as adding its values one by one."""
        exact = self.buckets is None and other.buckets is None
        if exact and self.count + other.count <= _EXACT_SAMPLES:
            self.samples.extend(other.samples)
            self.count += other.count
            self.pre = None
            return
        if self.buckets is None:
            self._to_histogram()
        assert self.buckets is not None  # noqa: S101 - set just above
        self.buckets.update(other.bucketed())
        self.count += other.count

    def quantile(self, q: float) -> float | None:
        """The q-quantile (nearest rank): exact while samples are kept, else within ~4.4 %."""
        if self.count == 0:
            return None
        rank = max(1, math.ceil(q * self.count))
        if self.buckets is None:
            return sorted(self.samples)[rank - 1]
        seen = 0
        for index in sorted(self.buckets):
            seen += self.buckets[index]
            if seen >= rank:
                if index == 0:
                    return _EDGES[0]
                upper = _EDGES[min(index, len(_EDGES) - 1)]
                return math.sqrt(_EDGES[index - 1] * upper)
        return None  # pragma: no cover - rank never exceeds count


def _week(day: str) -> str | None:
    try:
        iso = date.fromisoformat(day).isocalendar()
    except ValueError:
        return None
    return f"{iso.year}-W{iso.week:02d}"


@dataclass(slots=True)
class Insights:
    """Accumulates everything the questions need from a stream of events."""

    security_agents: frozenset[str] = frozenset()
    developer_role: str | None = FLOWSPEC.developer_role  # question 3's, see `question_roles`
    security_role: str | None = FLOWSPEC.security_role
    events: int = 0
    by_type: Counter[str] = field(default_factory=Counter)
    unknown_types: Counter[str] = field(default_factory=Counter)
    future_versions: int = 0
    selected: Counter[str] = field(default_factory=Counter)
    selected_at_init: Counter[str] = field(default_factory=Counter)
    changes: Counter[tuple[str, str]] = field(default_factory=Counter)
    commands: Counter[str] = field(default_factory=Counter)
    commands_by_role: dict[str, Counter[str]] = field(default_factory=dict)
    agent_calls: Counter[str] = field(default_factory=Counter)  # role -> agent invocations
    security_calls: Counter[str] = field(default_factory=Counter)  # role -> of them, security
    sessions: dict[str, Distinct] = field(default_factory=dict)  # role -> sessions
    security_sessions: dict[str, Distinct] = field(default_factory=dict)
    offered: Counter[tuple[str, str]] = field(default_factory=Counter)
    clicked: Counter[tuple[str, str]] = field(default_factory=Counter)
    started: Counter[str] = field(default_factory=Counter)
    completed: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    # Runs whose end was never recorded (flowspec's earlier API: one event per run).
    runs_without_end: Counter[str] = field(default_factory=Counter)
    durations: dict[str, Durations] = field(default_factory=dict)
    by_day: dict[str, Counter[str]] = field(default_factory=dict)
    first: str | None = None
    last: str | None = None

    @classmethod
    def for_catalog(
        cls, catalog: Catalog = DEFAULT_CATALOG, names: ToolNames = FLOWSPEC
    ) -> Insights:
        """An empty accumulator that knows question 3's roles and security agents."""
        asked = question_roles(catalog, names)
        return cls(
            security_agents=asked.security_agents,
            developer_role=asked.developer_role,
            security_role=asked.security_role,
        )

    # ------------------------------------------------------------------ fold

    def add(self, event: dict[str, Any]) -> None:
        etype = event["event_type"]
        if event.get("schema_version") not in ("1.0", "0"):
            self.future_versions += 1
        ts = event.get("timestamp")
        role = _label(event.get("role"))
        self.events += 1
        self.by_type[etype] += 1
        if isinstance(ts, str):
            if self.first is None or ts < self.first:
                self.first = ts
            if self.last is None or ts > self.last:
                self.last = ts
            day = self.by_day.get(ts[:10])
            if day is None:
                day = self.by_day[ts[:10]] = Counter()
            day[role] += 1
        handler = _HANDLERS.get(etype)
        if handler is not None:
            handler(self, event, role)
        elif etype not in EVENT_TYPE_VALUES:
            self.unknown_types[_label(etype)] += 1

    def _command_started(self, event: dict[str, Any], role: str) -> None:
        cmd = _label(event.get("command"))
        self.commands[cmd] += 1
        per_role = self.commands_by_role.get(role)
        if per_role is None:
            per_role = self.commands_by_role[role] = Counter()
        per_role[cmd] += 1
        if event.get("legacy_type") is None:
            self.started[cmd] += 1
        else:  # a run flowspec's earlier API recorded as one event: no end to compare
            self.runs_without_end[cmd] += 1

    def _command_ended(self, event: dict[str, Any], role: str) -> None:
        if event.get("legacy_type") is not None:
            return  # flowspec's earlier API: an end without its start stays out of the rates
        cmd = _label(event.get("command"))
        if event["event_type"] == "command.failed":
            self.failed[cmd] += 1
            return
        self.completed[cmd] += 1
        duration = event.get("duration_ms")
        if isinstance(duration, int | float) and not isinstance(duration, bool) and duration >= 0:
            sketch = self.durations.get(cmd)
            if sketch is None:
                sketch = self.durations[cmd] = Durations()
            sketch.add(float(duration))

    def _handoff(self, event: dict[str, Any], role: str) -> None:
        handoff = event.get("handoff")
        if isinstance(handoff, dict):
            pair = (_label(handoff.get("from_agent")), _label(handoff.get("to_agent")))
        else:
            pair = (_NONE, _NONE)
        (self.offered if event["event_type"] == "handoff.offered" else self.clicked)[pair] += 1

    def _role_selected(self, event: dict[str, Any], role: str) -> None:
        self.selected[role] += 1
        if event.get("source") == "init":
            self.selected_at_init[role] += 1

    def _role_changed(self, event: dict[str, Any], role: str) -> None:
        self.changes[(_label(event.get("previous_role")), role)] += 1

    def _agent(self, event: dict[str, Any], role: str) -> None:
        agent = event.get("agent")
        agent_role = event.get("agent_role")
        is_security = (agent_role is not None and agent_role == self.security_role) or (
            isinstance(agent, str) and agent in self.security_agents  # a list is unhashable
        )
        self.agent_calls[role] += 1
        if is_security:
            self.security_calls[role] += 1
        session = event.get("session_id")
        if isinstance(session, str):
            seen = self.sessions.get(role)
            if seen is None:
                seen = self.sessions[role] = Distinct()
            seen.add(session)
            if is_security:
                seen = self.security_sessions.get(role)
                if seen is None:
                    seen = self.security_sessions[role] = Distinct()
                seen.add(session)

    def add_counts(
        self,
        event_type: str,
        n: int,
        *,
        role: str = _NONE,
        value: str = _NONE,
        pair: tuple[str, str] | None = None,
        at_init: bool = False,
    ) -> None:
        """Count `n` events of one kind at once: what an aggregate (a share report's cell) holds.

        `value` is the command of a command event or the agent of an
        `agent.invoked`; `pair` the (from, to) of a handoff or role change.
        Aggregates carry no sessions, times or durations, so those stay empty.
        An unknown `event_type` is counted as unknown, not analysed.
        """
        self.events += n
        if event_type not in EVENT_TYPE_VALUES:
            self.unknown_types[_label(event_type)] += n
            return
        self.by_type[event_type] += n
        if event_type == "role.selected":
            self.selected[role] += n
            if at_init:
                self.selected_at_init[role] += n
        elif event_type == "role.changed" and pair is not None:
            self.changes[pair] += n
        elif event_type == "command.started":
            self.commands[value] += n
            self.commands_by_role.setdefault(role, Counter())[value] += n
            self.started[value] += n
        elif event_type == "command.completed":
            self.completed[value] += n
        elif event_type == "command.failed":
            self.failed[value] += n
        elif event_type == "agent.invoked":
            self.agent_calls[role] += n
            if value in self.security_agents:
                self.security_calls[role] += n
        elif event_type in ("handoff.offered", "handoff.clicked") and pair is not None:
            (self.offered if event_type == "handoff.offered" else self.clicked)[pair] += n

    def set_period(self, first: str | None, last: str | None) -> None:
        """Say which period the counts cover when no event carried a timestamp (aggregates)."""
        self.first, self.last = first, last

    def merge(self, other: Insights) -> None:
        """Fold another partial result into this one (exact, order-independent)."""
        self.events += other.events
        self.future_versions += other.future_versions
        for mine, theirs in (
            (self.by_type, other.by_type),
            (self.unknown_types, other.unknown_types),
            (self.selected, other.selected),
            (self.selected_at_init, other.selected_at_init),
            (self.commands, other.commands),
            (self.agent_calls, other.agent_calls),
            (self.security_calls, other.security_calls),
            (self.started, other.started),
            (self.completed, other.completed),
            (self.failed, other.failed),
            (self.runs_without_end, other.runs_without_end),
        ):
            mine.update(theirs)
        self.changes.update(other.changes)
        self.offered.update(other.offered)
        self.clicked.update(other.clicked)
        for role, counter in other.commands_by_role.items():
            self.commands_by_role.setdefault(role, Counter()).update(counter)
        for sets_mine, sets_theirs in (
            (self.sessions, other.sessions),
            (self.security_sessions, other.security_sessions),
        ):
            for role, ids in sets_theirs.items():
                mine_ids = sets_mine.get(role)
                if mine_ids is None:
                    mine_ids = sets_mine[role] = Distinct()
                mine_ids.merge(ids)
        for cmd, sketch in other.durations.items():
            self.durations.setdefault(cmd, Durations()).merge(sketch)
        for day, counter in other.by_day.items():
            self.by_day.setdefault(day, Counter()).update(counter)
        for ts in (other.first, other.last):
            if ts is not None:
                self.first = ts if self.first is None or ts < self.first else self.first
                self.last = ts if self.last is None or ts > self.last else self.last

    # ---------------------------------------------------------------- report

    def to_json(
        self, *, min_denominator: int = MIN_DENOMINATOR, skipped_lines: int = 0
    ) -> dict[str, Any]:
        """The documented, versioned result (see README, "Insights JSON")."""
        m = min_denominator
        return {
            "insights_version": INSIGHTS_VERSION,
            "based_on": {
                "events": self.events,
                "skipped_lines": skipped_lines,
                "unknown_event_types": dict(self.unknown_types.most_common(10)),
                "future_schema_events": self.future_versions,
                "first": self.first,
                "last": self.last,
                "min_denominator": m,
            },
            "roles": self._roles(),
            "commands": self._commands(),
            "security": self._security(m),
            "handoffs": self._handoffs(m),
            "completion": self._completion(m),
            "activity": self._activity(),
        }

    def _roles(self) -> dict[str, Any]:
        init = self.selected_at_init.most_common()
        top = init[0] if init else None
        tie = len(init) > 1 and init[1][1] == init[0][1]
        if top is None:
            answer = "No role selection at init has been recorded yet."
        elif tie:
            tied = sorted(r for r, n in init if n == init[0][1])
            answer = f"Tied at init: {', '.join(tied)} ({init[0][1]} selections each)."
        else:
            total = sum(self.selected_at_init.values())
            answer = f"'{top[0]}' is selected most at init ({top[1]} of {total})."
        return {
            "based_on": sum(self.selected.values()) + sum(self.changes.values()),
            "answer": answer,
            "most_selected_at_init": None
            if top is None or tie
            else {"role": top[0], "count": top[1]},
            "selected_at_init": dict(init),
            "selected": dict(self.selected.most_common()),
            "changes": [
                {"from": a, "to": b, "count": n} for (a, b), n in self.changes.most_common()
            ],
        }

    def _commands(self) -> dict[str, Any]:
        top = self.commands.most_common(TOP_N)
        answer = (
            "Top commands: " + ", ".join(f"{c} ({n})" for c, n in top) + "."
            if top
            else "No command has been started yet."
        )
        return {
            "based_on": sum(self.commands.values()),
            "answer": answer,
            "top": [{"command": c, "count": n} for c, n in top],
            "per_role": {
                role: [{"command": c, "count": n} for c, n in counter.most_common(TOP_N)]
                for role, counter in sorted(
                    self.commands_by_role.items(), key=lambda kv: -sum(kv[1].values())
                )
            },
        }

    def _security(self, m: int) -> dict[str, Any]:
        per_role = {}
        for role in sorted(set(self.agent_calls) | set(self.sessions)):
            per_role[role] = {
                "session_share": rate(
                    len(self.security_sessions.get(role, ())), len(self.sessions.get(role, ())), m
                ),
                "invocation_share": rate(self.security_calls[role], self.agent_calls[role], m),
            }
        dev_role = self.developer_role
        dev = per_role.get(dev_role) if dev_role is not None else None
        if dev is None:
            answer = "No agent invocation by the developer role has been recorded yet."
        else:
            s, i = dev["session_share"], dev["invocation_share"]
            used = "Yes" if self.security_calls[dev_role or ""] else "Not so far"
            answer = (
                f"{used}: developer sessions using a security agent: {rate_phrase(s)}; "
                f"of developer agent invocations: {rate_phrase(i)}."
            )
        return {
            "based_on": sum(self.agent_calls.values()),
            "answer": answer,
            "security_agents": sorted(self.security_agents),
            "developer": dev,
            "per_role": per_role,
        }

    def _handoffs(self, m: int) -> dict[str, Any]:
        offered, clicked = sum(self.offered.values()), sum(self.clicked.values())
        overall = rate(clicked, offered, m)
        pairs = [
            {
                "from": a,
                "to": b,
                "offered": n,
                "clicked": self.clicked[(a, b)],
                "click_through": rate(self.clicked[(a, b)], n, m),
            }
            for (a, b), n in self.offered.most_common()
        ]
        # Clicks with no recorded offer (flowspec's earlier API records clicks only)
        # still name their pair; they have no click-through.
        pairs += [
            {"from": a, "to": b, "offered": 0, "clicked": n, "click_through": rate(n, 0, m)}
            for (a, b), n in self.clicked.most_common()
            if (a, b) not in self.offered
        ]
        unmatched = sum(n for pair, n in self.clicked.items() if pair not in self.offered)
        if offered == 0 and clicked:
            answer = (
                f"No handoff has been offered yet, so no click-through; "
                f"{clicked} click{'s' if clicked != 1 else ''} without a recorded offer."
            )
        elif offered == 0:
            answer = "No handoff has been offered yet."
        else:
            value = overall["value"]
            verdict = (  # exactly half is neither "mostly" one nor the other
                "too few to tell"
                if value is None
                else "mostly clicked"
                if value > 0.5
                else "mostly ignored"
                if value < 0.5
                else "clicked as often as ignored"
            )
            answer = f"Handoffs are {verdict}: click-through {rate_phrase(overall)}."
        return {
            "based_on": offered + clicked,
            "answer": answer,
            "offered": offered,
            "clicked": clicked,
            "click_through": overall,
            "clicked_without_offer": unmatched,
            "pairs": pairs,
        }

    def _completion(self, m: int) -> dict[str, Any]:
        rows = []
        for cmd in sorted(
            set(self.started) | set(self.completed) | set(self.failed) | set(self.runs_without_end),
            key=lambda c: (-self.started[c], -self.runs_without_end[c], c),
        ):
            sketch = self.durations.get(cmd, Durations())
            p50, p90 = sketch.quantile(0.5), sketch.quantile(0.9)
            rows.append(
                {
                    "command": cmd,
                    "started": self.started[cmd],
                    "completed": self.completed[cmd],
                    "failed": self.failed[cmd],
                    "completion_rate": rate(self.completed[cmd], self.started[cmd], m),
                    "failure_rate": rate(self.failed[cmd], self.started[cmd], m),
                    "runs_without_end": self.runs_without_end[cmd],
                    "duration_ms": {
                        "median": None if p50 is None else round(p50),
                        "p90": None if p90 is None else round(p90),
                        "based_on": sketch.count,
                        "exact": sketch.buckets is None,
                    },
                }
            )
        started, completed = sum(self.started.values()), sum(self.completed.values())
        unpaired = sum(self.runs_without_end.values())
        overall = rate(completed, started, m)
        if started:
            answer = f"{rate_phrase(overall)} of started commands completed."
        elif unpaired:
            answer = "No completion rate: no command run was recorded with its start and end."
        else:
            answer = "No command has been started yet."
        if unpaired:
            answer += (
                f" {unpaired} run{'s' if unpaired != 1 else ''} recorded by flowspec's earlier "
                f"telemetry (one event per run, no end) {'are' if unpaired != 1 else 'is'} "
                "not in the rates."
            )
        return {
            "based_on": started,
            "answer": answer,
            "overall": overall,
            "runs_without_end": unpaired,
            "commands": rows,
        }

    def _activity(self) -> dict[str, Any]:
        weeks: dict[str, Counter[str]] = {}
        for day, counter in self.by_day.items():
            week = _week(day)
            if week is not None:
                weeks.setdefault(week, Counter()).update(counter)
        return {
            "based_on": self.events,
            "by_day": {d: dict(c.most_common()) for d, c in sorted(self.by_day.items())},
            "by_week": {w: dict(c.most_common()) for w, c in sorted(weeks.items())},
        }


_HANDLERS: Final = {
    "command.started": Insights._command_started,
    "command.completed": Insights._command_ended,
    "command.failed": Insights._command_ended,
    "agent.invoked": Insights._agent,
    "handoff.offered": Insights._handoff,
    "handoff.clicked": Insights._handoff,
    "role.selected": Insights._role_selected,
    "role.changed": Insights._role_changed,
}


def compute_insights(
    events: Iterable[dict[str, Any]],
    catalog: Catalog = DEFAULT_CATALOG,
    *,
    since: str | None = None,
    until: str | None = None,
    names: ToolNames = FLOWSPEC,
) -> Insights:
    """Fold a stream of events (optionally within [since, until)) into `Insights`."""
    acc = Insights.for_catalog(catalog, names)
    add = acc.add
    if since is None and until is None:
        for event in events:
            add(event)
        return acc
    for event in events:
        ts = event.get("timestamp")
        if (
            not isinstance(ts, str)
            or (since is not None and ts < since)
            or (until is not None and ts >= until)
        ):
            continue
        add(event)
    return acc


def project_insights(
    root: StrPath,
    names: ToolNames = FLOWSPEC,
    *,
    since: str | None = None,
    until: str | None = None,
    min_denominator: int = MIN_DENOMINATOR,
    workers: int | None = None,
    summaries: bool = True,
) -> dict[str, Any]:
    """The insights JSON of the project at `root`: every event in the window, archives included.

    A fold over `history.reader`: archives the window covers are merged from
    their summaries, the rest is parsed (in parallel when it is a lot); the
    partial results merge exactly, so the answer does not depend on either.
    """
    from flowspec_telemetry.core.roles import load_catalog
    from flowspec_telemetry.history.reader import Window, fold

    template = Insights.for_catalog(load_catalog(root, names), names)
    spec = InsightsSpec(template.security_agents, template.developer_role, template.security_role)
    acc, read = fold(
        Path(root),
        spec,
        names,
        window=Window(since, until),
        workers=workers,
        summaries=summaries,
    )
    return acc.to_json(min_denominator=min_denominator, skipped_lines=read.skipped)


# ------------------------------------------------ the fold (`history.reader.FoldSpec`)


# Counters of `Insights` keyed by one string, and by a pair of strings (for the fold's state).
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
    "runs_without_end",
)
_PAIR_COUNTERS: Final = ("changes", "offered", "clicked")
# Every other field of `Insights` the state holds (the test of the summaries checks the list).
STATE_FIELDS: Final = (
    *_STR_COUNTERS,
    *_PAIR_COUNTERS,
    "events",
    "future_versions",
    "commands_by_role",
    "sessions",
    "security_sessions",
    "durations",
    "by_day",
    "first",
    "last",
)


def _durations_dump(d: Durations) -> dict[str, Any]:
    buckets = d.buckets if d.buckets is not None else d.bucketed()
    return {
        "n": d.count,
        "s": d.samples if d.buckets is None else None,
        "b": sorted([k, n] for k, n in buckets.items()),
    }


def _merge_durations(target: Durations, value: Any) -> None:
    """Add a `_durations_dump` value into `target` (the same as adding its values)."""
    value = _states.mapping(value, "durations")
    count = _states.count(value.get("n"), "duration count")
    samples, raw = value.get("s"), value.get("b")
    if type(raw) is not list:
        raise _states.bad("duration histogram")
    if samples is None and count <= Durations.EXACT_SAMPLES:
        raise _states.bad("duration samples")  # a fold keeps samples until there are more
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
            raise _states.bad("duration samples")
        target.samples.extend(samples)
        target.count += count
        target.pre = None
        return
    buckets = _states.pairs(raw, int)
    if buckets and (min(buckets) < 0 or max(buckets) > Durations.MAX_BUCKET):
        raise _states.bad("duration histogram")
    if sum(buckets.values()) != count:
        raise _states.bad("duration histogram")
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
        return f"insights-{_states.STATE_VERSION}-{MAX_LABEL}-{digest[:16]}"

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
        state = _states.mapping(state, "insights")
        events = _states.count(state.get("events"), "events")
        future = _states.count(state.get("future_versions"), "future_versions")
        first, last = (
            _states.text(state.get("first"), "first"),
            _states.text(state.get("last"), "last"),
        )
        for name in _STR_COUNTERS:
            _states.add_counts(getattr(acc, name), state.get(name))
        for name in _PAIR_COUNTERS:
            _states.add_pairs(getattr(acc, name), state.get(name))
        _states.nested(acc.commands_by_role, state.get("commands_by_role"), "commands_by_role")
        _states.nested(acc.by_day, state.get("by_day"), "by_day")
        for name in ("sessions", "security_sessions"):
            mine = getattr(acc, name)
            for role, value in _states.mapping(state.get(name), name).items():
                target = mine.get(role)
                if target is None:
                    target = mine[role] = Distinct()
                target.merge_state(value)
        for cmd, value in _states.mapping(state.get("durations"), "durations").items():
            target_d = acc.durations.get(cmd)
            if target_d is None:
                target_d = acc.durations[cmd] = Durations()
            _merge_durations(target_d, value)
        acc.events += events
        acc.future_versions += future
        acc.first = _states.earliest(acc.first, first)
        acc.last = _states.latest(acc.last, last)
