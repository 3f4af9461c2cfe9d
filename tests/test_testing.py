"""`flowspec_telemetry.testing.capture_events`: what a host's code tracks, in memory, no files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import flowspec_telemetry
from flowspec_telemetry import track, track_command, track_role_selected
from flowspec_telemetry.core.tracker import Tracker
from flowspec_telemetry.testing import capture_events
from tests.conftest import read_events


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def test_captures_without_a_project_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with capture_events() as events:
        event_id = track_role_selected("dev", source="init")
        track("agent.invoked", agent="@secure-by-design-engineer", session_id="chat-42")
    assert events.types() == ["role.selected", "agent.invoked"]
    assert events[0]["event_id"] == event_id and events[0]["role"] == "dev"
    invoked = events.of_type("agent.invoked")[0]
    assert invoked["role"] == "dev"  # the role just selected
    assert invoked["agent_role"] == "sec"
    assert re.fullmatch(r"hmac:[0-9a-f]{16}", invoked["session_id"])
    assert "chat-42" not in str(events)
    assert _files(tmp_path) == []
    assert not [name for name in _files(Path.home()) if "telemetry" in name]


def test_values_outside_the_catalog_are_hashed_as_stored(project: Path) -> None:
    with capture_events() as events:
        track("command.started", command="/my:own-command", role="qa", project_root=project)
    [event] = events
    assert event["role"] == "qa"
    assert re.fullmatch(r"hmac:[0-9a-f]{16}", event["command"])
    assert event["schema_version"] == "1.0"
    assert not (project / ".flowspec").exists()


def test_helpers_are_captured_with_their_shared_invocation_id(tmp_path: Path) -> None:
    with capture_events() as events, track_command("/flow:implement", project_root=tmp_path):
        pass
    assert events.types() == ["command.started", "command.completed"]
    assert events[0]["invocation_id"] == events[1]["invocation_id"]
    assert isinstance(events[1]["duration_ms"], int)


def test_consent_is_taken_as_given_even_with_do_not_track(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DO_NOT_TRACK", "1")
    with capture_events() as events:
        track("role.changed", role="qa", previous_role="dev", project_root=tmp_path)
    assert events.types() == ["role.changed"]


def test_afterwards_the_real_tracker_is_as_it_was(consented: Path) -> None:
    with capture_events():
        track("role.selected", role="dev", project_root=consented)
    assert read_events(consented) == []  # captured, not written
    assert track("role.selected", role="arch", project_root=consented) is not None
    assert [e["role"] for e in read_events(consented)] == ["arch"]


def test_a_given_tracker_is_captured_and_the_default_one_is_not(consented: Path) -> None:
    mine = Tracker()
    with capture_events(mine) as events:
        mine.track("handoff.offered", from_agent="@pm-planner", to_agent="@software-architect",
                   project_root=consented)  # fmt: skip
        flowspec_telemetry.track("role.selected", role="dev", project_root=consented)
    assert events.types() == ["handoff.offered"]
    assert events[0]["handoff"] == {"from_agent": "@pm-planner", "to_agent": "@software-architect"}
    assert [e["event_type"] for e in read_events(consented)] == ["role.selected"]
