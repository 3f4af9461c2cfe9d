"""Write telemetry lines with the REAL flowspec module (flowspec-cli 0.4.008).

Run with flowspec installed (scripts/test installs it from ../shared/flowspec):

    python tests/data/flowspec-legacy/make_lines.py [OUT.jsonl]

(default: `lines.jsonl` beside this script, the committed fixture).

Every line is written by flowspec's own code: its integration helpers (the
context managers, the decorator), its `telemetry` CLI commands as the slash
command templates call them, and `track_role_event` for each of its 15 event
types, with context values its sanitizer rewrites (paths, e-mails, @names).
Nothing here formats a line itself.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path


def generate(out: Path) -> int:
    from flowspec_cli.telemetry import (
        RoleEvent,
        TelemetryEvent,
        TelemetryWriter,
        enable_telemetry,
        reset_writer,
        track_agent_invocation,
        track_agent_invocation_decorator,
        track_command_execution,
        track_handoff,
        track_role_change,
        track_role_event,
        track_role_selection,
        track_workflow,
    )
    from flowspec_cli.telemetry.cli import telemetry_app
    from typer.testing import CliRunner

    saved = {k: os.environ.get(k) for k in ("FLOWSPEC_TELEMETRY_DISABLED", "HOSTNAME")}
    os.environ.pop("FLOWSPEC_TELEMETRY_DISABLED", None)
    os.environ["HOSTNAME"] = "build-host.example.internal"
    project = Path(tempfile.mkdtemp(prefix="flowspec-legacy-"))
    here = os.getcwd()
    try:
        os.chdir(project)
        reset_writer()
        enable_telemetry(project)
        # `flowspec init` / configure style selections and a role change.
        track_role_selection("dev", command="flowspec init", project_root=project)
        track_role_selection("sec", command="/spec:configure", project_root=project)
        track_role_change("qa", "sec", command="flowspec configure", project_root=project)
        track_role_change("dev", "qa", project_root=project)
        # The slash command templates: `flowspec telemetry track-role/track-agent/track-handoff`.
        runner = CliRunner()
        calls = [
            ["track-role", "dev", "--command", "/flow:implement", "-q"],
            ["track-agent", "backend-engineer", "--command", "/flow:implement", "-q"],
            ["track-agent", "frontend-code-reviewer", "--command", "/flow:implement", "-q"],
            ["track-role", "dev", "--command", "/flow:validate", "-q"],
            ["track-agent", "secure-by-design-engineer", "--command", "/flow:validate", "-q"],
            ["track-agent", "quality-guardian", "-c", "/flow:validate", "-r", "qa", "-q"],
            ["track-role", "pm", "-c", "/flow:init", "-q"],
            ["track-handoff", "pm-planner", "software-architect", "-q"],
            ["track-handoff", "backend-engineer", "qa-engineer", "-r", "dev", "-q"],
        ]
        for args in calls:
            result = runner.invoke(telemetry_app, [*args, "--project-root", str(project)])
            if result.exit_code != 0:
                raise SystemExit(f"flowspec telemetry {args[0]} failed: {result.output}")
        # Integration helpers: context managers, decorator, command and workflow tracking.
        with track_agent_invocation(
            "backend-engineer", role="dev", command="/flow:implement", project_root=project
        ):
            pass
        try:
            with track_agent_invocation("qa-engineer", role="qa", project_root=project):
                raise ValueError("agent failed")
        except ValueError:
            pass

        @track_agent_invocation_decorator(
            "frontend-engineer", role="dev", command="/flow:implement"
        )
        def implement_ui() -> str:
            return "done"

        implement_ui()
        track_handoff("backend-engineer", "qa-engineer", role="dev", project_root=project)
        track_command_execution(
            "/flow:implement", role="dev", context={"task_id": "task-123"}, project_root=project
        )
        track_command_execution("/flow:specify", role="pm", project_root=project)
        with track_workflow(
            "implement", role="dev", command="/flow:implement", project_root=project
        ):
            pass
        try:
            with track_workflow("validate", role="qa", project_root=project):
                raise RuntimeError("validation failed")
        except RuntimeError:
            pass
        # Every event type through the low-level call, with context the sanitizer rewrites.
        for event in RoleEvent:
            track_role_event(
                event,
                role="dev",
                command="/flow:plan",
                agent="software-architect",
                context={
                    "assignee": "@johndoe",
                    "contact": "jane.doe@example.com",
                    "file": "/home/jpoley/secret-project/src/app.py",
                    "project": "secret-project",
                    "nested": {"user": "@admin", "count": 3},
                    "index": 7,
                },
                metadata={"session": "abc-123"},
                project_root=project,
            )
        # A bare event with nothing but its type.
        track_role_event(RoleEvent.WORKFLOW_STARTED, project_root=project)
        # flowspec's own writer with a time on the second: `isoformat()` then has no fraction.
        TelemetryWriter(project / ".flowspec" / "telemetry.jsonl").write_event(
            TelemetryEvent(
                RoleEvent.ROLE_SELECTED,
                timestamp=datetime(2025, 10, 1, 9, 0, tzinfo=UTC).isoformat(),
                role="arch",
                command="flowspec init",
            )
        )
        # No HOSTNAME at all: flowspec hashes "unknown".
        del os.environ["HOSTNAME"]
        track_role_event(RoleEvent.AGENT_INVOKED, agent="sre-agent", project_root=project)
        reset_writer()
        data = (project / ".flowspec" / "telemetry.jsonl").read_bytes()
    finally:
        os.chdir(here)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        shutil.rmtree(project, ignore_errors=True)
    out.write_bytes(data)
    return data.count(b"\n")


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name("lines.jsonl")
    print(f"wrote {generate(target)} lines to {target}")
