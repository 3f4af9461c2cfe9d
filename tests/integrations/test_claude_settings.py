"""`install-hooks`: merging into .claude/settings.json without disturbing anything else."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from flowspec_telemetry.integrations import claude_settings
from flowspec_telemetry.integrations.claude_settings import HOOK_COMMAND, add_hooks, remove_hooks

from ..conftest import CONSOLE_SCRIPT, run_cli

EXISTING = {
    "permissions": {"allow": ["Bash(npm test:*)"], "deny": []},
    "hooks": {
        "PreToolUse": [
            {"matcher": "Bash", "hooks": [{"type": "command", "command": "./scripts/guard.sh"}]}
        ],
        "Notification": [
            {"hooks": [{"type": "command", "command": "notify-send 'Claude' 'done ✓'"}]}
        ],
    },
    "model": "opus",
}


@pytest.fixture
def settings(project: Path) -> Path:
    path = project / ".claude" / "settings.json"
    path.parent.mkdir()
    path.write_text(json.dumps(EXISTING, indent=2, ensure_ascii=False) + "\n")
    return path


def ours(data: dict[str, object]) -> dict[str, int]:
    hooks = data.get("hooks", {})
    assert isinstance(hooks, dict)
    return {
        event: sum(h.get("command") == HOOK_COMMAND for g in groups for h in g.get("hooks", []))
        for event, groups in hooks.items()
    }


def test_install_then_remove_round_trips_byte_for_byte(project: Path, settings: Path) -> None:
    original = settings.read_bytes()
    result = run_cli("install-hooks", cwd=project)
    assert result.returncode == 0, result.stderr
    assert "Installed the telemetry hooks in .claude/settings.json" in result.stdout
    data = json.loads(settings.read_text())
    assert ours(data) == {
        "PreToolUse": 1,
        "Notification": 0,
        **dict.fromkeys(claude_settings.HOOK_EVENTS, 1),
    }
    assert data["hooks"]["PreToolUse"][0] == EXISTING["hooks"]["PreToolUse"][0]  # type: ignore[index]
    assert data["permissions"] == EXISTING["permissions"] and data["model"] == "opus"
    assert (settings.parent / "settings.json.bak").read_bytes() == original
    # idempotent
    again = run_cli("install-hooks", cwd=project)
    assert again.returncode == 0 and "nothing to do" in again.stdout
    assert ours(json.loads(settings.read_text()))["PreToolUse"] == 1
    # remove restores the original exactly
    removed = run_cli("install-hooks", "--remove", cwd=project)
    assert removed.returncode == 0, removed.stderr
    assert settings.read_bytes() == original


def test_dry_run_shows_a_diff_and_writes_nothing(project: Path, settings: Path) -> None:
    before = settings.read_bytes()
    result = run_cli("install-hooks", "--dry-run", "--claude-code", cwd=project)
    assert result.returncode == 0
    assert "+++ .claude/settings.json (after)" in result.stdout
    assert HOOK_COMMAND in result.stdout and "Dry run" in result.stdout
    assert settings.read_bytes() == before
    assert not (settings.parent / "settings.json.bak").exists()


def test_creates_the_file_when_missing(project: Path) -> None:
    result = run_cli("install-hooks", cwd=project)
    assert result.returncode == 0
    data = json.loads((project / ".claude" / "settings.json").read_text())
    assert set(data["hooks"]) == {
        "UserPromptSubmit",
        "PreToolUse",
        "PostToolUse",
        "PostToolUseFailure",
        "SubagentStart",
        "SubagentStop",
        "Stop",
        "SessionEnd",
    }
    assert data["hooks"]["PreToolUse"][0]["matcher"] == "Task|Agent|SlashCommand|Skill"
    assert data["hooks"]["PostToolUseFailure"][0]["matcher"] == "Task|Agent|SlashCommand|Skill"


@pytest.mark.parametrize(
    "content", ["{not json", "[1, 2]", '{"hooks": []}', '{"hooks": {"Stop": {}}}']
)
def test_refuses_a_file_it_cannot_merge_safely(project: Path, content: str) -> None:
    path = project / ".claude" / "settings.json"
    path.parent.mkdir()
    path.write_text(content)
    result = run_cli("install-hooks", cwd=project)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "not touching it" in result.stderr
    assert path.read_text() == content
    assert sorted(p.name for p in path.parent.iterdir()) == ["settings.json"]


def test_keeps_four_space_indentation(project: Path) -> None:
    path = project / ".claude" / "settings.json"
    path.parent.mkdir()
    original = json.dumps(EXISTING, indent=4, ensure_ascii=False)  # no trailing newline
    path.write_text(original)
    assert run_cli("install-hooks", cwd=project).returncode == 0
    assert '\n    "permissions"' in path.read_text()
    assert run_cli("install-hooks", "--remove", cwd=project).returncode == 0
    assert path.read_text() == original


def test_outside_a_project(tmp_path: Path) -> None:
    result = run_cli("install-hooks", cwd=tmp_path)
    assert result.returncode == 1 and "not in a flowspec project" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_remove_keeps_a_group_we_share_with_another_command() -> None:
    data = {
        "hooks": {
            "Stop": [
                {
                    "hooks": [
                        {"type": "command", "command": "mine"},
                        {"type": "command", "command": HOOK_COMMAND},
                    ]
                }
            ]
        }
    }
    assert remove_hooks(data) == {
        "hooks": {"Stop": [{"hooks": [{"type": "command", "command": "mine"}]}]}
    }
    assert ours(add_hooks(remove_hooks(add_hooks({})))) == dict.fromkeys(
        claude_settings.HOOK_EVENTS, 1
    )


def test_symlinked_settings_are_refused(project: Path, tmp_path: Path) -> None:
    target = tmp_path / "real.json"
    target.write_text("{}")
    (project / ".claude").mkdir()
    (project / ".claude" / "settings.json").symlink_to(target)
    with pytest.raises(claude_settings.SettingsError, match="symbolic link"):
        claude_settings.plan(project)


@pytest.mark.parametrize("where", ["dangling-backup", "backup-to-file", "folder"])
def test_never_writes_through_a_planted_symlink(
    project: Path, settings: Path, tmp_path: Path, where: str
) -> None:
    """Issue 13.4: a symlink at the backup name or a symlinked .claude/ is refused."""
    outside = tmp_path / "outside"
    outside.mkdir()
    if where == "dangling-backup":
        (settings.parent / "settings.json.bak").symlink_to(outside / "evil.json")
    elif where == "backup-to-file":
        (outside / "victim.json").write_text("keep me")
        (settings.parent / "settings.json.bak").symlink_to(outside / "victim.json")
    else:
        moved = outside / "claude"
        settings.parent.rename(moved)
        (project / ".claude").symlink_to(moved)
    snapshot = {p: p.read_bytes() for p in outside.rglob("*") if p.is_file()}
    original = (outside / "claude" / "settings.json").read_bytes() if where == "folder" else None
    result = run_cli("install-hooks", cwd=project)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "symbolic link" in result.stderr
    assert {p: p.read_bytes() for p in outside.rglob("*") if p.is_file()} == snapshot
    assert not (outside / "evil.json").exists()
    if original is not None:
        assert (outside / "claude" / "settings.json").read_bytes() == original


def test_warns_with_the_fix_when_the_command_is_not_on_path(project: Path) -> None:
    result = run_cli("install-hooks", cwd=project, env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 0
    assert "is not on your PATH" in result.stderr and "install-hooks --absolute" in result.stderr
    assert str(CONSOLE_SCRIPT.parent) in result.stderr
    assert result.stderr.count("\n") == 1


def test_absolute_writes_this_installations_path_and_replaces_the_short_form(
    project: Path,
) -> None:
    assert run_cli("install-hooks", cwd=project).returncode == 0
    result = run_cli("install-hooks", "--absolute", cwd=project, env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 0 and result.stderr == ""
    data = json.loads((project / ".claude" / "settings.json").read_text())
    commands = [h["command"] for g in data["hooks"]["Stop"] for h in g["hooks"]]
    assert commands == [f"{CONSOLE_SCRIPT} hook claude-code"]  # replaced, not added
    # the absolute command really runs the hook from a shell with a bare PATH
    done = subprocess.run(
        ["/bin/sh", "-c", commands[0]],
        input='{"hook_event_name": "Stop"}',
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "HOME": os.environ["HOME"]},
        cwd=project,
        check=False,
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    assert run_cli("install-hooks", "--remove", cwd=project).returncode == 0
    assert "hooks" not in json.loads((project / ".claude" / "settings.json").read_text())
