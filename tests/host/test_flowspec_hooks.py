"""The flowspec lifecycle adapter (issue 12.3) with the REAL flowspec emitter and runner.

`install-hooks --flowspec` merges our entry into the hooks.yaml that the real
`flowspec init` wrote; flowspec's own `EventEmitter` then runs it (through
its `HookRunner`: `bash -c`, reduced environment, `HOOK_EVENT`) for events
built by flowspec's own factories, and the run is counted once when Claude
Code's hooks saw it too.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from flowspec_telemetry.core import consent_rules

from ..conftest import CONSOLE_SCRIPT, all_files_text, read_events, run_cli


@pytest.fixture(scope="module")
def init_project(flowspec_exe: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    parent = tmp_path_factory.mktemp("init")
    subprocess.run(
        [str(flowspec_exe), "init", "proj", "--ai", "claude", "--script", "sh", "--no-git",
         "--ignore-agent-tools", "--constitution", "light", "--no-validation-prompts"],
        cwd=parent, capture_output=True, check=True, timeout=300,
        env={**os.environ, "NO_COLOR": "1"},
    )  # fmt: skip
    return parent / "proj"


@pytest.fixture
def project(init_project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the `flowspec init` project, consented, with our console script on PATH."""
    root = tmp_path / "proj"
    shutil.copytree(init_project, root, symlinks=True)
    consent_rules.write_record(
        consent_rules.project_config_path(root), consent_rules.new_record("yes")
    )
    monkeypatch.setenv("PATH", f"{CONSOLE_SCRIPT.parent}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.chdir(root)  # flowspec's EventLogger writes logs/ under the working folder
    return root


HOOKS = Path(".flowspec") / "hooks" / "hooks.yaml"


def install(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli("install-hooks", "--flowspec", *args, cwd=root)


def emit(root: Path, event: Any) -> list[Any]:
    """flowspec's own emitter, as its commands and `flowspec hooks emit` use it."""
    from flowspec_cli.hooks.emitter import EventEmitter

    results = EventEmitter(workspace_root=root).emit(event)
    for result in results:
        if result.hook_name == "flowspec-telemetry":
            assert result.success, (result.stderr, result.error)
            assert (result.stdout, result.stderr) == ("", "")  # our hook prints nothing
    return results


def essentials(root: Path) -> list[tuple[object, ...]]:
    return [
        (e["event_type"], e.get("command"), e.get("agent"), e.get("outcome"))
        for e in read_events(root)
    ]


def test_install_merges_into_flowspecs_own_hooks_yaml(project: Path, flowspec_exe: Path) -> None:
    original = (project / HOOKS).read_text()
    done = install(project)
    assert done.returncode == 0, done.stderr
    after = (project / HOOKS).read_text()
    assert after.startswith(original.rstrip("\n"))  # every original byte kept, comments too
    assert (project / ".flowspec" / "hooks" / "hooks.yaml.bak").read_text() == original

    from flowspec_cli.hooks.config import load_hooks_config

    config = load_hooks_config(project_root=project)  # flowspec's schema and security checks
    names = [h.name for h in config.hooks]
    assert names[-1] == "flowspec-telemetry" and len(names) == len(set(names))
    valid = subprocess.run(
        [str(flowspec_exe), "hooks", "validate"], cwd=project, capture_output=True, text=True,
        check=False, env={**os.environ, "NO_COLOR": "1"},
    )  # fmt: skip
    assert valid.returncode == 0, valid.stdout + valid.stderr

    again = install(project)
    assert "nothing to do" in again.stdout
    assert (project / HOOKS).read_text() == after

    removed = install(project, "--remove")
    assert removed.returncode == 0, removed.stderr
    assert (project / HOOKS).read_text() == original


def test_dry_run_writes_nothing(project: Path) -> None:
    before = (project / HOOKS).read_bytes()
    done = install(project, "--dry-run")
    assert done.returncode == 0
    assert "+  - name: flowspec-telemetry" in done.stdout
    assert (project / HOOKS).read_bytes() == before
    assert not (project / ".flowspec" / "hooks" / "hooks.yaml.bak").exists()


@pytest.mark.parametrize(
    "content",
    ["hooks: [unclosed\n", "- a list\n", "hooks: {a: 1}\n", "version: '1.0'\nhooks: [{name: x, events: [], command: y}]\n"],
)  # fmt: skip
def test_a_hooks_yaml_it_cannot_merge_is_refused_and_left_as_it_was(
    project: Path, content: str
) -> None:
    (project / HOOKS).write_text(content)
    done = install(project)
    assert done.returncode == 2
    assert (
        done.stderr.count("\n") == 1 and "not touching it" in done.stderr
    ) or "by hand" in done.stderr
    assert (project / HOOKS).read_text() == content
    assert not (project / ".flowspec" / "hooks" / "hooks.yaml.bak").exists()


@pytest.mark.parametrize("where", ["file", "backup", "folder"])
def test_never_writes_through_a_planted_symlink(project: Path, tmp_path: Path, where: str) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    hooks = project / HOOKS
    if where == "file":
        shutil.move(hooks, outside / "hooks.yaml")
        hooks.symlink_to(outside / "hooks.yaml")
    elif where == "backup":
        (hooks.parent / "hooks.yaml.bak").symlink_to(outside / "planted")  # dangling
    else:
        shutil.move(hooks.parent, outside / "hooks")
        hooks.parent.symlink_to(outside / "hooks")
    snapshot = {p: p.read_bytes() for p in outside.rglob("*") if p.is_file()}
    done = install(project)
    assert done.returncode == 2 and "symbolic link" in done.stderr
    assert {p: p.read_bytes() for p in outside.rglob("*") if p.is_file()} == snapshot
    assert not (outside / "planted").exists()


def test_flowspec_events_are_recorded(project: Path, isolated_env: Path) -> None:
    from flowspec_cli.hooks.events import (
        Event,
        create_agent_completed_event,
        create_agent_handoff_event,
        create_agent_started_event,
        create_implement_completed_event,
        create_spec_created_event,
        create_task_completed_event,
    )

    assert install(project).returncode == 0
    root = str(project)
    emit(
        project,
        Event(event_type="implement.started", project_root=root, feature="feature-secret-x"),
    )
    emit(
        project,
        create_implement_completed_event(
            root, "feature-secret-x", task_id="task-4242", files_changed=3
        ),
    )
    emit(
        project, create_spec_created_event(root, "feature-secret-x", "docs/prd/feature-secret-x.md")
    )
    emit(
        project,
        create_agent_started_event(
            root, "backend-engineer", task_id="task-4242", machine="kinsale-box"
        ),
    )
    emit(project, create_agent_completed_event(root, "backend-engineer", machine="kinsale-box"))
    emit(
        project,
        create_agent_handoff_event(root, "pm-planner", "software-architect", machine="kinsale-box"),
    )
    emit(
        project, create_agent_started_event(root, "claude-code@kinsale-box")
    )  # a machine, not an agent
    emit(project, create_task_completed_event(root, "task-4242", "Fix jsmith@example.com login"))
    assert essentials(project) == [
        ("command.started", "/flow:implement", None, None),
        ("command.completed", "/flow:implement", None, "success"),
        ("command.completed", "/flow:specify", None, "success"),
        ("agent.invoked", None, "@backend-engineer", None),
        ("agent.completed", None, "@backend-engineer", "success"),
        ("handoff.clicked", None, None, None),
    ]
    events = read_events(project)
    assert events[0]["invocation_id"] == events[1]["invocation_id"]
    assert isinstance(events[1]["duration_ms"], int)
    assert events[-1]["handoff"] == {"from_agent": "@pm-planner", "to_agent": "@software-architect"}
    blob = (all_files_text(project / ".flowspec") + all_files_text(isolated_env)).decode(
        "utf-8", "replace"
    )
    for private in ("feature-secret-x", "task-4242", "kinsale", "jsmith", str(project)):
        assert private not in blob.replace((project / ".flowspec" / "hooks").as_posix(), "")


def test_one_run_seen_by_claude_code_and_flowspec_is_counted_once(project: Path) -> None:
    from flowspec_cli.hooks.events import Event, create_implement_completed_event

    assert install(project).returncode == 0
    assert run_cli("install-hooks", cwd=project).returncode == 0

    def claude(event: str, **fields: Any) -> None:
        payload = {"session_id": "s-1", "transcript_path": "/tmp/t.jsonl", "cwd": str(project),
                   "permission_mode": "default", "hook_event_name": event, **fields}  # fmt: skip
        done = run_cli("hook", "claude-code", cwd=project, input=json.dumps(payload))
        assert (done.returncode, done.stdout) == (0, "")

    claude("UserPromptSubmit", prompt="/flow:implement feature-x")
    emit(project, Event(event_type="implement.started", project_root=str(project)))
    emit(project, create_implement_completed_event(str(project), "feature-x"))
    claude("Stop", stop_hook_active=False)
    assert essentials(project) == [
        ("command.started", "/flow:implement", None, None),
        ("command.completed", "/flow:implement", None, "success"),
    ]
    started, completed = read_events(project)
    assert started["invocation_id"] == completed["invocation_id"]

    # a second run of the same command is a new run, seen by both again
    claude("UserPromptSubmit", prompt="/flow:implement")
    emit(project, create_implement_completed_event(str(project), "feature-y"))
    claude("Stop", stop_hook_active=False)
    assert [e[0] for e in essentials(project)] == [
        "command.started", "command.completed", "command.started", "command.completed",
    ]  # fmt: skip


def test_the_hook_honours_do_not_track_set_for_flowspec(project: Path) -> None:
    """flowspec passes its hooks a reduced environment: the opt-out is read from the ancestors."""
    assert install(project).returncode == 0
    code = (
        "from pathlib import Path\n"
        "from flowspec_cli.hooks.emitter import EventEmitter\n"
        "from flowspec_cli.hooks.events import Event\n"
        f"r = EventEmitter(workspace_root=Path({str(project)!r})).emit(Event(event_type='implement.started', project_root='x'))\n"
        "assert r and all(x.success for x in r), r\n"
    )  # fmt: skip
    subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "DO_NOT_TRACK": "1"},
        check=True,
        timeout=120,
    )
    assert read_events(project) == []
    subprocess.run([sys.executable, "-c", code], env=dict(os.environ), check=True, timeout=120)
    assert essentials(project) == [("command.started", "/flow:implement", None, None)]


def test_without_consent_nothing_is_written(project: Path) -> None:
    from flowspec_cli.hooks.events import Event

    assert install(project).returncode == 0
    consent_rules.project_config_path(project).unlink()
    emit(project, Event(event_type="implement.started", project_root=str(project)))
    assert not (project / ".flowspec" / "telemetry.jsonl").exists()
    assert not (project / ".flowspec" / "telemetry-hooks.json").exists()


def test_absolute_install_needs_no_path(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from flowspec_cli.hooks.events import Event

    done = install(project, "--absolute")
    assert done.returncode == 0, done.stderr
    assert str(CONSOLE_SCRIPT) in (project / HOOKS).read_text()
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    emit(project, Event(event_type="validate.started", project_root=str(project)))
    assert essentials(project) == [("command.started", "/flow:validate", None, None)]
