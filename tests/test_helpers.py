"""Tracking helpers and the current-role rule."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from flowspec_telemetry import (
    track,
    track_agent_invoked,
    track_command,
    track_handoff,
    track_role_changed,
    track_role_selected,
)
from flowspec_telemetry.core.tracker import Tracker

from .conftest import read_events


def test_role_helpers(consented: Path, tracker: Tracker) -> None:
    track_role_selected("arch", project_root=consented, tracker=tracker)
    track_role_changed("arch", "sec", project_root=consented, tracker=tracker)
    selected, changed = read_events(consented)
    assert (selected["event_type"], selected["role"], selected["source"]) == (
        "role.selected",
        "arch",
        "init",
    )
    assert (changed["event_type"], changed["role"], changed["previous_role"]) == (
        "role.changed",
        "sec",
        "arch",
    )


def test_handoff_helper(consented: Path, tracker: Tracker) -> None:
    track_handoff(
        "@pm-planner", "@software-architect", clicked=False, project_root=consented, tracker=tracker
    )
    track_handoff(
        "@pm-planner", "@software-architect", clicked=True, project_root=consented, tracker=tracker
    )
    assert [e["event_type"] for e in read_events(consented)] == [
        "handoff.offered",
        "handoff.clicked",
    ]


def test_current_role_precedence(
    consented: Path, tracker: Tracker, monkeypatch: pytest.MonkeyPatch
) -> None:
    # roles.primary of the sample catalog
    track_agent_invoked("@backend-engineer", project_root=consented, tracker=tracker)
    # the project's recorded selection beats roles.primary
    track_role_selected("qa", project_root=consented, tracker=tracker)
    track_agent_invoked("@backend-engineer", project_root=consented, tracker=tracker)
    # FLOWSPEC_ROLE beats the selection
    monkeypatch.setenv("FLOWSPEC_ROLE", "ops")
    track_agent_invoked("@backend-engineer", project_root=consented, tracker=tracker)
    # an explicit argument beats everything
    track_agent_invoked("@backend-engineer", role="arch", project_root=consented, tracker=tracker)
    roles = [e["role"] for e in read_events(consented) if e["event_type"] == "agent.invoked"]
    assert roles == ["dev", "qa", "ops", "arch"]
    # the selection survives a new process (a fresh tracker)
    monkeypatch.delenv("FLOWSPEC_ROLE")
    assert Tracker().current_role(consented) == "qa"


def test_agent_role_is_the_agents_home_not_the_persons(consented: Path, tracker: Tracker) -> None:
    track_agent_invoked(
        "@secure-by-design-engineer", role="dev", project_root=consented, tracker=tracker
    )
    [event] = read_events(consented)
    assert (event["role"], event["agent_role"]) == ("dev", "sec")


def test_unknown_role_selection_is_remembered_as_a_hash(consented: Path, tracker: Tracker) -> None:
    track_role_selected("wizard", project_root=consented, tracker=tracker)
    track("agent.invoked", agent="@backend-engineer", project_root=consented)
    selected, invoked = read_events(consented)
    assert str(selected["role"]).startswith("hmac:")
    assert invoked["role"] == selected["role"]
    assert "wizard" not in (consented / ".flowspec" / "telemetry-role.json").read_text()


def test_track_command_context_manager_success(consented: Path, tracker: Tracker) -> None:
    with track_command(
        "/flow:implement", role="dev", project_root=consented, tracker=tracker
    ) as run:
        pass
    started, completed = read_events(consented)
    assert started["event_type"] == "command.started"
    assert completed["event_type"] == "command.completed"
    assert started["invocation_id"] == completed["invocation_id"] == run.invocation_id
    assert completed["outcome"] == "success"
    assert isinstance(completed["duration_ms"], int)


class HostError(Exception):
    pass


def test_track_command_failure_reraises_the_hosts_exception_untouched(
    consented: Path, tracker: Tracker
) -> None:
    original = HostError("boom")
    with (
        pytest.raises(HostError) as caught,
        track_command("/flow:validate", project_root=consented, tracker=tracker),
    ):
        raise original
    assert caught.value is original
    assert caught.value.__traceback__ is not None
    started, failed = read_events(consented)
    assert failed["event_type"] == "command.failed"
    assert failed["outcome"] == "failure"
    assert started["invocation_id"] == failed["invocation_id"]


def test_keyboard_interrupt_is_cancelled(consented: Path, tracker: Tracker) -> None:
    with (
        pytest.raises(KeyboardInterrupt),
        track_command("/flow:plan", project_root=consented, tracker=tracker),
    ):
        raise KeyboardInterrupt
    assert read_events(consented)[-1]["outcome"] == "cancelled"


def test_decorator_and_nesting_keep_invocations_apart(consented: Path, tracker: Tracker) -> None:
    @track_command("/flow:implement", project_root=consented, tracker=tracker)
    def implement(depth: int) -> int:
        if depth:
            with track_command("/flow:validate", project_root=consented, tracker=tracker):
                return implement(depth - 1) + 1
        return 0

    assert implement(2) == 2
    events = read_events(consented)
    assert len(events) == 10
    by_inv: dict[object, list[str]] = {}
    for e in events:
        by_inv.setdefault(e["invocation_id"], []).append(str(e["event_type"]))
    assert len(by_inv) == 5
    assert all(v == ["command.started", "command.completed"] for v in by_inv.values())


def test_decorator_is_thread_safe(consented: Path, tracker: Tracker) -> None:
    @track_command("/flow:implement", project_root=consented, tracker=tracker)
    def work() -> None:
        pass

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    events = read_events(consented)
    assert len({e["invocation_id"] for e in events}) == 8


def test_helpers_with_telemetry_off_return_none_and_still_run_the_host(
    project: Path, tracker: Tracker
) -> None:
    assert track_role_selected("dev", project_root=project, tracker=tracker) is None
    with track_command("/flow:implement", project_root=project, tracker=tracker):
        ran = True
    assert ran
    assert not (project / ".flowspec").exists()
