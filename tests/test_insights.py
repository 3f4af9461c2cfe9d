"""The insights engine: each product question on a known dataset, and its edges."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from flowspec_telemetry.analysis.insights import (
    INSIGHTS_VERSION,
    MAX_LABEL,
    Durations,
    Insights,
    compute_insights,
    rate,
)


def ev(event_type: str, day: int = 2, **fields: Any) -> dict[str, Any]:
    return {
        "schema_version": "1.0",
        "event_type": event_type,
        "timestamp": f"2026-11-{day:02d}T10:00:00.000Z",
        **fields,
    }


def known_dataset() -> list[dict[str, Any]]:
    events = [
        ev("role.selected", role="dev", source="init"),
        ev("role.selected", role="dev", source="init"),
        ev("role.selected", role="arch", source="init"),
        ev("role.selected", role="qa", source="cli"),
        ev("role.changed", role="qa", previous_role="dev"),
    ]
    for i in range(10):  # dev: 10 sessions, 4 of them call the security agent
        s = f"hmac:{i:016x}"
        events.append(
            ev("command.started", day=3, role="dev", command="/flow:implement", session_id=s)
        )
        events.append(
            ev(
                "agent.invoked",
                day=3,
                role="dev",
                agent="@backend-engineer",
                agent_role="dev",
                session_id=s,
            )
        )
        if i < 4:
            events.append(
                ev(
                    "agent.invoked",
                    day=3,
                    role="dev",
                    agent="@secure-by-design-engineer",
                    agent_role="sec",
                    session_id=s,
                )
            )
        if i < 8:
            events.append(
                ev(
                    "command.completed",
                    day=3,
                    role="dev",
                    command="/flow:implement",
                    duration_ms=(i + 1) * 100,
                )
            )
        elif i == 8:
            events.append(
                ev("command.failed", day=3, role="dev", command="/flow:implement", duration_ms=5)
            )
    for i in range(6):
        events.append(ev("command.started", day=9, role="arch", command="/flow:plan"))
        events.append(
            ev(
                "handoff.offered",
                day=9,
                role="arch",
                handoff={"from_agent": "@software-architect", "to_agent": "@backend-engineer"},
            )
        )
        if i < 3:
            events.append(
                ev(
                    "handoff.clicked",
                    day=9,
                    role="arch",
                    handoff={"from_agent": "@software-architect", "to_agent": "@backend-engineer"},
                )
            )
    events.append(ev("command.started", day=9, role="qa", command="/flow:validate"))
    return events


def test_each_question_on_a_known_dataset() -> None:
    result = compute_insights(known_dataset()).to_json()
    assert result["insights_version"] == INSIGHTS_VERSION
    assert result["based_on"]["events"] == len(known_dataset())

    roles = result["roles"]
    assert roles["most_selected_at_init"] == {"role": "dev", "count": 2}
    assert roles["selected"] == {"dev": 2, "arch": 1, "qa": 1}
    assert roles["changes"] == [{"from": "dev", "to": "qa", "count": 1}]
    assert "'dev' is selected most at init (2 of 3)" in roles["answer"]

    commands = result["commands"]
    assert commands["top"] == [
        {"command": "/flow:implement", "count": 10},
        {"command": "/flow:plan", "count": 6},
        {"command": "/flow:validate", "count": 1},
    ]
    assert commands["per_role"]["arch"] == [{"command": "/flow:plan", "count": 6}]

    dev = result["security"]["developer"]
    assert dev["session_share"] == {
        "value": 0.4,
        "numerator": 4,
        "denominator": 10,
        "enough_data": True,
        "comparable": True,
    }
    assert (
        dev["invocation_share"]["numerator"] == 4 and dev["invocation_share"]["denominator"] == 14
    )
    assert result["security"]["answer"].startswith(
        "Yes: developer sessions using a security agent: 40% (4 of 10)"
    )

    handoffs = result["handoffs"]
    assert (handoffs["offered"], handoffs["clicked"]) == (6, 3)
    assert handoffs["click_through"]["value"] == 0.5
    assert handoffs["pairs"][0]["from"] == "@software-architect"

    rows = {r["command"]: r for r in result["completion"]["commands"]}
    impl = rows["/flow:implement"]
    assert (impl["started"], impl["completed"], impl["failed"]) == (10, 8, 1)
    assert impl["completion_rate"]["value"] == 0.8
    assert impl["duration_ms"]["median"] == 400 and impl["duration_ms"]["p90"] == 800
    assert rows["/flow:validate"]["completion_rate"] == {
        "value": None,
        "numerator": 0,
        "denominator": 1,
        "enough_data": False,
        "comparable": True,
    }

    activity = result["activity"]
    assert activity["by_day"]["2026-11-03"]["dev"] > 0
    assert set(activity["by_week"]) == {"2026-W45", "2026-W46"}
    json.dumps(result)  # serialisable as is


def test_empty_history_says_so_everywhere() -> None:
    result = compute_insights([]).to_json()
    assert result["based_on"]["events"] == 0
    for key in ("roles", "commands", "security", "handoffs", "completion"):
        assert result[key]["based_on"] == 0
        assert "yet" in result[key]["answer"]


def test_single_event_and_small_denominators_are_not_enough_data() -> None:
    result = compute_insights(
        [ev("handoff.offered", handoff={"from_agent": "@a", "to_agent": "@b"})]
    ).to_json()
    assert result["handoffs"]["click_through"]["value"] is None
    assert "too few to tell" in result["handoffs"]["answer"]
    assert rate(1, 4)["enough_data"] is False
    assert rate(0, 0, minimum=0)["value"] is None


def test_unknown_types_future_versions_and_unlisted_roles() -> None:
    events = [
        {
            "schema_version": "9.0",
            "event_type": "role.teleported",
            "timestamp": "2026-11-02T00:00:00.000Z",
        },
        {
            "schema_version": "9.0",
            "event_type": "command.started",
            "command": "/flow:x",
            "role": "hmac:0123456789abcdef",
        },
        {  # as the reader gives a line of flowspec's earlier module (core._legacy)
            "event_type": "role.selected",
            "role": "dev",
            "source": "init",
            "schema_version": "1.0",
            "legacy_type": "role.selected",
        },
    ]
    result = compute_insights(events).to_json()
    assert result["based_on"]["unknown_event_types"] == {"role.teleported": 1}
    assert result["based_on"]["future_schema_events"] == 2
    assert result["commands"]["per_role"] == {
        "hmac:0123456789abcdef": [{"command": "/flow:x", "count": 1}]
    }
    assert result["roles"]["most_selected_at_init"] == {"role": "dev", "count": 1}


def test_hostile_and_huge_values_are_cut() -> None:
    big = "<script>alert(1)</script>" + "x" * 100_000
    result = compute_insights([ev("command.started", role=big, command=big)]).to_json()
    [top] = result["commands"]["top"]
    assert len(top["command"]) == MAX_LABEL


def test_since_until_window() -> None:
    result = compute_insights(known_dataset(), since="2026-11-09T00:00:00.000Z").to_json()
    assert result["commands"]["top"][0] == {"command": "/flow:plan", "count": 6}
    result = compute_insights(known_dataset(), until="2026-11-03T00:00:00.000Z").to_json()
    assert result["based_on"]["events"] == 5


def test_merge_equals_one_pass() -> None:
    events = known_dataset()
    whole = compute_insights(events).to_json()
    for cut in (0, 7, len(events) // 2, len(events)):
        left, right = compute_insights(events[:cut]), compute_insights(events[cut:])
        left.merge(right)
        assert left.to_json() == whole


def test_durations_switch_to_a_bounded_histogram() -> None:
    sketch = Durations()
    for v in range(1, 100_001):
        sketch.add(float(v))
    assert sketch.buckets is not None and len(sketch.buckets) < 500
    median = sketch.quantile(0.5)
    assert median is not None and abs(median - 50_000) / 50_000 < 0.05


@given(st.lists(st.floats(min_value=0, max_value=1e9), min_size=1, max_size=50))
def test_exact_quantiles_while_small(values: list[float]) -> None:
    sketch = Durations()
    for v in values:
        sketch.add(v)
    ordered = sorted(values)
    assert sketch.quantile(0.5) == ordered[max(1, -(-len(values) // 2)) - 1]


def test_insights_accumulator_is_reusable_for_a_catalog() -> None:
    from flowspec_telemetry.core.roles import DEFAULT_CATALOG

    acc = Insights.for_catalog(DEFAULT_CATALOG)
    acc.add(
        ev("agent.invoked", role="dev", agent="@secure-by-design-engineer", session_id="s")
    )  # no agent_role (old line)
    assert acc.security_calls["dev"] == 1


def test_parallel_fold_gives_the_same_answer(consented: Any, monkeypatch: Any) -> None:
    """Folding pieces of the history in worker processes merges to the one-pass result."""
    from flowspec_telemetry.analysis.insights import project_insights
    from flowspec_telemetry.core.events import dumps_line
    from flowspec_telemetry.history import reader

    folder = consented / ".flowspec"
    folder.mkdir(exist_ok=True)
    lines = b"".join(dumps_line(e) for e in known_dataset() * 40) + b"{torn\n"
    (folder / "telemetry.jsonl").write_bytes(lines)
    serial = project_insights(consented, workers=1)
    monkeypatch.setattr(reader, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(reader, "_PIECE_MIN_BYTES", 1024)
    parallel = project_insights(consented, workers=2)
    assert parallel == serial
    assert serial["based_on"]["events"] == 54 * 40
    assert serial["based_on"]["skipped_lines"] == 1


def test_more_completions_than_starts_is_not_shown_as_a_rate() -> None:
    events = [ev("command.started", command="/flow:x") for _ in range(5)]
    events += [ev("command.completed", command="/flow:x") for _ in range(7)]
    row = compute_insights(events).to_json()["completion"]["commands"][0]
    assert row["completion_rate"]["value"] is None
    assert row["completion_rate"]["comparable"] is False
    assert "not comparable" in compute_insights(events).to_json()["completion"]["answer"]
