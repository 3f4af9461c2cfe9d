"""`stats`: exact totals in one streaming pass, and the time window."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flowspec_telemetry.analysis.stats import Stats, compute_stats, in_window
from flowspec_telemetry.core.store import ReadStats


def ev(event_type: str, ts: Any = "2026-11-02T10:00:00.000Z", **fields: Any) -> dict[str, Any]:
    return {"event_type": event_type, "timestamp": ts, **fields}


@pytest.mark.parametrize(
    ("ts", "since", "until", "inside"),
    [
        ("2026-11-02T10:00:00.000Z", None, None, True),
        (None, None, None, True),  # no window: everything counts
        (None, "2026-01-01", None, False),  # a window needs a timestamp
        (17, None, "2027-01-01", False),
        ("2026-11-02T10:00:00.000Z", "2026-11-02T10:00:00.000Z", None, True),  # since is inclusive
        ("2026-11-02T09:59:59.999Z", "2026-11-02T10:00:00.000Z", None, False),
        ("2026-11-02T10:00:00.000Z", None, "2026-11-02T10:00:00.000Z", False),  # until is not
        ("2026-11-02T09:59:59.999Z", None, "2026-11-02T10:00:00.000Z", True),
        ("2026-11-05T00:00:00.000Z", "2026-11-02T00:00:00.000Z", "2026-11-03T00:00:00.000Z", False),
    ],
)
def test_in_window(ts: Any, since: str | None, until: str | None, inside: bool) -> None:
    assert in_window(ts, since, until) is inside


def test_compute_stats_counts_exactly() -> None:
    events = [
        ev("role.selected", "2026-11-03T00:00:00.000Z", role="dev"),
        ev("command.started", "2026-11-01T00:00:00.000Z", role="dev", command="/flow:plan"),
        ev("agent.invoked", "2026-11-02T00:00:00.000Z", role=None, agent="@sre-agent"),
        ev("agent.invoked", None, role=5, agent="@sre-agent", command=3),
        ev("command.started", "2026-11-04T00:00:00.000Z", command="/flow:plan", agent=["x"]),
    ]
    read = ReadStats(events=5, skipped=2)
    out = compute_stats(iter(events), read)
    assert out.total == 5
    assert out.skipped == 2
    assert out.by_type == Counter({"command.started": 2, "agent.invoked": 2, "role.selected": 1})
    assert out.by_role == Counter({"dev": 2, "(none)": 3})
    assert out.commands == Counter({"/flow:plan": 2})
    assert out.agents == Counter({"@sre-agent": 2})
    assert (out.first, out.last) == ("2026-11-01T00:00:00.000Z", "2026-11-04T00:00:00.000Z")


def test_compute_stats_in_a_window_skips_events_outside_and_without_time() -> None:
    events = [
        ev("role.selected", "2026-11-01T00:00:00.000Z"),
        ev("role.selected", "2026-11-02T12:00:00.000Z"),
        ev("role.changed", "2026-11-02T13:00:00.000Z"),
        ev("role.changed", None),
        ev("role.changed", "2026-11-03T00:00:00.000Z"),
    ]
    out = compute_stats(
        events, ReadStats(), since="2026-11-02T00:00:00.000Z", until="2026-11-03T00:00:00.000Z"
    )
    assert out.total == 2
    assert out.by_type == Counter({"role.selected": 1, "role.changed": 1})
    assert (out.first, out.last) == ("2026-11-02T12:00:00.000Z", "2026-11-02T13:00:00.000Z")


def test_the_skipped_count_is_read_after_the_events_are_drained() -> None:
    read = ReadStats()

    def events() -> Any:
        yield ev("role.selected")
        read.skipped = 4  # a reader counts bad lines as it goes

    assert compute_stats(events(), read).skipped == 4


def test_empty_stats_and_json() -> None:
    out = compute_stats([], ReadStats())
    assert out == Stats()
    assert out.to_json() == {
        "total": 0,
        "skipped_lines": 0,
        "first": None,
        "last": None,
        "by_type": {},
        "by_role": {},
        "top_commands": {},
        "top_agents": {},
    }


def test_json_keeps_the_top_five_commands_and_agents_most_common_first() -> None:
    events = [ev("command.started", command=f"/c{i}") for i in range(7) for _ in range(i + 1)]
    events += [ev("agent.invoked", agent=f"@a{i}") for i in range(6) for _ in range(10 - i)]
    data = compute_stats(events, ReadStats()).to_json()
    assert list(data["top_commands"].items()) == [
        ("/c6", 7),
        ("/c5", 6),
        ("/c4", 5),
        ("/c3", 4),
        ("/c2", 3),
    ]
    assert list(data["top_agents"]) == ["@a0", "@a1", "@a2", "@a3", "@a4"]
    assert data["by_type"] == {"command.started": 28, "agent.invoked": 45}
    assert data["total"] == 73


_stamp = st.builds(
    "2026-11-{:02d}T{:02d}:00:00.000Z".format, st.integers(1, 30), st.integers(0, 23)
)


@given(
    st.lists(st.tuples(st.sampled_from(["role.selected", "agent.invoked"]), _stamp), max_size=30),
    _stamp,
    _stamp,
)
def test_a_window_counts_what_in_window_keeps(
    rows: list[tuple[str, str]], since: str, until: str
) -> None:
    events = [ev(t, ts) for t, ts in rows]
    out = compute_stats(events, ReadStats(), since=since, until=until)
    kept = [e for e in events if since <= e["timestamp"] < until]
    assert out.total == len(kept)
    assert out.first == min((e["timestamp"] for e in kept), default=None)
    assert out.last == max((e["timestamp"] for e in kept), default=None)
