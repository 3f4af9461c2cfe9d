"""`mount()` into the REAL flowspec 0.4.008 typer app, where its own `telemetry` sub-app was.

In-process (typer's CliRunner on `flowspec_cli.app`) and through a real
process: flowspec's template lines keep working unchanged, its option
spellings are accepted, errors stay one line with our exit codes, and usage
names the host.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from flowspec_telemetry.core import consent_rules
from tests.conftest import read_events

pytestmark = pytest.mark.usefixtures("flowspec_exe")


@pytest.fixture
def flowspec_app() -> Any:
    """flowspec's own app, with this package mounted where its telemetry sub-app was."""
    import flowspec_cli

    from flowspec_telemetry.cli import mount

    before = list(flowspec_cli.app.registered_groups)
    mount(flowspec_cli.app)
    yield flowspec_cli.app
    flowspec_cli.app.registered_groups = before


def _invoke(app: Any, cwd: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> Any:
    monkeypatch.chdir(cwd)
    return CliRunner().invoke(app, list(args), prog_name="flowspec")


def test_flowspecs_template_lines_record_through_the_mounted_app(
    flowspec_app: Any, consented: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for args in (
        ("telemetry", "track-role", "dev", "--command", "/flow:implement", "-q"),
        ("telemetry", "track-agent", "backend-engineer", "--command", "/flow:implement", "-q"),
        ("telemetry", "track-agent", "qa-engineer", "-c", "/flow:validate", "-r", "dev", "-q"),
        ("telemetry", "track-handoff", "pm-planner", "backend-engineer", "-r", "dev", "-q"),
    ):
        result = _invoke(flowspec_app, consented, monkeypatch, *args)
        assert (result.exit_code, result.output) == (0, ""), args
    kinds = [e["event_type"] for e in read_events(consented)]
    assert kinds == ["command.started", "agent.invoked", "agent.invoked", "handoff.clicked"]


def test_flowspecs_options_and_one_line_errors_under_flowspec(
    flowspec_app: Any, project: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    result = _invoke(
        flowspec_app, tmp_path, monkeypatch, "telemetry", "enable", "-y", "-p", str(project)
    )
    assert result.exit_code == 0, result.output
    result = _invoke(flowspec_app, tmp_path, monkeypatch, "telemetry", "status", "-p", str(project))
    assert "Telemetry is ON" in result.stdout
    result = _invoke(flowspec_app, project, monkeypatch, "telemetry", "stats", "--days", "30")
    assert result.exit_code == 0, result.output
    out = tmp_path / "export.json"
    result = _invoke(flowspec_app, project, monkeypatch, "telemetry", "export", "-o", str(out))
    assert result.exit_code == 0 and json.loads(out.read_text()) == []
    result = _invoke(flowspec_app, project, monkeypatch, "telemetry", "clear", "-y")
    assert result.exit_code == 0, result.output
    path = consent_rules.project_config_path(project)
    path.parent.mkdir(exist_ok=True)
    path.write_text("[1]")
    result = _invoke(flowspec_app, project, monkeypatch, "telemetry", "status")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [result.stderr.strip()]
    assert result.stderr.startswith("flowspec telemetry: error: ")
    result = _invoke(flowspec_app, project, monkeypatch, "telemetry", "view", "--bogus")
    assert result.exit_code == 2 and result.stderr.startswith("flowspec telemetry: error: ")
    usage = _invoke(flowspec_app, project, monkeypatch, "telemetry", "view", "--help").stdout
    assert "flowspec telemetry view" in usage and "flowspec-telemetry" not in usage
    # flowspec's other commands are untouched.
    assert _invoke(flowspec_app, project, monkeypatch, "--help").exit_code == 0


MOUNTED = """
import sys
import flowspec_cli
from flowspec_telemetry.cli import mount
mount(flowspec_cli.app)
flowspec_cli.app(prog_name="flowspec")
"""


def _process(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", MOUNTED, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_real_flowspec_process_with_the_mount(consented: Path) -> None:
    done = _process(
        consented, "telemetry", "track-role", "dev", "--command", "/flow:implement", "-q"
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    assert [e["event_type"] for e in read_events(consented)] == ["command.started"]
    done = _process(consented, "telemetry", "track-role")
    assert done.returncode == 2
    assert done.stderr.strip().startswith("flowspec telemetry: error: track-role needs ROLE")
    done = _process(consented, "telemetry", "status", "-p", "/nonexistent/folder")
    assert done.returncode == 2 and len(done.stderr.splitlines()) == 1
