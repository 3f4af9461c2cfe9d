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
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any, Final

from flowspec_telemetry.core.events import FIELD_NAMES
from flowspec_telemetry.core.names import FLOWSPEC, ToolNames
from flowspec_telemetry.core.normalize import escape_unsafe
from flowspec_telemetry.core.store import ReadStats
from flowspec_telemetry.history.reader import iter_stored
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


_orjson_dumps: Callable[[Any], bytes] | None
try:  # writes an event back exactly as the tracker stored it, ~10x faster than `json`
    from orjson import dumps as _orjson_dumps
except ImportError:  # pragma: no cover - orjson is a dependency
    _orjson_dumps = None


class ExportError(output_file.OutputError):
    """Bad export input (format, output path); nothing was written."""


_FORMULA_FIRST: Final = frozenset(_FORMULA_START) | {" "}


def neutralise(cell: str) -> str:
    """A CSV cell that no spreadsheet runs as a formula and no terminal obeys.

    Most cells need neither change; two C-level checks (the first character,
    `isprintable`) find those before any regular expression runs. Every
    character of `core.normalize.UNSAFE_CHARS` (controls, zero-width, bidi incl.
    U+061C, tags: the set every display layer escapes) is one `isprintable` refuses.
    """
    if not cell:
        return cell
    if cell[0] in _FORMULA_FIRST and (
        cell.startswith(_FORMULA_START) or cell.lstrip(" ").startswith(_FORMULA_START[:4])
    ):
        cell = "'" + cell
    return cell if cell.isprintable() else escape_unsafe(cell)


def _cell(value: Any) -> str:
    kind = type(value)
    if kind is str:
        return neutralise(value)
    if value is None:
        return ""
    if kind is bool:
        return "true" if value else "false"
    if kind is int or kind is float:
        text = repr(value)
        return "'" + text if text[0] == "-" else text  # what `neutralise` makes of it
    return neutralise(json.dumps(value, ensure_ascii=False, sort_keys=True))


_FIELD_SET: Final = frozenset(FIELD_NAMES)
_PLAIN_FIELDS: Final = tuple((name, name in _NESTED) for name in FIELD_NAMES)


def csv_row(event: dict[str, Any]) -> list[str]:
    """One event as CSV cells in `CSV_COLUMNS` order, neutralised."""
    extra = {k: v for k, v in event.items() if k not in _FIELD_SET}
    row: list[str] = []
    append = row.append
    get = event.get
    for name, nested_field in _PLAIN_FIELDS:
        value = get(name)
        if not nested_field:
            append(_cell(value))
            continue
        nested = value if type(value) is dict else {}
        if value is not None and type(value) is not dict:
            extra[name] = value
        keys = _NESTED[name]
        row.extend(_cell(nested.get(k)) for k in keys)
        if len(nested) > len(keys) or any(k not in keys for k in nested):
            extra.update({f"{name}.{k}": v for k, v in nested.items() if k not in keys})
    append(neutralise(json.dumps(extra, ensure_ascii=False, sort_keys=True)) if extra else "")
    return row


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


def _line(raw: bytes | None, event: dict[str, Any]) -> bytes:
    """An event as its export line: the stored bytes themselves when they already are
    exactly that (our own lines: compact, ASCII, in order), else the event written anew."""
    if raw is not None and _orjson_dumps is not None and _orjson_dumps(event) == raw:
        return raw
    return json.dumps(event, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def render_stored(
    pairs: Iterable[tuple[bytes | None, dict[str, Any]]], fmt: str
) -> Iterator[bytes]:
    """The export as byte pieces from (stored line, event) pairs (`reader.iter_stored`).

    JSON lines and JSON copy a stored line that is already in export form
    (orjson writes the event back to the very same bytes) instead of
    encoding it again; anything else (legacy lines, other key orders or
    spacing, anything the reader normalised) is written anew. The result is
    the same bytes `render` gives.
    """
    if fmt == "csv":
        for piece in render((event for _, event in pairs), fmt):
            yield piece.encode("utf-8")
        return
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}; use one of: {', '.join(FORMATS)}")
    buf: list[bytes] = []
    size = 0
    first = True
    if fmt == "json":
        yield b"["
    for raw, event in pairs:
        line = _line(raw, event)
        if fmt == "jsonl":
            buf.append(line)
            buf.append(b"\n")
        else:
            buf.append(b"\n" if first else b",\n")
            buf.append(line)
            first = False
        size += len(line) + 2
        if size >= 1 << 16:
            yield b"".join(buf)
            buf.clear()
            size = 0
    yield b"".join(buf)
    if fmt == "json":
        yield b"\n]\n"


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
    where: Callable[[dict[str, Any]], bool] | None = None,
) -> tuple[int, ReadStats]:
    """Write every event (or those `where` keeps) to `output` or `stream`; return the count."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}; use one of: {', '.join(FORMATS)}")
    if output is not None:
        check_output(output, force=force)
    read = ReadStats()
    pairs: Iterable[tuple[bytes | None, dict[str, Any]]] = iter_stored(root, names, read)
    kept = [0]
    if where is not None:
        pairs = _counted((p for p in pairs if where(p[1])), kept)
    pieces = render_stored(pairs, fmt)
    if output is None:
        if stream is None:
            raise ExportError("no output given")
        stream.flush()
        binary = getattr(stream, "buffer", None)
        for piece in pieces:
            if binary is not None:
                binary.write(piece)
            else:
                stream.write(piece.decode("utf-8"))
        (binary or stream).flush()
        return (read.events if where is None else kept[0]), read
    try:
        output_file.write_private(output, pieces, force=force)
    except output_file.OutputError as exc:
        raise ExportError(str(exc)) from None
    return (read.events if where is None else kept[0]), read


def _counted(
    pairs: Iterator[tuple[bytes | None, dict[str, Any]]], count: list[int]
) -> Iterator[tuple[bytes | None, dict[str, Any]]]:
    """The pairs unchanged, counting them in `count[0]` (what a filtered export wrote)."""
    for pair in pairs:
        count[0] += 1
        yield pair


def format_for(path: str) -> str | None:
    """The format a file name asks for by its suffix (`usage.csv`: csv), or None."""
    suffix = Path(path).suffix.lower()
    return {".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}.get(suffix)
