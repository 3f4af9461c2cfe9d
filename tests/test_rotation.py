"""Rotation, compression, retention and the disk cap (`rotation`), and the kept-open descriptor."""

from __future__ import annotations

import gzip
import json
import os
import time
from pathlib import Path

import pytest

from flowspec_telemetry.core import rotation, store
from flowspec_telemetry.core.events import dumps_line
from flowspec_telemetry.core.rotation import Policy, compact, enforce_limits, rotate_if_due
from flowspec_telemetry.core.store import ReadStats, archive_paths, iter_events, tail_events
from flowspec_telemetry.core.tracker import Tracker


def _line(n: int) -> bytes:
    return dumps_line(
        {"schema_version": "1.0", "event_type": "role.selected", "n": n, "pad": "x" * 150}
    )


def _fill(folder: Path, start: int, count: int) -> None:
    with open(folder / store.EVENTS_FILE, "ab") as fh:
        for n in range(start, start + count):
            fh.write(_line(n))


def _ns(root: Path) -> list[int]:
    stats = ReadStats()
    got = [int(e["n"]) for e in iter_events(root, stats=stats) if "n" in e]
    assert stats.skipped == 0
    return got


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return Path(store.ensure_project_dir(tmp_path))


def test_rotates_only_when_due(folder: Path) -> None:
    policy = Policy(max_events=100)
    _fill(folder, 0, 99)
    next_check = rotate_if_due(folder, policy)
    assert next_check is not None and next_check > (folder / store.EVENTS_FILE).stat().st_size
    _fill(folder, 99, 1)
    assert rotate_if_due(folder, policy) is None
    assert not (folder / store.EVENTS_FILE).exists()
    [pending] = archive_paths(folder)
    assert store.PENDING_RE.match(pending.name)
    assert _ns(folder.parent) == list(range(100))


def test_size_cap_rotates_before_the_event_count(folder: Path) -> None:
    _fill(folder, 0, 10)
    assert rotate_if_due(folder, Policy(max_events=10_000, max_bytes=1000)) is None


def test_compaction_keeps_order_and_every_event(folder: Path) -> None:
    policy = Policy(max_events=10)
    for start in range(0, 50, 10):
        _fill(folder, start, 10)
        assert rotate_if_due(folder, policy) is None
    _fill(folder, 50, 3)
    compact(folder, policy, grace=0)
    names = [p.name for p in archive_paths(folder)]
    assert len(names) == 5 and all(n.endswith(".jsonl.gz") for n in names)
    assert _ns(folder.parent) == list(range(53))
    assert [e["n"] for e in tail_events(folder.parent, 12)] == list(range(41, 53))
    for path in archive_paths(folder):
        assert (path.stat().st_mode & 0o777) == 0o600
        assert len(gzip.decompress(path.read_bytes()).splitlines()) == 10


def test_a_recent_pending_file_is_left_for_late_writers(folder: Path) -> None:
    _fill(folder, 0, 5)
    assert rotate_if_due(folder, Policy(max_events=5)) is None
    compact(folder, Policy(), grace=60)
    [pending] = archive_paths(folder)
    assert pending.suffix == ".jsonl"


def test_crash_after_compression_before_removal_leaves_no_duplicates(folder: Path) -> None:
    _fill(folder, 0, 5)
    rotate_if_due(folder, Policy(max_events=5))
    [pending] = archive_paths(folder)
    # What a compression killed after its rename (before removing the source) leaves:
    archive = folder / pending.name.replace("telemetry-pending-", "telemetry-").replace(
        ".jsonl", ".jsonl.gz"
    )
    archive.write_bytes(gzip.compress(pending.read_bytes()))
    assert _ns(folder.parent) == list(range(5))  # readers prefer the archive
    compact(folder, Policy(), grace=0)
    assert not pending.exists() and archive.exists()
    assert _ns(folder.parent) == list(range(5))


def test_crash_during_compression_leaves_a_temporary_file_that_is_cleaned(folder: Path) -> None:
    _fill(folder, 0, 5)
    rotate_if_due(folder, Policy(max_events=5))
    stray = folder / ".telemetry-20260101-1.999.tmp"
    stray.write_bytes(b"half a gzip")
    old = time.time() - 3600
    os.utime(stray, (old, old))
    compact(folder, Policy(), grace=0)
    assert not stray.exists()
    assert _ns(folder.parent) == list(range(5))


def test_retention_and_disk_cap_drop_the_oldest_archives(folder: Path) -> None:
    today = time.strftime("%Y%m%d", time.gmtime())
    for day, n in (("20200101", 1), ("20200102", 1), (today, 1), (today, 2)):
        (folder / f"telemetry-{day}-{n}.jsonl.gz").write_bytes(gzip.compress(_line(n) * 400))
    deleted = enforce_limits(folder, Policy(retention_days=90))
    assert deleted == ["telemetry-20200101-1.jsonl.gz", "telemetry-20200102-1.jsonl.gz"]
    one = (folder / f"telemetry-{today}-1.jsonl.gz").stat().st_size
    deleted = enforce_limits(folder, Policy(max_total_bytes=one + 10))
    assert deleted == [f"telemetry-{today}-1.jsonl.gz"]
    assert [p.name for p in archive_paths(folder)] == [f"telemetry-{today}-2.jsonl.gz"]


def test_policy_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWSPEC_TELEMETRY_MAX_EVENTS", "250")
    monkeypatch.setenv("FLOWSPEC_TELEMETRY_RETENTION_DAYS", "7")
    monkeypatch.setenv("FLOWSPEC_TELEMETRY_MAX_TOTAL_MB", "-3")  # ignored: not a whole number > 0
    policy = Policy.from_env()
    assert (policy.max_events, policy.retention_days, policy.max_total_bytes) == (250, 7, 50 << 20)


def test_the_tracker_rotates_and_loses_nothing(
    consented: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLOWSPEC_TELEMETRY_MAX_EVENTS", "40")
    tracker = Tracker()
    ids = [
        tracker.track("agent.invoked", agent="@backend-engineer", project_root=consented)
        for _ in range(130)
    ]
    assert all(ids)
    folder = consented / ".flowspec"
    assert len(archive_paths(folder)) >= 2
    got = [e["event_id"] for e in iter_events(consented)]
    assert got == ids


def test_a_writer_with_an_old_descriptor_keeps_its_events(
    consented: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process rotates under us: our next events still land and are read."""
    first = Tracker()
    assert first.track("role.selected", role="dev", project_root=consented)
    folder = consented / ".flowspec"
    assert rotate_if_due(folder, Policy(max_events=1)) is None  # "another process" rotates
    late = [first.track("role.selected", role="qa", project_root=consented) for _ in range(3)]
    other = Tracker().track("role.selected", role="arch", project_root=consented)
    got = [e["event_id"] for e in iter_events(consented)]
    assert sorted(got) == sorted([*late, other, got[0]])
    assert len(got) == 5


def test_clear_under_an_open_descriptor_starts_a_new_file(consented: Path) -> None:
    tracker = Tracker()
    tracker.track("role.selected", project_root=consented)
    folder = consented / ".flowspec"
    os.unlink(folder / store.EVENTS_FILE)
    os.unlink(folder / "telemetry.salt")
    tracker._projects[str(consented)].deadline = 0.0  # as if a second had passed
    assert tracker.track("role.selected", role="qa", project_root=consented)
    [event] = [json.loads(x) for x in (folder / store.EVENTS_FILE).read_text().splitlines()]
    assert event["role"] == "qa"
    assert (folder / "telemetry.salt").exists()


def test_rotation_lock_is_respected(folder: Path) -> None:
    _fill(folder, 0, 20)
    with rotation._Lock(folder) as held:
        assert held.acquired
        assert rotate_if_due(folder, Policy(max_events=5)) is None  # someone else is at it
        assert (folder / store.EVENTS_FILE).exists()
    assert rotate_if_due(folder, Policy(max_events=5)) is None
    assert not (folder / store.EVENTS_FILE).exists()


def test_a_tracker_notices_at_once_that_its_file_was_deleted(consented: Path) -> None:
    """Another process's `clear`: the very next event goes to a new file, with a new salt."""
    tracker = Tracker()
    tracker.track("role.selected", role="wizard", project_root=consented)
    folder = consented / ".flowspec"
    old_hash = json.loads((folder / store.EVENTS_FILE).read_text())["role"]
    os.unlink(folder / store.EVENTS_FILE)
    os.unlink(folder / "telemetry.salt")
    assert tracker.track("role.selected", role="wizard", project_root=consented)
    [event] = [json.loads(x) for x in (folder / store.EVENTS_FILE).read_text().splitlines()]
    assert event["role"] != old_hash  # hashed with the new salt: old and new cannot be linked
    assert (folder / "telemetry.salt").exists()
