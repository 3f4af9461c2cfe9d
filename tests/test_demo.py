"""`demo`: a seeded history recorded through the public API, consent for its folder only."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from flowspec_telemetry import demo, iter_events
from flowspec_telemetry.core import consent_rules
from flowspec_telemetry.core.events import EVENT_TYPE_VALUES
from flowspec_telemetry.core.names import ToolNames
from flowspec_telemetry.core.roles import parse_workflow_text
from flowspec_telemetry.core.store import ReadStats
from flowspec_telemetry.core.tracker import Tracker
from flowspec_telemetry.demo import PERSONAS, START_NS, build_demo, workflow_text

RANDOM_PER_RUN = {"event_id", "project_id", "session_id", "invocation_id"}


def stable(events: list[dict[str, Any]]) -> list[tuple[tuple[str, Any], ...]]:
    """Each event without the parts that are random or salted per run."""
    return [
        tuple(sorted((k, repr(v)) for k, v in e.items() if k not in RANDOM_PER_RUN)) for e in events
    ]


def load(folder: Path, names: ToolNames | None = None) -> list[dict[str, Any]]:
    read = ReadStats()
    events = list(iter_events(folder, names, read) if names else iter_events(folder, stats=read))
    assert read.skipped == 0
    return events


def test_the_same_seed_gives_the_same_history(tmp_path: Path) -> None:
    n1 = build_demo(tmp_path / "a", days=7)
    n2 = build_demo(tmp_path / "b", days=7)
    a, b = load(tmp_path / "a"), load(tmp_path / "b")
    assert n1 == n2 == len(a) == len(b) == 615
    assert stable(a) == stable(b)  # even the replayed timestamps
    assert Counter(e["event_type"] for e in a) == Counter(e["event_type"] for e in b)
    # Only the salted hashes differ from one build to the next.
    assert a[0]["project_id"] != b[0]["project_id"]


def test_another_seed_gives_another_history(tmp_path: Path) -> None:
    build_demo(tmp_path / "a", days=5)
    build_demo(tmp_path / "b", days=5, seed=8)
    assert stable(load(tmp_path / "a")) != stable(load(tmp_path / "b"))


def test_the_full_demo_count(tmp_path: Path) -> None:
    count = build_demo(tmp_path / "d")
    events = load(tmp_path / "d")
    assert count == len(events) == 1745
    by_type = Counter(e["event_type"] for e in events)
    assert by_type["role.selected"] == len(PERSONAS)
    assert by_type["role.changed"] == 1
    assert by_type["command.started"] >= by_type["command.completed"] + by_type["command.failed"]
    assert set(by_type) <= EVENT_TYPE_VALUES


def test_the_history_is_three_weeks_of_weekdays(tmp_path: Path) -> None:
    build_demo(tmp_path / "d")
    events = load(tmp_path / "d")
    start = dt.datetime.fromtimestamp(START_NS / 1e9, dt.UTC)
    assert start.isoformat() == "2026-11-02T00:00:00+00:00" and start.weekday() == 0
    stamps = [e["timestamp"] for e in events]
    assert stamps == sorted(stamps)  # the replay clock only moves forward
    days = {dt.date.fromisoformat(s[:10]) for s in stamps}
    assert min(days) == dt.date(2026, 11, 2)
    assert max(days) <= dt.date(2026, 11, 23)
    assert len([d for d in days if d.weekday() < 5]) == 15
    # Each work day starts at 08:00 on a weekday (its last sessions may run past midnight).
    work_days = {
        (
            dt.datetime.fromisoformat(e["timestamp"].replace("Z", "+00:00")) - dt.timedelta(hours=8)
        ).date()
        for e in events
        if e["event_type"] == "command.started"
    }
    assert len(work_days) == 15
    weekend_starts = [d for d in work_days if d.weekday() >= 5]
    assert weekend_starts == []


def test_no_days_records_only_the_role_selections(tmp_path: Path) -> None:
    assert build_demo(tmp_path / "d", days=0) == len(PERSONAS)
    events = load(tmp_path / "d")
    assert [e["role"] for e in events] == [p.role for p in PERSONAS]
    assert {e["source"] for e in events} == {"init"}


def test_consent_is_given_for_that_folder_only(tmp_path: Path, project: Path) -> None:
    folder = tmp_path / "d"
    build_demo(folder, days=1)
    assert consent_rules.decide(folder).rule is consent_rules.Rule.PROJECT_ANSWER
    assert consent_rules.decide(folder).enabled
    assert not consent_rules.global_config_path().exists()
    assert not consent_rules.decide(project).enabled
    assert (folder / "flowspec_workflow.yml").read_text() == workflow_text()


def test_the_demo_catalog_knows_every_demo_value(tmp_path: Path) -> None:
    catalog = parse_workflow_text(workflow_text(), source="demo")
    assert {p.role for p in PERSONAS} <= set(catalog.roles)
    build_demo(tmp_path / "d", days=3)
    for event in load(tmp_path / "d"):
        for key in ("role", "command", "agent"):
            value = event.get(key)
            assert value is None or not value.startswith("hmac:"), (key, value)
        if event["event_type"] != "role.selected":
            assert str(event["session_id"]).startswith("hmac:")  # never the simulated name


def test_it_records_through_the_public_tracker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, Path]] = []
    real = Tracker.track

    def spy(self: Tracker, event_type: str, **fields: Any) -> str | None:
        calls.append((event_type, fields["project_root"]))
        return real(self, event_type, **fields)

    monkeypatch.setattr(Tracker, "track", spy)
    count = build_demo(tmp_path / "d", days=2)
    assert len(calls) == count == len(load(tmp_path / "d"))
    assert {root for _, root in calls} == {tmp_path / "d"}


def test_the_environment_speaks_for_the_person_not_the_demo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DO_NOT_TRACK", "1")
    consent_rules.write_record(consent_rules.global_config_path(), consent_rules.new_record("no"))
    assert build_demo(tmp_path / "d", days=2) == build_demo(tmp_path / "e", days=2) > 0


def test_another_tool_gets_its_own_names(tmp_path: Path) -> None:
    acme = ToolNames("acme")
    count = build_demo(tmp_path / "d", names=acme, days=1)
    assert (tmp_path / "d" / "acme_workflow.yml").is_file()
    assert (tmp_path / "d" / ".acme" / "telemetry.jsonl").is_file()
    assert not (tmp_path / "d" / ".flowspec").exists()
    assert len(load(tmp_path / "d", acme)) == count > len(PERSONAS)
    assert demo.DAYS == 21
