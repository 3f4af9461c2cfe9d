"""flowspec's template call forms (`track-role`, `track-agent`, `track-handoff`) on the fast path.

Through the real console script: the lines flowspec's own templates carry,
what they record, that the fast path imports neither typer nor rich, and that
one command run seen by the Claude Code hooks and by a template line is
counted once.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from flowspec_telemetry.cli._templates import parse
from flowspec_telemetry.cli.fast import UsageError
from tests.conftest import CONSOLE_SCRIPT, SHARED, read_events, run_cli


def test_parse_takes_flowspecs_forms() -> None:
    assert parse("track-role", ["dev", "--command", "/flow:implement", "-q"]) == (
        ["dev"],
        {"command": "/flow:implement"},
        True,
    )
    assert parse("track-role", ["pm", "-c/flow:init"]) == (["pm"], {"command": "/flow:init"}, False)
    assert parse("track-agent", ["qa-engineer", "-c", "/flow:validate", "-r", "dev", "-q"]) == (
        ["qa-engineer"],
        {"command": "/flow:validate", "role": "dev"},
        True,
    )
    assert parse("track-handoff", ["pm-planner", "backend-engineer", "--role=dev"]) == (
        ["pm-planner", "backend-engineer"],
        {"role": "dev"},
        False,
    )
    assert parse("track-role", ["--", "-odd-role"])[0] == ["-odd-role"]


@pytest.mark.parametrize(
    ("name", "args", "fragment"),
    [
        ("track-role", [], "needs ROLE"),
        ("track-role", ["dev", "extra"], "unexpected argument 'extra'"),
        ("track-role", ["dev", "--agent", "x"], "no such option '--agent'"),
        ("track-handoff", ["a"], "needs SOURCE TARGET"),
        ("track-agent", ["a", "-c"], "needs a value"),
        ("track-agent", ["a", "-p", "/nonexistent/dir"], "is not a folder"),
    ],
)
def test_bad_usage_is_one_line_exit_2_and_records_nothing(
    consented: Path, name: str, args: list[str], fragment: str
) -> None:
    done = run_cli(name, *args, cwd=consented)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and fragment in done.stderr
    assert done.stderr.startswith("flowspec-telemetry: error: ")
    with pytest.raises(UsageError):
        parse(name, args)
    assert read_events(consented) == []


def _template_lines() -> list[list[str]]:
    """Every `flowspec telemetry track-*` line in the installed flowspec's own templates."""
    import importlib.util
    import shlex

    spec = importlib.util.find_spec("flowspec_cli")
    if spec is None or spec.origin is None:
        pytest.skip("flowspec is not installed (scripts/test installs it from ../shared/flowspec)")
    lines = []
    for path in sorted((Path(spec.origin).parent / "templates").rglob("*.md")):
        for text in path.read_text(encoding="utf-8", errors="replace").splitlines():
            if text.startswith("flowspec telemetry track-"):
                lines.append(shlex.split(text.replace('"$CURRENT_ROLE"', "dev"))[2:])
    return lines


def test_every_template_line_of_flowspec_records_its_event(consented: Path) -> None:
    lines = _template_lines()
    assert len(lines) >= 10
    for words in {tuple(w) for w in lines}:
        done = run_cli(*words, cwd=consented)
        assert (done.returncode, done.stdout, done.stderr) == (0, "", ""), words  # -q: silent
    events = read_events(consented)
    assert {e["event_type"] for e in events} == {"command.started", "agent.invoked"}
    agents = {e["agent"] for e in events if e["event_type"] == "agent.invoked"}
    assert "@backend-engineer" in agents and all(str(a).startswith("@") for a in agents)
    runs = [e for e in events if e["event_type"] == "command.started"]
    assert {e["command"] for e in runs} >= {"/flow:implement", "/flow:validate"}
    assert all(e["role"] == "dev" and e["legacy_type"] == "role.selected" for e in runs)


def test_what_each_form_records_and_nothing_without_consent(
    consented: Path, tmp_path: Path
) -> None:
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    (fresh / "flowspec_workflow.yml").write_text((SHARED / "flowspec_workflow.yml").read_text())
    done = run_cli("track-role", "dev", "--command", "/flow:implement", "-q", cwd=fresh)
    assert done.returncode == 0
    assert not (fresh / ".flowspec").exists()  # no consent: nothing at all
    done = run_cli("track-role", "pm", "-c", "/flow:init", cwd=consented)
    assert done.returncode == 0 and done.stdout.startswith("evt_")
    run_cli("track-handoff", "pm-planner", "software-architect", "-r", "pm", "-q", cwd=consented)
    selected, handoff = read_events(consented)
    assert (selected["event_type"], selected["role"]) == ("role.selected", "pm")
    assert handoff["event_type"] == "handoff.clicked"
    assert handoff["handoff"] == {"from_agent": "@pm-planner", "to_agent": "@software-architect"}


def test_project_root_option_names_the_project(consented: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = run_cli("track-agent", "backend-engineer", "-p", str(consented), "-q", cwd=elsewhere)
    assert done.returncode == 0, done.stderr
    assert [e["agent"] for e in read_events(consented)] == ["@backend-engineer"]


FAST_CODE = """
import json, sys
from flowspec_telemetry.cli.entry import main
code = main(["track-role", "dev", "--command", "/flow:implement", "-q"])
print(json.dumps([code, sorted(m for m in sys.modules if m.split(".")[0] in ("typer", "rich", "click", "yaml"))]))
"""


def test_the_template_forms_never_import_typer_or_rich(consented: Path) -> None:
    seen = []
    for _ in range(2):  # the first event of a project parses the catalog (YAML) once
        done = subprocess.run(
            [sys.executable, "-c", FAST_CODE],
            cwd=consented,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        code, heavy = json.loads(done.stdout)
        assert code == 0
        assert not [m for m in heavy if m.split(".")[0] in ("typer", "rich", "click")]
        seen.append(heavy)
    assert seen[1] == []  # steady state: the standard library only
    assert [e["event_type"] for e in read_events(consented)] == ["command.started"] * 2


def _hook(project: Path, name: str) -> None:
    payload = json.loads((SHARED / "claude-code-hooks" / f"{name}.json").read_text())
    payload["cwd"] = str(project)
    done = run_cli("hook", "claude-code", cwd=project, input=json.dumps(payload))
    assert done.returncode == 0


def test_one_run_seen_by_the_hooks_and_a_template_line_is_counted_once(consented: Path) -> None:
    _hook(consented, "user-prompt-submit-flow-command")  # /flow:implement starts (hook)
    assert (
        run_cli("track-role", "dev", "--command", "/flow:implement", "-q", cwd=consented).returncode
        == 0
    )
    _hook(consented, "stop")
    starts = [e for e in read_events(consented) if e["event_type"] == "command.started"]
    assert len(starts) == 1 and starts[0]["command"] == "/flow:implement"
    # A later run without the hooks is a run of its own.
    assert (
        run_cli("track-role", "dev", "--command", "/flow:implement", "-q", cwd=consented).returncode
        == 0
    )
    starts = [e for e in read_events(consented) if e["event_type"] == "command.started"]
    assert len(starts) == 2


def test_help_is_on_the_fast_path(project: Path) -> None:
    done = run_cli("track-role", "--help", cwd=project)
    assert done.returncode == 0
    assert done.stdout.startswith("Usage: flowspec-telemetry track-role ROLE [OPTIONS]")
    assert CONSOLE_SCRIPT.exists()
