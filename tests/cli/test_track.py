"""`flowspec-telemetry track`, run as hosts run it: the installed console script."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from flowspec_telemetry.core.events import RoleEvent

from ..conftest import read_events, run_cli


def test_consent_off_exits_zero_silently_and_writes_nothing(project: Path) -> None:
    result = run_cli("track", "role.selected", "--role", "dev", cwd=project)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert sorted(p.name for p in project.iterdir()) == ["flowspec_workflow.yml"]


def test_records_and_prints_the_event_id(consented: Path) -> None:
    sub = consented / "docs"
    sub.mkdir()
    result = run_cli(
        "track", "handoff.clicked", "--from-agent", "@pm-planner", "--to-agent=@software-architect",
        "--role", "arch", "--duration-ms", "12", cwd=sub,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    [event] = read_events(consented)
    assert result.stdout.strip() == event["event_id"]
    assert event["handoff"] == {"from_agent": "@pm-planner", "to_agent": "@software-architect"}
    assert (event["role"], event["duration_ms"]) == ("arch", 12)


def test_quiet_and_explicit_project(consented: Path, tmp_path: Path) -> None:
    result = run_cli("track", "role.selected", "-q", "--project", str(consented), cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, "")
    assert len(read_events(consented)) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["role.teleported"],
            "unknown event type 'role.teleported' (did you mean 'role.selected'?); "
            "valid types: role.selected",
        ),
        (["xyzzy"], "unknown event type 'xyzzy'; valid types: role.selected"),
        ([], "track needs an EVENT_TYPE"),
        (["role.selected", "--colour", "red"], "no such option '--colour'"),
        (["role.selected", "--role"], "option --role needs a value"),
        (["role.selected", "extra"], "unexpected argument 'extra'"),
        (["command.completed", "--duration-ms", "-4"], "--duration-ms takes a whole number"),
        (["command.completed", "--duration-ms", "fast"], "--duration-ms takes a whole number"),
        (["role.selected", "--project", "/no/such/folder"], "is not a folder"),
        (["role.selected", "-x"], "no such option '-x'"),
        (["command.completed", "--outcome", "weird"], "--outcome takes one of: cancelled, error"),
        (["role.selected", "--role", "dev", "--role", "qa"], "option --role given twice"),
    ],
)
def test_usage_errors_are_one_line_exit_2_and_write_nothing(
    consented: Path, args: list[str], message: str
) -> None:
    before = sorted(p.name for p in consented.rglob("*"))
    result = run_cli("track", *args, cwd=consented)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("flowspec-telemetry: error: ")
    assert message in result.stderr
    assert sorted(p.name for p in consented.rglob("*")) == before


def test_unknown_type_error_lists_every_valid_type(consented: Path) -> None:
    result = run_cli("track", "nope", cwd=consented)
    for event_type in RoleEvent:
        assert event_type.value in result.stderr


def test_hostile_event_type_is_not_echoed(consented: Path) -> None:
    result = run_cli("track", "\x1b]0;pwned\x07" + "x" * 100, cwd=consented)
    assert result.returncode == 2
    assert "\x1b" not in result.stderr
    assert "(unprintable)" in result.stderr


def test_help(consented: Path) -> None:
    result = run_cli("track", "--help", cwd=consented)
    assert result.returncode == 0
    assert "Usage: flowspec-telemetry track EVENT_TYPE" in result.stdout
    assert read_events(consented) == []


def test_fast_path_imports_neither_typer_nor_rich_nor_yaml(consented: Path) -> None:
    code = (
        "import sys\n"
        "from flowspec_telemetry.cli.entry import main\n"
        f"main(['track', 'role.selected', '--role', 'dev', '-q', '--project', {str(consented)!r}])\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('typer', 'rich', 'click', 'yaml'))\n"
        "print(','.join(heavy))\n"
    )
    # Warm the catalog cache first: YAML is parsed only when the workflow file changed.
    assert run_cli("track", "role.selected", "-q", cwd=consented).returncode == 0
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
    assert len(read_events(consented)) == 2


def test_import_of_the_package_is_light() -> None:
    code = (
        "import sys, flowspec_telemetry\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in ('typer', 'rich', 'yaml', 'click'))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_env_vars_apply_to_the_cli(consented: Path) -> None:
    assert run_cli("track", "role.selected", cwd=consented, env={"DO_NOT_TRACK": "1"}).stdout == ""
    assert read_events(consented) == []
    result = run_cli("track", "role.selected", cwd=consented, env={"FLOWSPEC_TELEMETRY_DEBUG": "1"})
    assert json.loads(result.stderr.split("recorded ", 1)[1])["event_type"] == "role.selected"
