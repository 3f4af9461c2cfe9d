"""`track_role_event` takes the call shapes of flowspec's earlier module, and means what it meant."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flowspec_telemetry import track_role_event
from flowspec_telemetry.core.store import iter_events


def _events(root: Path) -> list[dict[str, object]]:
    return list(iter_events(root))


def test_like_track_it_is_track(consented: Path) -> None:
    assert track_role_event("command.completed", command="/flow:plan", project_root=consented)
    (event,) = _events(consented)
    assert event["event_type"] == "command.completed"
    assert "legacy_type" not in event


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (
            {"event_type": "agent.started", "agent": "backend-engineer", "role": "dev"},
            {"event_type": "agent.invoked", "agent": "@backend-engineer", "agent_role": "dev"},
        ),
        (
            {"event_type": "command.executed", "command": "/flow:implement", "role": "dev",
             "context": {"task_id": "task-123"}},
            {"event_type": "command.started", "command": "/flow:implement",
             "legacy_type": "command.executed"},
        ),
        (
            {"event_type": "workflow.failed", "command": "/flow:validate",
             "context": {"workflow": "validate"}},
            {"event_type": "workflow.completed", "outcome": "failure"},
        ),
        (
            {"event_type": "role.changed", "role": "qa", "context": {"previous_role": "dev"}},
            {"event_type": "role.changed", "previous_role": "dev"},
        ),
        (
            {"event_type": "handoff.clicked", "agent": "software-architect",
             "context": {"from_agent": "pm-planner", "to_agent": "software-architect"}},
            {"handoff": {"from_agent": "@pm-planner", "to_agent": "@software-architect"}},
        ),
    ],
)  # fmt: skip
def test_flowspec_call_shapes_are_recorded_with_their_meaning(
    consented: Path, call: dict[str, object], expected: dict[str, object]
) -> None:
    event_id = track_role_event(
        **call,  # type: ignore[arg-type]
        metadata={"hostname_hash": "a9db44ecf5fc", "user": "jane"},
        project_root=consented,
        enabled=True,
    )
    assert event_id is not None
    (event,) = _events(consented)
    assert event["event_id"] == event_id
    for key, value in expected.items():
        assert event[key] == value, key
    text = (consented / ".flowspec" / "telemetry.jsonl").read_text()
    assert "a9db44ecf5fc" not in text and "jane" not in text and "task-123" not in text
    assert "metadata" not in event


def test_enabled_false_and_types_without_a_counterpart_record_nothing(consented: Path) -> None:
    assert (
        track_role_event("role.selected", role="dev", enabled=False, project_root=consented) is None
    )
    assert track_role_event("agent.progress", agent="x", context={}, project_root=consented) is None
    assert track_role_event("handoff.completed", project_root=consented) is None
    assert track_role_event("no.such.type", context={}, project_root=consented) is None
    assert not (consented / ".flowspec" / "telemetry.jsonl").exists()


def test_odd_arguments_never_raise(consented: Path) -> None:
    assert track_role_event("role.selected", bogus=1, project_root=consented) is None  # type: ignore[arg-type]
    assert (
        track_role_event(
            "role.changed", context=["not", "a", "dict"], metadata=b"\xff", project_root=consented
        )
        is not None
    )
    lines = (consented / ".flowspec" / "telemetry.jsonl").read_text().splitlines()
    assert json.loads(lines[-1])["event_type"] == "role.changed"
