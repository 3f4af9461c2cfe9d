"""Injected faults through the real console script.

For every fault: `track` and `hook` exit 0 and print nothing on stderr (a
host calls them unconditionally); `status` reports the fault (one line on
stderr, non-zero exit) when it stops recording or reading; every reading
command (view, stats, export, insights, dashboard) either works or says what
is wrong in one line with a non-zero exit; no traceback ever; and no stored
byte is lost.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from flowspec_telemetry.core import consent_rules
from flowspec_telemetry.core.tracker import Tracker

from .. import _faults
from ..conftest import CONSOLE_SCRIPT, SHARED, run_cli

pytestmark = pytest.mark.slow

HOOK_PAYLOAD = json.dumps(
    {
        "hook_event_name": "PreToolUse",
        "session_id": "s-1",
        "tool_name": "Task",
        "tool_input": {"subagent_type": "backend-engineer", "prompt": "secret"},
    }
)
READERS = (
    ("view",),
    ("stats",),
    ("export", "--format", "csv", "--output", "-"),
    ("insights",),
    ("dashboard",),
)


@dataclass
class Case:
    root: Path
    prefix: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    status_says: str | None = None  # a fragment of the one line `status` must fail with
    readers_say: str | None = None  # ... and every reader, when reading must fail
    victim: Path | None = None  # a file outside the project that must stay untouched


def _project(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "flowspec_workflow.yml").write_text((SHARED / "flowspec_workflow.yml").read_text())
    consent_rules.write_record(
        consent_rules.project_config_path(root), consent_rules.new_record("yes")
    )
    tracker = Tracker()
    for role in ("dev", "arch", "qa"):
        assert tracker.track("role.selected", role=role, project_root=root)
    return root


def _events_file(case: Case) -> Path:
    return case.root / ".flowspec" / "telemetry.jsonl"


def _disk_full(stack: ExitStack, tmp: Path) -> Case:
    fs = stack.enter_context(_faults.tmpfs("64k"))
    case = Case(_project(fs / "project"))
    _faults.fill(fs)
    for _ in range(20):  # fill the last page of the events file too
        Tracker().track("agent.invoked", project_root=case.root)
    return case


def _disk_full_patched(stack: ExitStack, tmp: Path) -> Case:
    return Case(_project(tmp / "project"), env=_faults.enospc_env(tmp))


def _read_only(stack: ExitStack, tmp: Path) -> Case:
    fs = stack.enter_context(_faults.tmpfs("1m"))
    case = Case(_project(fs / "project"), status_says="Read-only file system")
    _faults.remount_read_only(fs)
    return case


def _chmod(case: Case, folder: int, file: int) -> Callable[[], None]:
    events, folder_path = _events_file(case), case.root / ".flowspec"
    events.chmod(file)
    folder_path.chmod(folder)

    def undo() -> None:
        folder_path.chmod(0o700)
        events.chmod(0o600)

    return undo


def _folder_not_writable(stack: ExitStack, tmp: Path) -> Case:
    case = Case(_project(tmp / "project"), prefix=_faults.unprivileged())
    case.status_says = "cannot be written (Permission denied)"
    stack.callback(_chmod(case, 0o500, 0o400))
    return case


def _file_unreadable(stack: ExitStack, tmp: Path) -> Case:
    case = Case(_project(tmp / "project"), prefix=_faults.unprivileged())
    case.status_says = case.readers_say = "Permission denied"
    stack.callback(_chmod(case, 0o700, 0o000))
    return case


def _events_file_is_a_folder(stack: ExitStack, tmp: Path) -> Case:
    case = Case(_project(tmp / "project"))
    live = _events_file(case)
    live.rename(tmp / "moved.jsonl")
    live.mkdir()
    (live / "inside").write_text("x")
    case.status_says = case.readers_say = "telemetry.jsonl is a folder, not a file"
    return case


def _events_file_is_a_symlink(stack: ExitStack, tmp: Path) -> Case:
    case = Case(_project(tmp / "project"))
    live = _events_file(case)
    case.victim = tmp / "victim.jsonl"
    live.rename(case.victim)  # real events: reading through the link would show them
    live.symlink_to(case.victim)
    case.status_says = case.readers_say = "telemetry.jsonl is a symbolic link"
    return case


def _project_folder_is_a_symlink(stack: ExitStack, tmp: Path) -> Case:
    case = Case(_project(tmp / "project"))
    folder = case.root / ".flowspec"
    folder.rename(tmp / "elsewhere")
    folder.symlink_to(tmp / "elsewhere")
    case.victim = tmp / "elsewhere" / "telemetry.jsonl"
    case.status_says = case.readers_say = ".flowspec is a symbolic link"
    return case


def _config(content: bytes, *, scope: str = "project") -> Callable[[ExitStack, Path], Case]:
    def make(stack: ExitStack, tmp: Path) -> Case:
        case = Case(_project(tmp / "project"))
        if scope == "project":
            path = consent_rules.project_config_path(case.root)
        else:
            path = consent_rules.global_config_path()
            path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        case.status_says = "telemetry-config.json is corrupt"
        return case

    return make


def _salt(content: bytes | None) -> Callable[[ExitStack, Path], Case]:
    def make(stack: ExitStack, tmp: Path) -> Case:
        case = Case(_project(tmp / "project"))
        salt = case.root / ".flowspec" / "telemetry.salt"
        salt.unlink()
        if content is None:
            salt.mkdir()
        else:
            salt.write_bytes(content)
        case.status_says = "telemetry.salt"
        return case

    return make


FAULTS: dict[str, Callable[[ExitStack, Path], Case]] = {
    "disk-full": _disk_full,
    "disk-full-patched-write": _disk_full_patched,
    "read-only-file-system": _read_only,
    "folder-not-writable": _folder_not_writable,
    "events-file-unreadable": _file_unreadable,
    "events-file-is-a-folder": _events_file_is_a_folder,
    "events-file-is-a-symlink": _events_file_is_a_symlink,
    "project-folder-is-a-symlink": _project_folder_is_a_symlink,
    "config-garbage": _config(b"\x00\xff{{{ not json"),
    "config-json-list": _config(b'["yes"]'),
    "global-config-json-list": _config(b"[true]", scope="global"),
    "salt-wrong-size": _salt(b"short"),
    "salt-is-a-folder": _salt(None),
}


@pytest.fixture(params=sorted(FAULTS))
def case(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Case]:
    with ExitStack() as stack:
        yield FAULTS[request.param](stack, tmp_path)


def _run(case: Case, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """As the user runs it; in-process (`run_cli`) unless another user or interpreter is needed."""
    if not case.prefix:
        return run_cli(*args, cwd=case.root, env=case.env, input=stdin)
    return subprocess.run(
        [*case.prefix, str(CONSOLE_SCRIPT), *args],
        cwd=case.root,
        env={**os.environ, **case.env},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _one_line_failure(done: subprocess.CompletedProcess[str], fragment: str) -> None:
    assert done.returncode != 0, done.stdout
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("flowspec-telemetry: error: ")
    assert fragment in lines[0]


def test_every_command_copes_and_nothing_stored_is_lost(case: Case) -> None:
    folder = case.root / ".flowspec"
    before = _faults.snapshot(folder) if not folder.is_symlink() else {}
    victim = case.victim.read_bytes() if case.victim else None

    for args, stdin in (
        (("track", "agent.invoked", "--agent", "@backend-engineer", "-q"), ""),
        (("hook", "claude-code"), HOOK_PAYLOAD),
    ):
        done = _run(case, *args, stdin=stdin)
        assert (done.returncode, done.stderr) == (0, ""), args

    done = _run(case, "status")
    assert "Traceback" not in done.stderr
    if case.status_says:
        _one_line_failure(done, case.status_says)
    else:
        assert (done.returncode, done.stderr) == (0, "")

    for args in READERS:
        done = _run(case, *args)
        assert "Traceback" not in done.stderr, args
        if case.readers_say:
            _one_line_failure(done, case.readers_say)
            assert done.stdout == ""
        else:
            assert done.returncode == 0, (args, done.stderr)
            assert done.stdout.strip(), args

    if before:
        _faults.assert_nothing_lost(before, _faults.snapshot(folder))
    if case.victim:
        assert case.victim.read_bytes() == victim


def test_export_to_a_full_disk_fails_in_one_line_and_leaves_nothing(tmp_path: Path) -> None:
    with _faults.tmpfs("64k") as fs:
        case = Case(_project(fs / "project"))
        Tracker().track("role.selected", role="dev", project_root=case.root)
        for i in range(200):  # enough events that the export needs more than the free space
            Tracker().track("agent.invoked", agent=f"@a{i}", project_root=case.root)
        _faults.fill(fs)
        before = sorted(os.listdir(fs / "project"))
        done = _run(case, "export", "--format", "json", "--output", "out.json")
        _one_line_failure(done, "No space left on device")
        assert sorted(os.listdir(fs / "project")) == before


def test_export_to_a_read_only_folder_fails_in_one_line(tmp_path: Path) -> None:
    with _faults.tmpfs("1m") as fs:
        case = Case(_project(fs / "project"))
        _faults.remount_read_only(fs)
        done = _run(case, "export", "--format", "csv", "--output", "out.csv")
        _one_line_failure(done, "Read-only file system")
        assert not (case.root / "out.csv").exists()
