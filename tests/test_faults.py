"""Injected faults, in-process: the host's `track()` returns, readers cope, nothing is lost.

Each fault is made real where the machine allows it (a 64 KiB tmpfs filled to
the last byte, a read-only remount, a process running as `nobody`); see
`_faults`. Faults already covered elsewhere (a patched ENOSPC or short write,
a folder or symlink at the telemetry path, a JSON-list consent file, a salt
of the wrong size: `test_tracker.py`, `test_store.py`) are not repeated here.
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest

from flowspec_telemetry.consent import status
from flowspec_telemetry.core import consent_rules, permissions, store
from flowspec_telemetry.core.events import parse_line
from flowspec_telemetry.core.tracker import Tracker
from flowspec_telemetry.history import reader

from . import _faults
from .conftest import SHARED


def _consented_project(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "flowspec_workflow.yml").write_text((SHARED / "flowspec_workflow.yml").read_text())
    consent_rules.write_record(
        consent_rules.project_config_path(root), consent_rules.new_record("yes")
    )
    return root


def _readers_agree(root: Path) -> list[dict[str, object]]:
    """Every reader runs and sees the same events; returns them."""
    read = store.ReadStats()
    events = list(store.iter_events(root, stats=read))
    assert list(reader.iter_events(root)) == events
    assert store.tail_events(root, 5) == events[-5:]
    return events


def _track_many(tracker: Tracker, root: Path, n: int) -> list[str | None]:
    return [
        tracker.track("agent.invoked", role="dev", agent="@backend-engineer", project_root=root)
        for _ in range(n)
    ]


# ------------------------------------------------------------------ disk full


def test_disk_full_on_a_real_tiny_file_system(tracker: Tracker) -> None:
    """ENOSPC for real: track() returns None, earlier bytes stay, the torn line is isolated."""
    with _faults.tmpfs("64k") as fs:
        root = _consented_project(fs / "project")
        assert all(_track_many(tracker, root, 5))
        live = root / ".flowspec" / "telemetry.jsonl"
        before = live.read_bytes()
        _faults.fill(fs)
        results = _track_many(tracker, root, 40)  # the file's last page fills, then ENOSPC
        assert None in results
        after = live.read_bytes()
        assert after.startswith(before)
        recorded = [r for r in results if r]
        events = _readers_agree(root)
        assert [e["event_id"] for e in events] == [
            e["event_id"] for e in map(parse_line, before.splitlines()) if e
        ] + recorded
        _faults.free(fs)
        assert tracker.track("role.selected", role="qa", project_root=root)
        events = _readers_agree(root)
        assert events[-1]["role"] == "qa"
        assert len(events) == 5 + len(recorded) + 1
        torn = [raw for raw in live.read_bytes().splitlines() if raw and parse_line(raw) is None]
        assert len(torn) <= 1  # at most the line the disk cut


def test_disk_full_before_the_first_event_creates_nothing_half_made(tracker: Tracker) -> None:
    """A full disk at the very first event: no event, no salt of the wrong size, no error."""
    with _faults.tmpfs("64k") as fs:
        root = _consented_project(fs / "project")
        _faults.fill(fs)
        for _ in range(3):
            assert tracker.track("role.selected", project_root=root) is None
        folder = root / ".flowspec"
        salt = folder / "telemetry.salt"
        assert not salt.exists() or len(salt.read_bytes()) == 32
        _faults.free(fs)
        tracker.invalidate()
        assert tracker.track("role.selected", role="dev", project_root=root)
        assert [e["role"] for e in _readers_agree(root)] == ["dev"]


def test_disk_full_leaves_no_temporary_files(tracker: Tracker) -> None:
    with _faults.tmpfs("64k") as fs:
        root = _consented_project(fs / "project")
        store.ensure_project_dir(root)  # so the salt is the first thing that needs space
        _faults.fill(fs)
        for _ in range(3):
            tracker.invalidate()
            tracker.track("role.selected", project_root=root)
        stray = [p.name for p in (root / ".flowspec").iterdir() if p.name.startswith(".")]
        assert stray in ([], [".gitignore"])


def test_short_write_of_the_salt_never_leaves_a_short_salt(
    consented: Path, tracker: Tracker, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write = os.write

    def short(fd: int, data: bytes) -> int:
        return real_write(fd, data[:5] if len(data) == 32 else data)

    monkeypatch.setattr(os, "write", short)
    tracker.track("role.selected", project_root=consented)
    monkeypatch.setattr(os, "write", real_write)
    tracker.invalidate()
    assert tracker.track("role.selected", role="dev", project_root=consented)


def test_return_value_says_whether_the_event_was_recorded_on_a_full_disk(
    consented: Path, tracker: Tracker, monkeypatch: pytest.MonkeyPatch
) -> None:
    tracker.track("agent.invoked", project_root=consented)  # opens the project
    real_write = os.write

    def role_file_full(fd: int, data: bytes) -> int:
        if data.startswith(b'{"role"'):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", role_file_full)
    result = tracker.track("role.selected", role="qa", project_root=consented)
    monkeypatch.setattr(os, "write", real_write)
    recorded = [e for e in store.iter_events(consented) if e["event_type"] == "role.selected"]
    assert (result is not None) == bool(recorded)


# ----------------------------------------------------------- read-only folder


def test_read_only_file_system(tracker: Tracker) -> None:
    """A read-only remount: track() returns None, every byte stays, status says why."""
    with _faults.tmpfs("1m") as fs:
        root = _consented_project(fs / "project")
        assert all(_track_many(tracker, root, 3))
        folder = root / ".flowspec"
        before = _faults.snapshot(folder)
        tracker.close()  # its kept-open descriptor would make the remount fail (EBUSY)
        _faults.remount_read_only(fs)
        assert _track_many(tracker, root, 3) == [None] * 3
        assert len(_readers_agree(root)) == 3
        assert _faults.snapshot(folder) == before
        found = permissions.problems(root)
        assert any("cannot be written (Read-only file system)" in p for p in found), found
        assert status.gather(root)["problems"] == found


# ---------------------------------------------------------- permission denied

_HOST = """
import sys
from flowspec_telemetry import default_tracker, track
result = track("role.selected", role="dev", project_root=sys.argv[1])
default_tracker().current_role(sys.argv[1])
print("returned", result)
"""


@pytest.mark.parametrize(
    ("folder_mode", "file_mode"), [(0o500, 0o400), (0o700, 0o000), (0o000, 0o600)]
)
def test_permission_denied_for_the_host_process(
    consented: Path, tracker: Tracker, folder_mode: int, file_mode: int
) -> None:
    """A host that may not write (or read) our files calls track(): it returns None quietly."""
    prefix = _faults.unprivileged()
    assert all(_track_many(tracker, consented, 2))
    folder = consented / ".flowspec"
    before = _faults.snapshot(folder)
    (folder / "telemetry.jsonl").chmod(file_mode)
    folder.chmod(folder_mode)
    try:
        done = subprocess.run(
            [*prefix, sys.executable, "-c", _HOST, str(consented)],
            capture_output=True, text=True, timeout=60, check=False,
            env={**os.environ, "FLOWSPEC_TELEMETRY_ENABLED": "1"},
        )  # fmt: skip
    finally:
        folder.chmod(0o700)
        (folder / "telemetry.jsonl").chmod(0o600)
    assert (done.returncode, done.stdout, done.stderr) == (0, "returned None\n", ""), done.stderr
    assert _faults.snapshot(folder) == before


# ------------------------------------------------------------ symlinked folder


def test_symlinked_project_folder_is_never_written_through(
    project: Path, tracker: Tracker, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (project / ".flowspec").symlink_to(elsewhere)
    consent_rules.write_record(
        elsewhere / consent_rules.CONFIG_FILE, consent_rules.new_record("yes")
    )
    before = _faults.snapshot(elsewhere)
    assert tracker.track("role.selected", role="dev", project_root=project) is None
    assert _faults.snapshot(elsewhere) == before
    assert permissions.read_refusal(project) is not None


# -------------------------------------------------- garbage in our own files


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("telemetry-catalog.json", b"\x00\xff{not json"),
        ("telemetry-catalog.json", b"[1, 2, 3]"),
        ("telemetry-role.json", b'["dev"]'),
        ("telemetry-role.json", b"\xff\xfe"),
        ("telemetry-hooks.json", b"{{{"),
    ],
)
def test_garbage_in_a_cache_or_state_file_never_stops_tracking(
    consented: Path, tracker: Tracker, name: str, content: bytes
) -> None:
    assert tracker.track("role.selected", role="dev", project_root=consented)
    before = (consented / ".flowspec" / "telemetry.jsonl").read_bytes()
    (consented / ".flowspec" / name).write_bytes(content)
    tracker.invalidate()
    assert tracker.track("agent.invoked", agent="@backend-engineer", project_root=consented)
    after = (consented / ".flowspec" / "telemetry.jsonl").read_bytes()
    assert after.startswith(before)
    assert [e["event_type"] for e in _readers_agree(consented)] == [
        "role.selected",
        "agent.invoked",
    ]


@pytest.mark.parametrize(
    "content", [b"\x00\xff garbage", b"[true]", b'"yes"', b"null", b'{"enabled": "yes"}']
)
def test_garbage_global_config_means_off_and_is_left_alone(
    project: Path, tracker: Tracker, content: bytes
) -> None:
    path = consent_rules.global_config_path()
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    assert tracker.track("role.selected", project_root=project) is None
    assert path.read_bytes() == content
    assert not (project / ".flowspec").exists()
    assert status.gather(project)["warnings"]


def test_consent_file_that_is_a_folder_means_off(project: Path, tracker: Tracker) -> None:
    consent_rules.project_config_path(project).mkdir(parents=True)
    assert tracker.track("role.selected", project_root=project) is None
    assert "folder" in status.gather(project)["warnings"][0]


@pytest.mark.parametrize("kind", ["folder", "symlink", "empty", "long"])
def test_a_bad_salt_is_kept_and_reported(
    consented: Path, tracker: Tracker, tmp_path: Path, kind: str
) -> None:
    """Events cannot be hashed with an untrusted salt: none is recorded, status says why."""
    folder = consented / ".flowspec"
    folder.mkdir(exist_ok=True)
    salt = folder / "telemetry.salt"
    if kind == "folder":
        salt.mkdir()
    elif kind == "symlink":
        (tmp_path / "target").write_bytes(b"s" * 32)
        salt.symlink_to(tmp_path / "target")
    else:
        salt.write_bytes(b"" if kind == "empty" else b"s" * 33)
    assert tracker.track("role.selected", project_root=consented) is None
    assert not (folder / "telemetry.jsonl").exists()
    found = status.gather(consented)["problems"]
    assert len(found) == 1
    assert "telemetry.salt" in found[0]
    assert "no event can be recorded" in found[0]
