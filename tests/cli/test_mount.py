"""`mount(host_app)`: one-line errors, our exit codes and the host's name under any typer host.

A host runs our commands through its own typer (not our `run()`), so these
tests invoke a small host app in-process with typer's CliRunner, the way a
host's own tests would, and through a real process.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from flowspec_telemetry.cli import mount
from flowspec_telemetry.cli._group import flowspec_options
from flowspec_telemetry.core import consent_rules


def _host() -> typer.Typer:
    host = typer.Typer(name="acme", no_args_is_help=True)

    @host.command()
    def hello() -> None:
        """The host's own command."""
        typer.echo("hello")

    old = typer.Typer()

    @old.command("status")
    def old_status() -> None:
        typer.echo("the host's old telemetry")

    host.add_typer(old, name="telemetry")
    mount(host)
    return host


def _invoke(args: list[str], cwd: Path, monkeypatch: pytest.MonkeyPatch) -> typer.testing.Result:
    monkeypatch.chdir(cwd)
    return CliRunner().invoke(_host(), args, prog_name="acme")


def test_a_cli_error_is_one_line_named_after_the_host_with_our_exit_code(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = consent_rules.project_config_path(project)
    path.parent.mkdir()
    path.write_text("{not json")
    result = _invoke(["telemetry", "enable", "--yes", "--project"], project, monkeypatch)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("acme telemetry: error: ") and "corrupt" in lines[0]
    assert "Traceback" not in result.output
    assert path.read_text() == "{not json"


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["telemetry", "status", "--bogus"], "No such option: --bogus"),
        (["telemetry", "nosuch"], "No such command 'nosuch'"),
        (["telemetry", "view", "--limit", "-1"], "--limit"),
        (["telemetry", "stats", "--days", "x"], "--days takes a whole number"),
        (["telemetry", "status", "-p", "/nonexistent/folder"], "is not a folder"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(
    project: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], fragment: str
) -> None:
    result = _invoke(args, project, monkeypatch)
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("acme telemetry: error: ")
    assert fragment in lines[0]


def test_not_in_a_project_is_exit_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = _invoke(["telemetry", "view"], tmp_path, monkeypatch)
    assert result.exit_code == 1
    assert result.stderr.startswith("acme telemetry: error: not in a flowspec project")


def test_the_mounted_group_replaces_the_hosts_own_and_keeps_the_hosts_commands(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _invoke(["hello"], project, monkeypatch).stdout == "hello\n"
    result = _invoke(["telemetry", "status"], project, monkeypatch)
    assert result.exit_code == 0, result.output
    assert "Telemetry is OFF" in result.stdout
    assert "the host's old telemetry" not in result.stdout
    usage = _invoke(["telemetry", "status", "--help"], project, monkeypatch).stdout
    assert "acme telemetry status" in usage
    assert "flowspec-telemetry status" not in usage


def test_flowspecs_option_spellings(
    project: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # -p/--project-root: the project to act on, wherever the command runs.
    result = _invoke(
        ["telemetry", "enable", "-y", "--project", "-p", str(project)], elsewhere, monkeypatch
    )
    assert result.exit_code == 0, result.output
    assert consent_rules.read_record(consent_rules.project_config_path(project)) is not None
    result = _invoke(
        ["telemetry", "status", "--project-root", str(project)], elsewhere, monkeypatch
    )
    assert f"Project: {project}" in result.stdout
    assert "Telemetry is ON" in result.stdout
    # stats --days N, clear -y, export -o FILE without --format.
    from flowspec_telemetry.core.tracker import Tracker

    Tracker().track("role.selected", role="dev", project_root=project)
    result = _invoke(
        ["telemetry", "stats", "--days", "7", "-p", str(project)], elsewhere, monkeypatch
    )
    assert result.exit_code == 0, result.output
    out = tmp_path / "usage.json"
    result = _invoke(
        ["telemetry", "export", "-o", str(out), "-p", str(project)], elsewhere, monkeypatch
    )
    assert result.exit_code == 0, result.output
    exported = json.loads(out.read_text())
    assert [e["event_type"] for e in exported] == ["role.selected"]
    result = _invoke(["telemetry", "export", "-p", str(project)], elsewhere, monkeypatch)
    assert json.loads(result.stdout)[0]["event_type"] == "role.selected"
    result = _invoke(["telemetry", "clear", "-y", "-p", str(project)], elsewhere, monkeypatch)
    assert result.exit_code == 0, result.output
    assert "Removed 1 events" in result.stdout or "Removed 1 event" in result.stdout


def test_flowspec_options_rewrites() -> None:
    assert flowspec_options("stats", ["-d", "30"]) == (["--since", "30d"], None)
    assert flowspec_options("stats", ["--days=5"]) == (["--since", "5d"], None)
    assert flowspec_options("clear", ["-y"]) == (["--force"], None)
    assert flowspec_options("export", ["-o", "a.csv"]) == (
        ["--output", "a.csv", "--format", "csv"],
        None,
    )
    assert flowspec_options("export", ["-o", "a.txt", "--format", "jsonl"])[0] == [
        "--output",
        "a.txt",
        "--format",
        "jsonl",
    ]
    assert flowspec_options("status", ["-p/tmp", "--json"]) == (["--json"], "/tmp")
    assert flowspec_options("view", ["--", "-p"]) == (["--", "-p"], None)


HOST_SCRIPT = """
import sys, typer
from flowspec_telemetry.cli import mount
host = typer.Typer(name="acme")
@host.command()
def hello() -> None:
    typer.echo("hello")
mount(host)
host(prog_name="acme")
"""


def test_a_real_host_process_exits_with_our_code_and_one_line(project: Path) -> None:
    path = consent_rules.project_config_path(project)
    path.parent.mkdir()
    path.write_text("[1]")
    done = subprocess.run(
        [sys.executable, "-c", HOST_SCRIPT, "telemetry", "status"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines()[-1].startswith("acme telemetry: error: ")
    assert len(done.stderr.splitlines()) == 1
