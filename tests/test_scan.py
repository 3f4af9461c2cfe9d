"""`scan` reads exactly what `store` reads, and `totals` adds up exactly."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowspec_telemetry.analysis.stats import compute_stats, project_stats
from flowspec_telemetry.core import store
from flowspec_telemetry.core.events import dumps_line
from flowspec_telemetry.history import fast_reader, reader

from .cli._events import event, write_history

_LINE = st.one_of(
    st.integers(0, 10_000).map(lambda i: dumps_line(event(i)).rstrip(b"\n")),
    st.sampled_from(
        [
            b"",
            b"  ",
            b"{",
            b"[]",
            b'{"event_type":1}',
            b"\xff\xfe",
            b"\0",
            b' {"event_type":"x"}',
            b'{"event_type":"x"} ',
            b'{"event_type":"x"}\r',
            b'{"event_type":"x","schema_version":2}',
            b'{"event_type":"x"}{}',
            b'\xef\xbb\xbf{"event_type":"bom"}',
            b"[" * 5000,
        ]
    ),
    st.binary(max_size=40),
)


@settings(max_examples=150, deadline=None)
@given(lines=st.lists(_LINE, max_size=30), tail=st.booleans())
def test_scan_matches_store_on_any_bytes(
    tmp_path_factory: pytest.TempPathFactory, lines: list[bytes], tail: bool
) -> None:
    path = tmp_path_factory.mktemp("scan") / "telemetry.jsonl"
    path.write_bytes(b"\n".join(lines) + (b"" if tail else b"\n"))
    a, b = store.ReadStats(), store.ReadStats()
    assert list(fast_reader.iter_file(path, a)) == list(store.iter_file(path, b))
    assert (a.events, a.skipped) == (b.events, b.skipped)


def test_scan_handles_overlong_lines_and_gz(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store, "_CHUNK", 64)
    monkeypatch.setattr(store, "MAX_READ_LINE", 400)
    data = dumps_line(event(1)) + b"x" * 900 + b"\n" + dumps_line(event(2))
    for name, blob in (("a.jsonl", data), ("b.jsonl.gz", gzip.compress(data))):
        path = tmp_path / name
        path.write_bytes(blob)
        a, b = store.ReadStats(), store.ReadStats()
        assert list(fast_reader.iter_file(path, a)) == list(store.iter_file(path, b))
        assert (a.events, a.skipped) == (b.events, b.skipped) == (2, 1)


def test_totals_in_pieces_equal_one_pass(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_history(project, live=3000, archives=(500, 700))
    with open(project / ".flowspec" / "telemetry.jsonl", "ab") as fh:
        fh.write(b"garbage\n")
    read = store.ReadStats()
    one = compute_stats(
        store.iter_events(project, stats=read),
        read,
        since="2026-11-02T00:05:00.000Z",
        until="2026-11-04T00:00:00.000Z",
    )
    monkeypatch.setattr(reader, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(reader, "_PIECE_MIN_BYTES", 1000)
    pieces = reader.split_file(project / ".flowspec" / "telemetry.jsonl", 3)
    assert len(pieces) == 3
    many = project_stats(
        project, since="2026-11-02T00:05:00.000Z", until="2026-11-04T00:00:00.000Z", workers=2
    )
    assert many.to_json() == one.to_json()
    assert many.skipped == 1
    assert project_stats(project, workers=1).total == 4200
