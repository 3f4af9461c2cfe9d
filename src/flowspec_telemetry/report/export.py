"""Exporting every event (archives included) as JSON, JSON lines or CSV.

Events are streamed from the store to the output, so an export of any size
holds one chunk in memory. A file output is written to a private temporary
file (mode 0600) next to the target and moved into place only when complete,
so a failed export leaves no half file and changes nothing; without `force`
an existing file is never replaced (not even one created meanwhile).

CSV is made safe to open in a spreadsheet: a cell that starts with `=`, `+`,
`-`, `@`, a tab or a carriage return gets a leading `'` so it is never read
as a formula, and control characters are shown as escapes (`\\x1b`).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any, Final

from flowspec_telemetry.core.events import FIELD_NAMES
from flowspec_telemetry.core.names import FLOWSPEC, ToolNames
from flowspec_telemetry.core.store import ReadStats
from flowspec_telemetry.history.reader import iter_events
from flowspec_telemetry.report import _output as output_file

__all__ = [
    "CSV_COLUMNS",
    "FORMATS",
    "ExportError",
    "check_output",
    "csv_row",
    "export",
    "neutralise",
    "render",
]

FORMATS: Final = ("json", "jsonl", "csv")
_NESTED: Final = {
    "handoff": ("from_agent", "to_agent"),
    "context": ("os", "python", "tool_version", "ci"),
}
CSV_COLUMNS: Final = (
    *(
        col
        for name in FIELD_NAMES
        for col in ((f"{name}.{k}" for k in _NESTED[name]) if name in _NESTED else (name,))
    ),
    "extra",
)
_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")


class ExportError(output_file.OutputError):
    """Bad export input (format, output path); nothing was written."""


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def neutralise(cell: str) -> str:
    """A CSV cell that no spreadsheet runs as a formula and no terminal obeys."""
    if cell.startswith(_FORMULA_START) or cell.lstrip(" ").startswith(_FORMULA_START[:4]):
        cell = "'" + cell
    return _CONTROL.sub(_escape, cell)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def csv_row(event: dict[str, Any]) -> list[str]:
    """One event as CSV cells in `CSV_COLUMNS` order, neutralised."""
    extra = {k: v for k, v in event.items() if k not in FIELD_NAMES}
    row: list[str] = []
    for name in FIELD_NAMES:
        value = event.get(name)
        if name in _NESTED:
            nested = value if isinstance(value, dict) else {}
            if value is not None and not isinstance(value, dict):
                extra[name] = value
            row.extend(_cell(nested.get(k)) for k in _NESTED[name])
            extra.update({f"{name}.{k}": v for k, v in nested.items() if k not in _NESTED[name]})
        else:
            row.append(_cell(value))
    row.append(json.dumps(extra, ensure_ascii=False, sort_keys=True) if extra else "")
    return [neutralise(cell) for cell in row]


def render(events: Iterable[dict[str, Any]], fmt: str) -> Iterator[str]:
    """The export as text pieces, streamed."""
    if fmt == "jsonl":
        for event in events:
            yield json.dumps(event, ensure_ascii=True, separators=(",", ":")) + "\n"
    elif fmt == "json":
        yield "["
        sep = "\n"
        for event in events:
            yield sep + json.dumps(event, ensure_ascii=True, separators=(",", ":"))
            sep = ",\n"
        yield "\n]\n"
    elif fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\r\n")
        writer.writerow(CSV_COLUMNS)
        for event in events:
            writer.writerow(csv_row(event))
            if buf.tell() > 65536:
                yield buf.getvalue()
                buf.seek(0)
                buf.truncate()
        yield buf.getvalue()
    else:
        raise ExportError(f"unknown format {fmt!r}; use one of: {', '.join(FORMATS)}")


def check_output(output: Path, *, force: bool) -> None:
    """Refuse, before anything is read or written, an output we must not write."""
    try:
        output_file.check_output(output, force=force)
    except output_file.OutputError as exc:
        raise ExportError(str(exc)) from None


def export(
    root: Path,
    fmt: str,
    output: Path | None,
    *,
    force: bool = False,
    names: ToolNames = FLOWSPEC,
    stream: IO[str] | None = None,
) -> tuple[int, ReadStats]:
    """Write every event to `output` (or `stream` when `output` is None); return the count."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}; use one of: {', '.join(FORMATS)}")
    if output is not None:
        check_output(output, force=force)
    read = ReadStats()
    events = iter_events(root, names, read)
    if output is None:
        if stream is None:
            raise ExportError("no output given")
        for piece in render(events, fmt):
            stream.write(piece)
        stream.flush()
        return read.events, read
    try:
        chunks = (piece.encode("utf-8") for piece in render(events, fmt))
        output_file.write_private(output, chunks, force=force)
    except output_file.OutputError as exc:
        raise ExportError(str(exc)) from None
    return read.events, read
