"""The JSONL store: appends, refusals, and readers that skip what they cannot read."""

from __future__ import annotations

import gzip
import json
import os
import stat
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowspec_telemetry.core import store
from flowspec_telemetry.core.events import dumps_line
from flowspec_telemetry.core.store import (
    ReadStats,
    StoreError,
    append_line,
    ensure_project_dir,
    iter_events,
    iter_file,
    tail_events,
    tail_file,
)


def _event(n: int) -> bytes:
    return dumps_line(
        {"schema_version": "1.0", "event_type": "role.selected", "role": "dev", "n": n}
    )


def test_project_dir_is_private_with_a_gitignore(tmp_path: Path) -> None:
    folder = Path(ensure_project_dir(tmp_path))
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    ignore = (folder / ".gitignore").read_text()
    assert "telemetry*" in ignore
    ensure_project_dir(tmp_path)
    assert (folder / ".gitignore").read_text() == ignore  # idempotent


def test_existing_gitignore_is_extended_not_replaced(tmp_path: Path) -> None:
    folder = tmp_path / ".flowspec"
    folder.mkdir()
    (folder / ".gitignore").write_text("state.db")
    ensure_project_dir(tmp_path)
    text = (folder / ".gitignore").read_text()
    assert text.startswith("state.db\n")
    assert "telemetry*" in text


def test_symlinked_project_dir_is_refused(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / ".flowspec").symlink_to(elsewhere)
    with pytest.raises(StoreError, match="symbolic link"):
        ensure_project_dir(tmp_path / "proj")
    assert list(elsewhere.iterdir()) == []


def test_append_creates_a_private_file(tmp_path: Path) -> None:
    path = tmp_path / "telemetry.jsonl"
    append_line(path, _event(1))
    append_line(path, _event(2))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [json.loads(x)["n"] for x in path.read_text().splitlines()] == [1, 2]


def test_symlink_at_the_telemetry_path_is_refused_and_target_untouched(tmp_path: Path) -> None:
    target = tmp_path / "victim"
    target.write_text("precious\n")
    path = tmp_path / "telemetry.jsonl"
    path.symlink_to(target)
    with pytest.raises(OSError, match="Too many levels of symbolic links"):
        append_line(path, _event(1))
    assert target.read_text() == "precious\n"


def test_folder_or_fifo_at_the_telemetry_path_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "telemetry.jsonl"
    folder.mkdir()
    with pytest.raises(IsADirectoryError):
        append_line(folder, _event(1))
    fifo = tmp_path / "fifo.jsonl"
    os.mkfifo(fifo)
    with pytest.raises(StoreError, match="not a regular file"):
        append_line(fifo, _event(1))


def test_truncated_last_line_is_isolated(tmp_path: Path) -> None:
    path = tmp_path / "telemetry.jsonl"
    path.write_bytes(_event(1) + _event(2)[:17])  # a writer died mid-line
    append_line(path, _event(3))
    stats = ReadStats()
    assert [e["n"] for e in iter_file(path, stats)] == [1, 3]
    assert stats.skipped == 1
    tail_stats = ReadStats()
    assert [e["n"] for e in tail_file(path, 10, tail_stats)] == [1, 3]
    assert tail_stats.skipped == 1


def test_readers_skip_and_count_garbage(tmp_path: Path) -> None:
    path = tmp_path / "telemetry.jsonl"
    path.write_bytes(
        _event(1)
        + b"\x00\xff\xfe binary\n"
        + b"[1,2]\n"
        + b"\n"
        + _event(2)
        + b'{"event_type":\n'
        + _event(3)
    )
    stats = ReadStats()
    assert [e["n"] for e in iter_file(path, stats)] == [1, 2, 3]
    assert (stats.events, stats.skipped) == (3, 3)


def test_overlong_line_is_skipped_without_holding_it(tmp_path: Path) -> None:
    path = tmp_path / "telemetry.jsonl"
    with open(path, "wb") as fh:
        fh.write(_event(1))
        fh.write(b"x" * (store.MAX_READ_LINE * 3))
        fh.write(b"\n")
        fh.write(_event(2))
    stats = ReadStats()
    assert [e["n"] for e in iter_file(path, stats)] == [1, 2]
    assert stats.skipped == 1


def test_tail_reads_only_the_end(tmp_path: Path) -> None:
    path = tmp_path / "telemetry.jsonl"
    with open(path, "wb") as fh:
        for n in range(50_000):
            fh.write(_event(n))
    events = tail_file(path, 3)
    assert [e["n"] for e in events] == [49_997, 49_998, 49_999]
    assert tail_file(path, 0) == []
    assert tail_file(tmp_path / "missing", 5) == []


def test_archives_are_read_first_and_in_order(tmp_path: Path) -> None:
    folder = Path(ensure_project_dir(tmp_path))
    for name, ns in (("telemetry-20261102-2.jsonl.gz", (2, 3)), ("telemetry-20261102-10.jsonl.gz", (4,)),
                     ("telemetry-20261101-1.jsonl.gz", (0, 1))):  # fmt: skip
        (folder / name).write_bytes(gzip.compress(b"".join(_event(n) for n in ns)))
    append_line(folder / store.EVENTS_FILE, _event(5))
    assert [e["n"] for e in iter_events(tmp_path)] == [0, 1, 2, 3, 4, 5]
    assert [e["n"] for e in tail_events(tmp_path, 3)] == [3, 4, 5]


def test_damaged_archive_keeps_what_was_readable(tmp_path: Path) -> None:
    folder = Path(ensure_project_dir(tmp_path))
    blob = gzip.compress(b"".join(_event(n) for n in range(100)))
    (folder / "telemetry-20261101-1.jsonl.gz").write_bytes(blob[: len(blob) // 2])
    append_line(folder / store.EVENTS_FILE, _event(999))
    stats = ReadStats()
    got = [e["n"] for e in iter_events(tmp_path, stats=stats)]
    assert got[-1] == 999
    assert stats.skipped >= 1


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=2000))
def test_readers_never_raise_on_arbitrary_bytes(tmp_path: Path, blob: bytes) -> None:
    path = tmp_path / "fuzz.jsonl"
    path.write_bytes(blob + b"\n" + _event(7))
    stats = ReadStats()
    events = list(iter_file(path, stats))
    assert events[-1].get("n") == 7  # garbage never hides the event after it
    assert stats.events == len(events)
    assert tail_file(path, 1)[-1].get("n") == 7


def test_readers_refuse_a_symlinked_events_file(tmp_path: Path) -> None:
    folder = Path(ensure_project_dir(tmp_path))
    elsewhere = tmp_path / "elsewhere.jsonl"
    elsewhere.write_bytes(_event(1))
    (folder / store.EVENTS_FILE).symlink_to(elsewhere)
    with pytest.raises(StoreError, match="symbolic link"):
        list(iter_events(tmp_path))
    with pytest.raises(StoreError, match="symbolic link"):
        tail_events(tmp_path, 5)


def test_loose_modes_are_tightened_on_open(tmp_path: Path) -> None:
    folder = tmp_path / ".flowspec"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    path = folder / store.EVENTS_FILE
    path.write_bytes(_event(1))
    path.chmod(0o644)
    ensure_project_dir(tmp_path)
    appender = store.Appender(path)
    appender.append(_event(2))
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    appender.close()
    appender.close()  # closing twice is harmless


def test_closing_an_already_closed_descriptor_does_not_raise(tmp_path: Path) -> None:
    appender = store.Appender(tmp_path / "t.jsonl")
    os.close(appender.fd)  # a host that closes every descriptor
    appender.close()
