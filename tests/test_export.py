"""CSV neutralisation and the safe export file."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowspec_telemetry.core.store import ReadStats
from flowspec_telemetry.history import reader
from flowspec_telemetry.report import export
from flowspec_telemetry.report.export import CSV_COLUMNS, ExportError, csv_row, neutralise

from .cli._events import event, write_history

_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


@given(st.text())
def test_no_cell_can_start_a_formula_or_hold_a_control(text: str) -> None:
    cell = neutralise(text)
    assert not cell.startswith(_DANGEROUS)
    assert not cell.lstrip(" ").startswith(_DANGEROUS[:4])
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in cell)
    if text and text.isprintable() and not text.lstrip(" ").startswith(_DANGEROUS):
        assert cell == text  # harmless values are left alone


@given(
    st.dictionaries(
        st.sampled_from(["role", "agent", "weird", "handoff", "context"]),
        st.one_of(
            st.text(),
            st.integers(),
            st.none(),
            st.dictionaries(st.text(max_size=5), st.text(max_size=5)),
        ),
    )
)
def test_any_event_makes_a_full_safe_row(extra: dict[str, object]) -> None:
    row = csv_row({**event(1), **extra})
    assert len(row) == len(CSV_COLUMNS)
    buf = io.StringIO()
    csv.writer(buf).writerow(row)
    assert next(csv.reader(io.StringIO(buf.getvalue()))) == row
    assert not any(c.startswith(_DANGEROUS) for c in row)


def test_failed_export_leaves_nothing(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_history(project, live=5)
    target = tmp_path / "out.json"

    def boom(*_: object) -> object:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(export, "render_stored", boom)
    with pytest.raises(OSError, match="No space"):
        export.export(project, "json", target)
    assert list(tmp_path.iterdir()) == [project]
    with pytest.raises(ExportError):
        export.export(project, "xml", target)


@settings(max_examples=80, deadline=None)
@given(
    lines=st.lists(
        st.one_of(
            st.sampled_from(
                [
                    b'{"schema_version":"1.0","event_type":"role.selected","role":"dev"}',
                    b'{"event_type":"role.selected","role":"dev"}',  # legacy: tagged "0"
                    b'{"schema_version":"1.0", "event_type":"x"}',  # other spacing
                    b'{"event_type":"x","n":1e16,"schema_version":"1.0"}',
                    b'{"schema_version":"1.0","event_type":"x","v":"\\u00e9\\u001b"}',
                    b'{"schema_version":"1.0","event_type":"x","a":1,"a":2}',
                    b'{"schema_version":"1.0","event_type":"x","d":NaN}',
                    b"{torn",
                    b"",
                ]
            ),
            st.dictionaries(
                st.sampled_from(["event_type", "role", "k"]),
                st.one_of(st.text(max_size=5), st.integers(), st.floats(), st.none()),
            ).map(lambda d: json.dumps({"schema_version": "1.0", "event_type": "x", **d}).encode()),
        ),
        max_size=12,
    ),
    fmt=st.sampled_from(["jsonl", "json", "csv"]),
)
def test_copying_stored_lines_gives_the_bytes_encoding_gives(lines: list[bytes], fmt: str) -> None:
    """`render_stored` copies lines that need no change; the output is `render`'s, byte for byte."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / ".flowspec").mkdir()
        (root / ".flowspec" / "telemetry.jsonl").write_bytes(b"\n".join(lines) + b"\n")
        a, b = ReadStats(), ReadStats()
        stored = b"".join(export.render_stored(reader.iter_stored(root, stats=a), fmt))
        encoded = "".join(export.render(reader.iter_events(root, stats=b), fmt)).encode()
        assert stored == encoded
        assert (a.events, a.skipped) == (b.events, b.skipped)
