"""Choosing events for `view`: dates, filters and a bounded newest-last selection.

The common case (`view` with no filter) asks `store.tail_events` for the last
N events, which reads only the end of the live file, so it answers at once on
any history size. With a filter, the live file is read backwards block by
block and the archives newest first, keeping at most N matches: memory stays
bounded by the limit, never by the history. `--limit 0` means "all matches"
and streams forwards without holding them.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from flowspec_telemetry.core.errors import TelemetryError
from flowspec_telemetry.core.events import EVENT_TYPE_VALUES, did_you_mean
from flowspec_telemetry.core.names import FLOWSPEC, ToolNames
from flowspec_telemetry.core.store import (
    EVENTS_FILE,
    ReadStats,
    archive_paths,
    iter_backwards,
    iter_file,
    tail_events,
)
from flowspec_telemetry.history import _summary
from flowspec_telemetry.history.reader import Window, iter_events

__all__ = [
    "DATE_HELP",
    "Filter",
    "QueryError",
    "check_event_type",
    "parse_when",
    "select",
    "stream",
    "window",
]

_RELATIVE: Final = re.compile(r"^(\d{1,5})([mhdw])$")
_UNITS: Final = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_BLOCK: Final = 64 * 1024
DATE_HELP: Final = (
    "YYYY-MM-DD, an ISO 8601 time (UTC unless it has an offset), or 30m / 12h / 7d / 2w ago"
)


class QueryError(TelemetryError, ValueError):
    """Bad filter input (a date, an event type); the CLI reports it as a usage error."""


def _iso(moment: datetime) -> str:
    """The stored timestamp form, so windows compare as text."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{moment.astimezone(UTC).microsecond // 1000:03d}Z"
    )


def parse_when(text: str, *, end: bool = False, now: datetime | None = None) -> str:
    """A `--since`/`--until` value as a UTC timestamp string.

    A bare date means the start of that day for `--since` and the end of it
    for `--until` (`end=True`), so `--since 2026-11-02 --until 2026-11-02`
    is that whole day. Raises `QueryError` with a message fit for one line.
    """
    value = text.strip()
    rel = _RELATIVE.match(value)
    if rel:
        moment = (now or datetime.now(UTC)) - timedelta(**{_UNITS[rel.group(2)]: int(rel.group(1))})
        return _iso(moment)
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            start = datetime(day.year, day.month, day.day, tzinfo=UTC)
            return _iso(start + timedelta(days=1) if end else start)
        moment = datetime.fromisoformat(value.replace("z", "Z"))
    except (ValueError, OverflowError):  # overflow: a day after 9999-12-31
        raise _not_a_date(value) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return _iso(moment)
    except OverflowError:  # an offset that moves it outside years 1-9999 in UTC
        raise _not_a_date(value) from None


def _not_a_date(value: str) -> QueryError:
    shown = value if len(value) <= 40 and value.isprintable() else "(unprintable)"
    return QueryError(f"{shown!r} is not a date or time; use {DATE_HELP}")


def window(since: str | None, until: str | None) -> tuple[str | None, str | None]:
    """Parse both ends; refuse a window that ends before it starts."""
    lo = parse_when(since) if since else None
    hi = parse_when(until, end=True) if until else None
    if lo is not None and hi is not None and hi <= lo:
        raise QueryError(f"--until ({until}) is not after --since ({since})")
    return lo, hi


def check_event_type(value: str | None) -> str | None:
    if value is None or value in EVENT_TYPE_VALUES:
        return value
    shown = value if len(value) <= 40 and value.isprintable() else "(unprintable)"
    raise QueryError(
        f"unknown event type {shown!r}{did_you_mean(value)}; "
        f"valid types: {', '.join(sorted(EVENT_TYPE_VALUES))}"
    )


@dataclass(frozen=True, slots=True)
class Filter:
    """What `view` keeps; every part is optional."""

    event_type: str | None = None
    role: str | None = None
    since: str | None = None
    until: str | None = None

    @property
    def empty(self) -> bool:
        return self.event_type is None and self.role is None and not (self.since or self.until)

    @property
    def window(self) -> Window:
        """The same choice as the reader's `Window` (which applies it)."""
        return Window(self.since, self.until, self.event_type, self.role)

    def matcher(self) -> Callable[[dict[str, Any]], bool]:
        return self.window.matcher() or _keep_all


def select(
    root: Path,
    limit: int,
    filt: Filter = Filter(),
    names: ToolNames = FLOWSPEC,
    stats: ReadStats | None = None,
) -> list[dict[str, Any]]:
    """The last `limit` matching events, oldest first (`limit` >= 1)."""
    stats = stats if stats is not None else ReadStats()
    if filt.empty:
        return tail_events(root, limit, names, stats)
    keep = filt.matcher()
    folder = root / names.project_dir
    found: deque[dict[str, Any]] = deque()
    for event in iter_backwards(folder / EVENTS_FILE, stats):
        if keep(event):
            found.appendleft(event)
            if len(found) >= limit:
                return list(found)
    for archive in reversed(archive_paths(folder)):
        if _outside(archive, filt, stats):
            continue
        need = limit - len(found)
        window_: deque[dict[str, Any]] = deque(
            (e for e in iter_file(archive, stats) if keep(e)), maxlen=need
        )
        found.extendleft(reversed(window_))
        if len(found) >= limit:
            break
    return list(found)


def _outside(archive: Path, filt: Filter, stats: ReadStats) -> bool:
    """Whether the archive's summary says no event of it is in the window (then it is not
    read; its counts go into `stats` as if it had been)."""
    if filt.since is None and filt.until is None:
        return False
    ident = _summary.archive_id(archive) if archive.name.endswith(".gz") else None
    found = _summary.load(archive, ident, states=False) if ident is not None else None
    if found is None or found.covered(filt.since, filt.until) is not False:
        return False
    stats.files += 1
    stats.events += found.events
    stats.skipped += found.skipped
    return True


def stream(
    root: Path,
    filt: Filter = Filter(),
    names: ToolNames = FLOWSPEC,
    stats: ReadStats | None = None,
) -> Iterator[dict[str, Any]]:
    """Every matching event, oldest first, streamed (for `view --limit 0`)."""
    return iter_events(root, names, stats, filt.window)


def _keep_all(event: dict[str, Any]) -> bool:
    return True
