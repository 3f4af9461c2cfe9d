"""The parse layer under `history.reader`: stored lines to events, fast.

It returns exactly what `store.iter_file` (the reference) does, faster. `store.iter_file`
parses each line with `json.loads(bytes)`; over a million events that is most
of the time `stats` takes. This reader parses each line with orjson when it is
installed (about 3x faster), else decodes a whole chunk of lines at once and
parses each with `JSONDecoder.raw_decode` on text; anything unusual
(a blank, torn, binary, overlong or oddly encoded line) falls back to
`events.parse_line` on the original bytes. So it returns exactly the events and
skipped-line counts `store` does (a property test holds the two together),
roughly twice as fast, and with the same flat memory: one chunk at a time.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowspec_telemetry.core._legacy import LEGACY_SCHEMA_VERSION, map_legacy
from flowspec_telemetry.core.events import parse_line
from flowspec_telemetry.core.normalize import normalize_parsed
from flowspec_telemetry.core.store import ReadStats, read_batches

if TYPE_CHECKING:
    pass

__all__ = [
    "iter_file",
    "parse_batch",
    "parse_batch_raw",
]

_orjson_loads: Callable[[bytes], Any] | None
try:  # a well-kept parser ~3x faster than the standard library's; optional
    from orjson import loads as _orjson_loads
except ImportError:  # pragma: no cover - orjson is a dependency; the stdlib path is the fallback
    _orjson_loads = None


def _event(obj: Any, raw: bytes) -> dict[str, Any] | None:
    """A parsed line as an event: normalised, then mapped when legacy (like `parse_line`)."""
    event = normalize_parsed(obj, raw)
    if event is not None and event["schema_version"] == LEGACY_SCHEMA_VERSION:
        mapped: dict[str, Any] = map_legacy(event)  # flowspec's earlier module, in schema 1.0
        return mapped
    return event


def _fallback(raw: bytes, stats: ReadStats, append: Callable[[dict[str, Any]], None]) -> None:
    """The reference parser for a line the fast one refused: blank, bad, or unusual."""
    if not raw.strip():
        return
    event = parse_line(raw)
    if event is None:
        stats.skipped += 1
    else:
        append(event)


def parse_batch(parts: list[bytes], stats: ReadStats) -> list[dict[str, Any]]:
    if _orjson_loads is not None:
        return _parse_batch_orjson(parts, stats, _orjson_loads)
    raw_decode = json.JSONDecoder().raw_decode
    try:
        texts: list[str] | None = b"\n".join(parts).decode("utf-8").split("\n")
    except UnicodeDecodeError:
        texts = None
    out: list[dict[str, Any]] = []
    append = out.append
    for raw, text in zip(parts, texts if texts is not None else parts, strict=True):
        if texts is not None:
            assert isinstance(text, str)  # noqa: S101 - narrows the zip for mypy
            try:
                obj, end = raw_decode(text)
            except (ValueError, RecursionError):
                obj, end = None, -1
            event = _event(obj, raw) if end == len(text) else None
            if event is not None:
                append(event)
                continue
        _fallback(raw, stats, append)
    stats.events += len(out)
    return out


def _parse_batch_orjson(
    parts: list[bytes], stats: ReadStats, loads: Callable[[bytes], Any]
) -> list[dict[str, Any]]:
    """orjson on each line; whatever it refuses goes to `events.parse_line`, the reference."""
    out: list[dict[str, Any]] = []
    append = out.append
    for raw in parts:
        try:
            obj = loads(raw)
        except ValueError:  # orjson.JSONDecodeError is a ValueError
            obj = None
        event = _event(obj, raw)
        if event is not None:
            append(event)
        else:
            _fallback(raw, stats, append)
    stats.events += len(out)
    return out


def iter_file(path: Path, stats: ReadStats | None = None) -> Iterator[dict[str, Any]]:
    """Events of one file (plain or `.gz`); the same result as `store.iter_file`."""
    stats = stats if stats is not None else ReadStats()
    for parts in read_batches(path, stats):
        yield from parse_batch(parts, stats)


def parse_batch_raw(
    parts: list[bytes], stats: ReadStats
) -> list[tuple[bytes | None, dict[str, Any]]]:
    """`parse_batch`, each event with the line it came from (None when the reference
    parser read it), so a writer of stored lines can copy a line that needs no change."""
    if _orjson_loads is None:
        return [(None, event) for event in parse_batch(parts, stats)]
    loads = _orjson_loads
    out: list[tuple[bytes | None, dict[str, Any]]] = []
    append = out.append
    for raw in parts:
        try:
            obj = loads(raw)
        except ValueError:
            obj = None
        event = _event(obj, raw)
        if event is None:
            _fallback(raw, stats, lambda event: append((None, event)))
        elif event is obj:  # as stored: the line itself may be copied
            append((raw, event))
        else:  # normalised or mapped: written anew
            append((None, event))
    stats.events += len(out)
    return out
