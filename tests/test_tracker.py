"""`track()`: records what it should, nothing without consent, never raises."""

from __future__ import annotations

import errno
import json
import os
import re
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import flowspec_telemetry
from flowspec_telemetry import RoleEvent, track, track_role_event
from flowspec_telemetry.core import consent_rules
from flowspec_telemetry.core.events import MAX_LINE_BYTES, parse_line
from flowspec_telemetry.core.tracker import Tracker

from .conftest import read_events

EVENT_ID = re.compile(r"^evt_[0-9A-HJKMNP-TV-Z]{26}$")


def test_nothing_is_written_without_consent(project: Path, tracker: Tracker) -> None:
    assert tracker.track("role.selected", role="dev", project_root=project) is None
    assert sorted(p.name for p in project.iterdir()) == ["flowspec_workflow.yml"]


def test_nothing_is_written_outside_a_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FLOWSPEC_TELEMETRY_ENABLED", "1")
    assert track("role.selected", role="dev") is None
    assert list(tmp_path.iterdir()) == []


def test_records_a_full_event(consented: Path, tracker: Tracker) -> None:
    event_id = tracker.track(
        RoleEvent.AGENT_INVOKED,
        role="dev",
        agent="@secure-by-design-engineer",
        command="/flow:validate",
        session_id="3f2a9c1e-7b4d",
        project_root=consented,
    )
    assert event_id
    assert EVENT_ID.match(event_id)
    [event] = read_events(consented)
    assert event["event_id"] == event_id
    assert event["schema_version"] == "1.0"
    assert event["event_type"] == "agent.invoked"
    assert (event["role"], event["agent"], event["agent_role"], event["command"]) == (
        "dev",
        "@secure-by-design-engineer",
        "sec",
        "/flow:validate",
    )
    assert re.match(r"^hmac:[0-9a-f]{16}$", str(event["session_id"]))
    assert re.match(r"^hmac:[0-9a-f]{16}$", str(event["project_id"]))
    assert str(consented) not in json.dumps(event)
    assert event["context"] == {
        "os": "linux",
        "python": f"{sys.version_info.major}.{sys.version_info.minor}",  # the running one
        "tool_version": flowspec_telemetry.__version__,
        "ci": False,
    }
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", str(event["timestamp"]))


def test_files_and_folder_are_private(consented: Path, tracker: Tracker) -> None:
    tracker.track("role.selected", role="dev", project_root=consented)
    folder = consented / ".flowspec"
    assert (folder.stat().st_mode & 0o777) == 0o700
    for name in ("telemetry.jsonl", "telemetry.salt"):
        assert ((folder / name).stat().st_mode & 0o777) == 0o600
    assert "telemetry*" in (folder / ".gitignore").read_text()


def test_unknown_values_are_hashed_consistently(consented: Path, tracker: Tracker) -> None:
    tracker.track("role.selected", role="wizard", project_root=consented)
    tracker.track("role.selected", role="wizard", project_root=consented)
    tracker.track(
        "agent.invoked", agent="@my-private-agent", command="/flow:secret", project_root=consented
    )
    a, b, c = read_events(consented)
    assert a["role"] == b["role"]
    assert str(a["role"]).startswith("hmac:")
    assert str(c["agent"]).startswith("hmac:")
    assert str(c["command"]).startswith("hmac:")
    assert "agent_role" not in c


def test_same_value_hashes_differently_in_another_project(tmp_path: Path, tracker: Tracker) -> None:
    roots = []
    for name in ("one", "two"):
        root = tmp_path / name
        root.mkdir()
        consent_rules.write_record(
            consent_rules.project_config_path(root), consent_rules.new_record("yes")
        )
        tracker.track("role.selected", role="wizard", project_root=root)
        roots.append(root)
    assert read_events(roots[0])[0]["role"] != read_events(roots[1])[0]["role"]


def test_agent_without_at_sign_is_normalised(consented: Path, tracker: Tracker) -> None:
    tracker.track("agent.invoked", agent="backend-engineer", project_root=consented)
    assert read_events(consented)[0]["agent"] == "@backend-engineer"


def test_handoff_duration_outcome_and_invocation(consented: Path, tracker: Tracker) -> None:
    from flowspec_telemetry.core.events import new_invocation_id

    inv = new_invocation_id()
    tracker.track(
        "handoff.clicked", from_agent="@pm-planner", to_agent="someone-else", project_root=consented
    )
    tracker.track(
        "command.completed",
        command="/flow:implement",
        invocation_id=inv,
        duration_ms=1234.9,
        outcome="success",
        project_root=consented,
    )
    tracker.track(
        "command.failed", invocation_id="host-run-7", outcome="exploded", project_root=consented
    )
    handoff, done, failed = read_events(consented)
    assert handoff["handoff"]["from_agent"] == "@pm-planner"  # type: ignore[index]
    assert str(handoff["handoff"]["to_agent"]).startswith("hmac:")  # type: ignore[index]
    assert (done["invocation_id"], done["duration_ms"], done["outcome"]) == (inv, 1234, "success")
    assert str(failed["invocation_id"]).startswith("hmac:")
    assert str(failed["outcome"]).startswith("hmac:")


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -5, "12", True, None])
def test_bad_durations_are_dropped_or_clamped(
    consented: Path, tracker: Tracker, bad: object
) -> None:
    tracker.track("command.completed", duration_ms=bad, project_root=consented)
    event = read_events(consented)[0]
    assert event.get("duration_ms") in (None, 0)


def test_unknown_event_type_is_not_recorded(consented: Path, tracker: Tracker) -> None:
    assert tracker.track("role.teleported", project_root=consented) is None
    assert tracker.track(42, project_root=consented) is None  # type: ignore[arg-type]
    assert read_events(consented) == []


def test_alias_and_module_level_track_find_the_project_from_a_subfolder(
    consented: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sub = consented / "src" / "deep"
    sub.mkdir(parents=True)
    monkeypatch.chdir(sub)
    assert track("role.selected", role="arch") is not None
    assert track_role_event("role.selected", role="qa", source="cli") is not None
    assert [e["role"] for e in read_events(consented)] == ["arch", "qa"]
    assert not (sub / ".flowspec").exists()


def test_consent_env_vars_are_honoured_on_every_call(
    consented: Path, tracker: Tracker, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert tracker.track("role.selected", project_root=consented)
    monkeypatch.setenv("DO_NOT_TRACK", "1")
    assert tracker.track("role.selected", project_root=consented) is None
    monkeypatch.delenv("DO_NOT_TRACK")
    monkeypatch.setenv("FLOWSPEC_TELEMETRY_DISABLED", "1")
    assert tracker.track("role.selected", project_root=consented) is None
    assert len(read_events(consented)) == 1


def test_team_veto_in_workflow_file_stops_recording(consented: Path, tracker: Tracker) -> None:
    wf = consented / "flowspec_workflow.yml"
    wf.write_text(wf.read_text().replace("enabled: true", "enabled: false"))
    assert tracker.track("role.selected", project_root=consented) is None
    assert not (consented / ".flowspec" / "telemetry.jsonl").exists()


def test_invalidate_picks_up_a_new_answer_at_once(project: Path, tracker: Tracker) -> None:
    assert tracker.track("role.selected", project_root=project) is None
    consent_rules.write_record(
        consent_rules.project_config_path(project), consent_rules.new_record("yes")
    )
    tracker.invalidate()
    assert tracker.track("role.selected", project_root=project) is not None
    assert tracker.enabled(project)


def test_debug_prints_each_event_to_stderr_and_nothing_to_stdout(
    consented: Path,
    tracker: Tracker,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("FLOWSPEC_TELEMETRY_DEBUG", "1")
    event_id = tracker.track("role.selected", role="dev", project_root=consented)
    tracker.track("nope", project_root=consented)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f'"event_id":"{event_id}"' in captured.err
    assert "unknown event type" in captured.err


def test_silent_without_debug(
    consented: Path, tracker: Tracker, capsys: pytest.CaptureFixture[str]
) -> None:
    tracker.track("nope", project_root=consented)
    (consented / ".flowspec").mkdir(exist_ok=True)
    (consented / ".flowspec" / "telemetry.jsonl").mkdir()
    tracker.track("role.selected", project_root=consented)
    assert capsys.readouterr() == ("", "")


# --------------------------------------------------------------- faults


def test_disk_full_returns_none_and_keeps_earlier_events(
    consented: Path,
    tracker: Tracker,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    tracker.track("role.selected", role="dev", project_root=consented)
    real_write = os.write

    def full(fd: int, data: bytes) -> int:
        if data.startswith(b"{") or data.startswith(b"\n{"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", full)
    monkeypatch.setenv("FLOWSPEC_TELEMETRY_DEBUG", "1")
    assert tracker.track("role.selected", role="qa", project_root=consented) is None
    assert "No space left" in capsys.readouterr().err
    monkeypatch.setattr(os, "write", real_write)
    assert [e["role"] for e in read_events(consented)] == ["dev"]


def test_short_write_is_reported_and_next_event_starts_clean(
    consented: Path, tracker: Tracker, monkeypatch: pytest.MonkeyPatch
) -> None:
    tracker.track("role.selected", role="dev", project_root=consented)
    real_write = os.write
    monkeypatch.setattr(os, "write", lambda fd, data: real_write(fd, data[:20]))
    assert tracker.track("role.selected", role="qa", project_root=consented) is None
    monkeypatch.setattr(os, "write", real_write)
    assert tracker.track("role.selected", role="arch", project_root=consented)
    lines = (consented / ".flowspec" / "telemetry.jsonl").read_bytes().splitlines()
    parsed = [parse_line(x) for x in lines]
    assert [p["role"] for p in parsed if p] == ["dev", "arch"]
    assert sum(p is None for p in parsed) == 1


def test_unwritable_project_folder(
    consented: Path, tracker: Tracker, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_open = os.open

    def denied(path: object, flags: int, mode: int = 0o777, **kw: object) -> int:
        if str(path).endswith("telemetry.jsonl"):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, flags, mode)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", denied)
    assert tracker.track("role.selected", project_root=consented) is None


def test_symlinked_telemetry_file_is_refused(
    consented: Path, tracker: Tracker, tmp_path: Path
) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    folder = consented / ".flowspec"
    folder.mkdir(exist_ok=True)
    (folder / "telemetry.jsonl").symlink_to(victim)
    assert tracker.track("role.selected", project_root=consented) is None
    assert victim.read_text() == "keep me"


def test_corrupt_consent_file_means_off(project: Path, tracker: Tracker) -> None:
    path = consent_rules.project_config_path(project)
    path.parent.mkdir()
    path.write_text('["yes"]')
    assert tracker.track("role.selected", project_root=project) is None
    assert path.read_text() == '["yes"]'
    assert not (project / ".flowspec" / "telemetry.jsonl").exists()


def test_wrong_size_salt_drops_events_and_keeps_the_salt(consented: Path, tracker: Tracker) -> None:
    folder = consented / ".flowspec"
    (folder / "telemetry.salt").write_bytes(b"x" * 7)
    assert tracker.track("role.selected", project_root=consented) is None
    assert (folder / "telemetry.salt").read_bytes() == b"x" * 7


class Weird:
    def __str__(self) -> str:
        raise RuntimeError("no string for you")


@pytest.mark.parametrize(
    "value",
    [
        None,
        0,
        3.5,
        b"\xff\xfe",
        "\x00\x1b[31m\u202e",
        "\udcff",
        "x" * 1_000_000,
        Weird(),
        ["a"],
        {"k": 1},
    ],
)
def test_any_value_in_any_field_never_raises(
    consented: Path, tracker: Tracker, value: object
) -> None:
    for field in ("role", "command", "agent", "agent_role", "from_agent", "to_agent", "session_id",
                  "invocation_id", "outcome", "source", "duration_ms"):  # fmt: skip
        tracker.track("handoff.offered", project_root=consented, **{field: value})
    for raw in (
        (consented / ".flowspec" / "telemetry.jsonl").read_bytes().splitlines()
        if (consented / ".flowspec" / "telemetry.jsonl").exists()
        else []
    ):
        assert len(raw) + 1 <= MAX_LINE_BYTES
        assert parse_line(raw) is not None


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "role",
                "command",
                "agent",
                "from_agent",
                "to_agent",
                "session_id",
                "outcome",
                "source",
            ]
        ),
        st.one_of(st.text(), st.binary(), st.integers(), st.floats(), st.none()),
    )
)
def test_fuzzed_arguments_always_parse_back(consented: Path, fields: dict[str, object]) -> None:
    tracker = Tracker()
    before = len(read_events(consented))
    event_id = tracker.track("agent.invoked", project_root=consented, **fields)  # type: ignore[arg-type]
    events = read_events(consented)
    assert event_id is not None
    assert len(events) == before + 1
    assert events[-1]["event_id"] == event_id
