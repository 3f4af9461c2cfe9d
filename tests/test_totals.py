"""`totals`: exact stats over the whole history, cut into pieces and added up."""

from __future__ import annotations

import gzip
import itertools
import os
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowspec_telemetry.analysis.stats import Stats, StatsSpec, compute_stats, project_stats
from flowspec_telemetry.core.events import dumps_line
from flowspec_telemetry.core.store import ReadStats, StoreError
from flowspec_telemetry.history import reader
from flowspec_telemetry.history.reader import Piece, Window, history_bytes, split_file


def ev(n: int, day: int = 2, **fields: Any) -> dict[str, Any]:
    return {
        "schema_version": "1.0",
        "event_type": ("role.selected", "command.started", "agent.invoked")[n % 3],
        "timestamp": f"2026-11-{day:02d}T10:00:{n % 60:02d}.000Z",
        "role": ("dev", "qa", "sec", "ops")[n % 4],
        "command": f"/flow:c{n % 5}",
        "agent": f"@a{n % 7}",
        **fields,
    }


def fold(piece: Piece, since: str | None, until: str | None) -> Stats:
    """The stats of one piece, as a worker of `reader.fold` folds it."""
    acc, read = reader._run(StatsSpec(), Window(since, until), piece)
    acc.skipped = read.skipped
    return acc


def merge(parts: list[Stats]) -> Stats:
    """Partial stats added up the way `reader.fold` adds them."""
    out = Stats()
    for part in parts:
        StatsSpec().merge(out, part)
        out.skipped += part.skipped
    return out


def small_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reader, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(reader, "_PIECE_MIN_BYTES", 1024)


# -------------------------------------------------------------- split_file


def test_split_file_cuts_after_newlines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reader, "_PIECE_MIN_BYTES", 10)
    path = tmp_path / "f"
    path.write_bytes(b"aaaaaaaaa\nbbbbbbbbb\nccccccccc\nddddddddd\n")  # 4 lines of 10 bytes
    assert split_file(path, 4) == [
        Piece(path, 0, 20),  # the cut at byte 10 is a line start: the next line end is used
        Piece(path, 20, 30),
        Piece(path, 30, 40),
    ]
    assert split_file(path, 2) == [Piece(path, 0, 30), Piece(path, 30, 40)]
    assert split_file(path, 1) == [Piece(path, 0, 40)]
    assert split_file(path, 0) == [Piece(path, 0, 40)]  # at least one piece


def test_split_file_respects_the_minimum_piece_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reader, "_PIECE_MIN_BYTES", 100)
    path = tmp_path / "f"
    path.write_bytes(b"x\n" * 150)  # 300 bytes: at most 3 pieces
    pieces = split_file(path, 8)
    assert len(pieces) == 3
    assert [p.start for p in pieces] == [0, 102, 202]


def test_split_file_of_nothing(tmp_path: Path) -> None:
    assert split_file(tmp_path / "absent", 4) == []
    (tmp_path / "empty").write_bytes(b"")
    assert split_file(tmp_path / "empty", 4) == []


def test_one_long_line_is_one_piece(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reader, "_PIECE_MIN_BYTES", 1)
    path = tmp_path / "f"
    path.write_bytes(b"y" * 200_000)  # no newline at all, longer than a scan block
    assert split_file(path, 5) == [Piece(path, 0, 200_000)]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.binary(max_size=30).map(lambda b: b.replace(b"\n", b"")), max_size=40),
    st.booleans(),
    st.integers(1, 12),
    st.integers(1, 64),
)
def test_split_file_pieces_start_at_line_starts_and_cover_the_file(
    lines: list[bytes], final_newline: bool, pieces: int, min_bytes: int
) -> None:
    data = b"\n".join(lines) + (b"\n" if final_newline and lines else b"")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "f"
        path.write_bytes(data)
        old = reader._PIECE_MIN_BYTES
        reader._PIECE_MIN_BYTES = min_bytes  # type: ignore[misc]
        try:
            got = split_file(path, pieces)
        finally:
            reader._PIECE_MIN_BYTES = old  # type: ignore[misc]
    if not data:
        assert got == []
        return
    assert 1 <= len(got) <= max(1, min(pieces, len(data) // min_bytes))
    assert got[0].start == 0
    assert got[-1].end == len(data)
    for a, b in itertools.pairwise(got):
        assert a.end == b.start
    for p in got:
        assert p.end is not None and p.end > p.start
        assert p.start == 0 or data[p.start - 1 : p.start] == b"\n"
        assert p.end == len(data) or data[p.end - 1 : p.end] == b"\n"  # whole lines only
    assert b"".join(data[p.start : p.end] for p in got) == data


# ---------------------------------------------------------------- fold, merge


def test_fold_of_a_byte_range_reads_only_that_range(tmp_path: Path) -> None:
    path = tmp_path / "telemetry.jsonl"
    lines = [dumps_line(ev(n)) for n in range(6)]
    path.write_bytes(b"".join(lines) + b"not json\n")
    start = len(lines[0]) + len(lines[1])
    end = start + len(lines[2]) + len(lines[3])
    part = fold(Piece(path, start, end), None, None)
    assert part.total == 2
    assert part.by_type == Counter({"role.selected": 1, "agent.invoked": 1})  # events 2 and 3
    tail = fold(Piece(path, end, path.stat().st_size), None, None)
    assert (tail.total, tail.skipped) == (2, 1)
    whole = fold(Piece(path), "2026-11-02T10:00:02.000Z", "2026-11-02T10:00:04.000Z")
    assert whole.total == 2


def test_fold_of_a_missing_piece_is_empty(tmp_path: Path) -> None:
    assert fold(Piece(tmp_path / "gone.jsonl", 0, 100), None, None) == Stats()
    assert fold(Piece(tmp_path / "gone.jsonl.gz"), None, None) == Stats()


def test_merge_is_exact() -> None:
    events = [ev(n, day=1 + n % 9) for n in range(50)]
    whole = compute_stats(events, ReadStats(skipped=3))
    parts = [
        compute_stats(events[:7], ReadStats(skipped=1)),
        compute_stats([], ReadStats()),
        compute_stats(events[7:31], ReadStats(skipped=2)),
        compute_stats(events[31:], ReadStats()),
    ]
    assert merge(parts) == whole
    assert merge([]) == Stats()
    assert merge([whole]) == whole


@given(st.lists(st.integers(0, 200), max_size=30), st.lists(st.integers(0, 30), max_size=4))
def test_merge_of_any_split_equals_the_one_pass(ns: list[int], cuts: list[int]) -> None:
    events = [ev(n, day=1 + n % 28) for n in ns]
    bounds = sorted({0, len(events), *(min(c, len(events)) for c in cuts)})
    parts = [compute_stats(events[a:b], ReadStats()) for a, b in itertools.pairwise(bounds)]
    assert merge(parts) == compute_stats(events, ReadStats())


# ------------------------------------------------------------ fold_history


def _history(root: Path) -> None:
    folder = root / ".flowspec"
    folder.mkdir(exist_ok=True)
    archive = b"".join(dumps_line(ev(n, day=1)) for n in range(120)) + b"\xff\xfe\n"
    (folder / "telemetry-20261101-1.jsonl.gz").write_bytes(gzip.compress(archive))
    pending = b"".join(dumps_line(ev(n, day=2, role="arch")) for n in range(80))
    (folder / "telemetry-pending-20261102-1.jsonl").write_bytes(pending)
    live = b"".join(dumps_line(ev(n, day=3)) for n in range(400)) + b'{"torn": '
    (folder / "telemetry.jsonl").write_bytes(live)


def test_fold_history_serial_equals_parallel(
    consented: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _history(consented)
    serial = project_stats(consented, workers=1)
    assert serial.total == 600
    assert serial.skipped == 2
    assert serial.by_role["arch"] == 80
    assert (serial.first, serial.last) == ("2026-11-01T10:00:00.000Z", "2026-11-03T10:00:59.000Z")
    small_pieces(monkeypatch)
    assert len(split_file(consented / ".flowspec" / "telemetry.jsonl", 2)) == 2
    parallel = project_stats(consented, workers=2)
    assert parallel == serial
    window = {"since": "2026-11-02T00:00:00.000Z", "until": "2026-11-03T00:00:00.000Z"}
    assert project_stats(consented, workers=2, **window) == project_stats(
        consented, workers=1, **window
    )
    assert project_stats(consented, workers=2, **window).total == 80


def test_a_small_history_is_folded_in_this_process(
    consented: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _history(consented)

    def no_pool(*args: object, **kwargs: object) -> None:
        raise AssertionError("no worker processes for a small history")

    monkeypatch.setattr(reader.multiprocessing, "get_context", no_pool)
    assert project_stats(consented, workers=8).total == 600
    monkeypatch.setattr(reader, "PARALLEL_MIN_BYTES", 0)
    assert project_stats(consented, workers=1).total == 600  # one worker: no pool either


def test_fold_with_another_spec(consented: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _history(consented)
    small_pieces(monkeypatch)
    count, read = reader.fold(consented, _CountSpec(), workers=2)
    assert count == [600]
    assert read.skipped == 2


class _CountSpec:
    """A fold that only counts (no summary state worth keeping: it keeps the count)."""

    key = "test-count"

    def new(self) -> list[int]:
        return [0]

    def adder(self, acc: list[int]) -> Any:
        def add(event: dict[str, Any]) -> None:
            acc[0] += 1

        return add

    def merge(self, acc: list[int], other: list[int]) -> None:
        acc[0] += other[0]

    def dump(self, acc: list[int]) -> Any:
        return acc[0]

    def merge_state(self, acc: list[int], state: Any) -> None:
        if type(state) is not int:
            raise ValueError("not a count")
        acc[0] += state


def test_an_empty_project(project: Path) -> None:
    assert project_stats(project) == Stats()
    assert history_bytes(project) == 0


def test_history_bytes_counts_archives_and_live(consented: Path) -> None:
    _history(consented)
    folder = consented / ".flowspec"
    expected = sum(
        os.path.getsize(folder / name)
        for name in (
            "telemetry-20261101-1.jsonl.gz",
            "telemetry-pending-20261102-1.jsonl",
            "telemetry.jsonl",
        )
    )
    (folder / "telemetry-salt-not-history").write_bytes(b"x" * 99)
    assert history_bytes(consented) == expected


def test_the_parallel_path_refuses_a_symlinked_live_file_like_the_serial_one(
    consented: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "elsewhere.jsonl"
    target.write_bytes(b"".join(dumps_line(ev(n)) for n in range(300)))
    folder = consented / ".flowspec"
    (folder / "telemetry.jsonl").symlink_to(target)
    with pytest.raises(StoreError):
        project_stats(consented, workers=1)
    small_pieces(monkeypatch)
    with pytest.raises(StoreError):
        project_stats(consented, workers=2)
