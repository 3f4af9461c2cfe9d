"""`compat.flowspec`: flowspec's API, recording under this package's rules."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flowspec_telemetry.compat import flowspec as fs
from flowspec_telemetry.compat.flowspec.cli import telemetry_app
from flowspec_telemetry.compat.flowspec.config import TelemetryConfig, get_config_path
from flowspec_telemetry.core.store import iter_events


def _stored(root: Path) -> list[dict[str, object]]:
    return list(iter_events(root))


def test_nothing_is_recorded_before_consent(project: Path) -> None:
    assert fs.track_role_event(fs.RoleEvent.ROLE_SELECTED, role="dev", project_root=project) is None
    with fs.track_agent_invocation("backend-engineer", project_root=project):
        pass
    fs.track_command_execution("/flow:implement", project_root=project)
    assert (
        fs.TelemetryWriter(project / ".flowspec" / "telemetry.jsonl").write_event(
            fs.TelemetryEvent.create("role.selected", role="dev")
        )
        is False
    )
    assert not (project / ".flowspec").exists()


def test_an_event_is_returned_as_flowspec_shapes_it_and_stored_as_schema_1_0(
    consented: Path,
) -> None:
    event = fs.track_role_event(
        "command.executed",
        role="dev",
        command="/flow:implement",
        context={"assignee": "@johndoe", "file": "/home/jane/x.py"},
        metadata={"session": "s-1"},
        project_root=consented,
    )
    assert isinstance(event, fs.TelemetryEvent)
    assert event.event_type is fs.RoleEvent.COMMAND_EXECUTED
    assert "@johndoe" not in json.dumps(event.to_dict()) and "hostname_hash" not in event.metadata
    (stored,) = _stored(consented)
    assert stored["event_type"] == "command.started" and stored["legacy_type"] == "command.executed"
    text = (consented / ".flowspec" / "telemetry.jsonl").read_text()
    for needle in ("johndoe", "jane", "s-1", "hostname", 'context":{"assignee'):
        assert needle not in text


def test_an_unknown_type_is_none_not_an_exception(consented: Path) -> None:
    assert fs.track_role_event("role.teleported", project_root=consented) is None
    assert fs.track_role_event("agent.progress", agent="x", project_root=consented) is None
    assert _stored(consented) == []


def test_hash_pii_is_keyed_never_the_guessable_sha256() -> None:
    value = "build-host.example.internal"
    digest = fs.hash_pii(value)
    assert len(digest) == 12 and int(digest, 16) >= 0
    assert digest == fs.hash_pii(value)
    assert digest != hashlib.sha256(value.encode()).hexdigest()[:12]
    assert fs.hash_pii(value, salt="s") != digest


def test_sanitizers_keep_flowspecs_shapes_in_linear_time() -> None:
    assert fs.sanitize_path("/home/jpoley/project/file.py").startswith("/home/<")
    assert fs.sanitize_path("/Users/john/Documents/code.py").endswith(">/Documents/code.py")
    assert fs.sanitize_path("/var/log/app.log") == "/var/log/app.log"
    assert "<email:" in fs.sanitize_value("mail user@example.com now")
    assert fs.sanitize_value({"project": "secret", "n": 3}) == {
        "project": f"<project:{fs.hash_pii('secret')}>",
        "n": 3,
    }
    hostile = "a" * 200_000 + "@"  # flowspec's e-mail pattern backtracks on this
    assert fs.sanitize_value(hostile).startswith("a")


def test_agent_runs_are_paired_with_an_invocation_id_and_a_duration(consented: Path) -> None:
    with fs.track_agent_invocation(
        "backend-engineer", role="dev", command="/flow:implement", project_root=consented
    ):
        pass
    with (
        pytest.raises(ValueError, match="boom"),
        fs.track_agent_invocation("qa-engineer", project_root=consented),
    ):
        raise ValueError("boom")
    with (
        pytest.raises(KeyboardInterrupt),
        fs.track_agent_invocation("sre-agent", project_root=consented),
    ):
        raise KeyboardInterrupt
    started, done, started2, failed, started3, cancelled = _stored(consented)
    assert (started["event_type"], done["event_type"]) == ("agent.invoked", "agent.completed")
    assert started["invocation_id"] == done["invocation_id"] and done["outcome"] == "success"
    assert isinstance(done["duration_ms"], int)
    assert started["agent"] == "@backend-engineer"
    assert failed["event_type"] == "agent.failed" and failed["outcome"] == "failure"
    assert failed["invocation_id"] == started2["invocation_id"] != started["invocation_id"]
    assert (
        cancelled["outcome"] == "cancelled"
        and cancelled["invocation_id"] == started3["invocation_id"]
    )


def test_decorator_and_workflow(consented: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(consented)

    @fs.track_agent_invocation_decorator("frontend-engineer", role="dev")
    def work(x: int) -> int:
        return x * 2

    assert work(21) == 42
    with fs.track_workflow(
        "implement", role="dev", command="/flow:implement", project_root=consented
    ):
        pass
    with pytest.raises(RuntimeError), fs.track_workflow("validate", project_root=consented):
        raise RuntimeError("validation failed")
    types = [(e["event_type"], e.get("outcome")) for e in _stored(consented)]
    assert types == [
        ("agent.invoked", None), ("agent.completed", "success"),
        ("workflow.started", None), ("workflow.completed", "success"),
        ("workflow.started", None), ("workflow.completed", "failure"),
    ]  # fmt: skip


def test_the_writer_is_a_projects_store(consented: Path, tmp_path: Path) -> None:
    elsewhere = fs.TelemetryWriter(tmp_path / "deep" / "telemetry.jsonl")
    assert elsewhere.write_event(fs.TelemetryEvent.create("role.selected", role="dev")) is False
    assert elsewhere.read_events() == [] and elsewhere.count_events() == 0 and not elsewhere.clear()
    assert not (tmp_path / "deep").exists()
    writer = fs.TelemetryWriter(consented / ".flowspec" / "telemetry.jsonl")
    events = [fs.TelemetryEvent.create("role.selected", role=r) for r in ("dev", "qa", "sec")]
    assert writer.write_events(events) == 3
    assert writer.count_events() == 3
    assert [e["role"] for e in writer.read_events(limit=2)] == ["sec", "qa"]  # newest first
    assert writer.clear() and writer.count_events() == 0


def test_config_is_this_packages_consent_with_flowspecs_keys(project: Path) -> None:
    assert fs.is_telemetry_enabled(project) is False
    assert fs.enable_telemetry(project) is True
    assert fs.is_telemetry_enabled(project) is True
    record = json.loads(get_config_path(project).read_text())
    assert record["enabled"] is True and record["consent_given_at"]
    given = record["consent_given_at"]
    assert fs.disable_telemetry(project) is True
    assert fs.is_telemetry_enabled(project) is False
    record = json.loads(get_config_path(project).read_text())
    assert record["enabled"] is False and record["consent_given_at"] == given
    assert fs.load_telemetry_config(project).consent_given_at == given
    assert fs.save_telemetry_config(TelemetryConfig(enabled=True, data_retention_days=45), project)
    assert fs.load_telemetry_config(project).data_retention_days == 45
    record = json.loads(get_config_path(project).read_text())
    assert record["answer"] == "yes" and record["consent_version"] != "1.0"  # still our record
    os.environ["FLOWSPEC_TELEMETRY_DISABLED"] = "yes"
    try:
        assert fs.is_telemetry_enabled(project) is False
    finally:
        del os.environ["FLOWSPEC_TELEMETRY_DISABLED"]


def test_a_special_consent_file_reads_as_the_default(project: Path, tmp_path: Path) -> None:
    folder = project / ".flowspec"
    folder.mkdir()
    os.mkfifo(folder / "telemetry-config.json")
    assert fs.load_telemetry_config(project) == TelemetryConfig()  # no hang on a FIFO
    os.unlink(folder / "telemetry-config.json")
    target = tmp_path / "theirs.json"
    target.write_text('{"enabled": true}')
    (folder / "telemetry-config.json").symlink_to(target)
    assert fs.load_telemetry_config(project) == TelemetryConfig()


def test_the_cli_keeps_flowspecs_commands_and_options(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    monkeypatch.chdir(project)
    off = runner.invoke(telemetry_app, ["track-role", "dev", "--command", "/flow:implement", "-q"])
    assert off.exit_code == 0 and off.stdout == ""
    assert runner.invoke(telemetry_app, ["enable", "-y", "-p", str(project)]).exit_code == 0
    for args in (
        ["track-role", "dev", "--command", "/flow:implement", "-q"],
        ["track-agent", "secure-by-design-engineer", "-c", "/flow:validate", "-r", "dev", "-q"],
        ["track-handoff", "pm-planner", "software-architect", "-q"],
    ):
        result = runner.invoke(telemetry_app, [*args, "--project-root", str(project)])
        assert result.exit_code == 0 and result.stdout == "", result.output
    types = [e["event_type"] for e in _stored(project)]
    assert types == ["command.started", "agent.invoked", "handoff.clicked"]
    for args in (["status"], ["stats", "--days", "7"], ["view", "-n", "5"], ["export"]):
        result = runner.invoke(telemetry_app, args)
        assert result.exit_code == 0, (args, result.output)
    exported = runner.invoke(telemetry_app, ["export", "-o", "out.json"])
    assert exported.exit_code == 0 and len(json.loads((project / "out.json").read_text())) == 3
    assert runner.invoke(telemetry_app, ["clear", "-y"]).exit_code == 0
    assert runner.invoke(telemetry_app, ["disable"]).exit_code == 0
    assert fs.is_telemetry_enabled(project) is False
