"""Exact `stats` over the whole history, spread over the machine's cores.

Parsing JSON is the whole cost of `stats` (about 3 µs an event in CPython), so
a large history is cut into pieces that separate processes fold with
`stats.compute_stats`: each rotated archive is one piece, and the live file is
cut at line boundaries into byte ranges. The partial `Stats` are then added
up, so the totals are exact; each worker reads one chunk at a time, so memory
does not grow with history size. Small histories (and platforms without
`fork`) are read in this process: starting workers would cost more than it saves.
"""

from __future__ import annotations

import functools
import itertools
import multiprocessing
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Protocol, TypeVar

from flowspec_telemetry.analysis.stats import Stats, compute_stats
from flowspec_telemetry.core.names import FLOWSPEC, ToolNames
from flowspec_telemetry.core.store import (
    EVENTS_FILE,
    ReadStats,
    archive_paths,
    line_batches,
    open_for_reading,
)
from flowspec_telemetry.history import fast_reader

__all__ = [
    "PARALLEL_MIN_BYTES",
    "Folder",
    "Piece",
    "compute",
    "fold",
    "fold_history",
    "history_bytes",
    "merge",
    "split_file",
]

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class Folder(Protocol[T_co]):
    """Folds a stream of events (and the read's skip counts) into a partial result."""

    def __call__(self, events: Iterator[dict[str, Any]], read: ReadStats, /) -> T_co: ...


PARALLEL_MIN_BYTES: Final = 48 << 20
_PIECE_MIN_BYTES: Final = 16 << 20
_SCAN_BLOCK: Final = 1 << 16


@dataclass(frozen=True, slots=True)
class Piece:
    """One unit of work: a whole file, or the byte range [start, end) of a plain file."""

    path: Path
    start: int = 0
    end: int | None = None


class _Range:
    """A binary reader that stops at `end` (the piece's last byte + 1)."""

    def __init__(self, fh: Any, end: int) -> None:
        self._fh = fh
        self._left = end - fh.tell()

    def read(self, size: int = -1, /) -> bytes:
        if self._left <= 0:
            return b""
        size = self._left if size < 0 else min(size, self._left)
        data: bytes = self._fh.read(size)
        self._left -= len(data)
        return data


def _events_of(piece: Piece, read: ReadStats) -> Iterator[dict[str, Any]]:
    if piece.end is None:
        yield from fast_reader.iter_file(piece.path, read)
        return
    try:  # never through a symbolic link, like the one-process readers (`store`)
        fh = open_for_reading(piece.path)
    except FileNotFoundError:
        return
    with fh:
        fh.seek(piece.start)
        read.files += 1
        for parts in line_batches(_Range(fh, piece.end)):
            yield from fast_reader.parse_batch(parts, read)


def fold(piece: Piece, since: str | None, until: str | None) -> Stats:
    """The stats of one piece."""
    read = ReadStats()
    return compute_stats(_events_of(piece, read), read, since=since, until=until)


def _stats_of(
    events: Iterator[dict[str, Any]], read: ReadStats, since: str | None, until: str | None
) -> Stats:
    return compute_stats(events, read, since=since, until=until)


def _fold_piece(folder: Folder[T], piece: Piece) -> T:
    read = ReadStats()
    return folder(_events_of(piece, read), read)


def merge(parts: list[Stats]) -> Stats:
    """Add partial stats up (exact: every count is a sum)."""
    out = Stats()
    for part in parts:
        out.total += part.total
        out.skipped += part.skipped
        out.by_type.update(part.by_type)
        out.by_role.update(part.by_role)
        out.commands.update(part.commands)
        out.agents.update(part.agents)
        if part.first is not None and (out.first is None or part.first < out.first):
            out.first = part.first
        if part.last is not None and (out.last is None or part.last > out.last):
            out.last = part.last
    return out


def _next_line_start(path: Path, pos: int, size: int) -> int:
    """The offset just after the first newline at or after `pos` (or `size`)."""
    with open(path, "rb") as fh:
        fh.seek(pos)
        while pos < size:
            block = fh.read(_SCAN_BLOCK)
            if not block:
                break
            at = block.find(b"\n")
            if at >= 0:
                return pos + at + 1
            pos += len(block)
    return size


def split_file(path: Path, pieces: int) -> list[Piece]:
    """Cut a plain file into about `pieces` byte ranges that begin at line starts."""
    try:
        size = os.path.getsize(path)
    except OSError:
        return []
    pieces = max(1, min(pieces, size // _PIECE_MIN_BYTES))
    bounds = [0]
    for i in range(1, pieces):
        cut = _next_line_start(path, size * i // pieces, size)
        if cut > bounds[-1]:
            bounds.append(cut)
    bounds.append(size)
    return [Piece(path, a, b) for a, b in itertools.pairwise(bounds) if b > a]


def history_bytes(root: Path, names: ToolNames = FLOWSPEC) -> int:
    folder = root / names.project_dir
    total = 0
    for path in [*archive_paths(folder), folder / EVENTS_FILE]:
        try:
            total += os.path.getsize(path)
        except OSError:
            continue
    return total


def _workers() -> int:
    if sys.platform == "win32" or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return max(1, min(os.cpu_count() or 1, 8))


def fold_history(
    root: Path,
    folder: Folder[T],
    combine: Callable[[list[T]], T],
    names: ToolNames = FLOWSPEC,
    *,
    workers: int | None = None,
) -> T:
    """Fold every event of the project (archives included) with `folder`, in parallel.

    `folder(events, read)` folds one stream into a partial result (it must be
    picklable: a module-level function or a `functools.partial` of one);
    `combine` adds the partial results up, exactly. Small histories are folded
    in this process.
    """
    base = root / names.project_dir
    count = _workers() if workers is None else workers
    if count <= 1 or history_bytes(root, names) < PARALLEL_MIN_BYTES:
        read = ReadStats()
        return folder(fast_reader.iter_events(root, names, read), read)
    pieces = [Piece(p) for p in archive_paths(base)] + split_file(base / EVENTS_FILE, count)
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(min(count, len(pieces))) as pool:
        parts = pool.map(functools.partial(_fold_piece, folder), pieces, chunksize=1)
    return combine(parts)


def compute(
    root: Path,
    names: ToolNames = FLOWSPEC,
    *,
    since: str | None = None,
    until: str | None = None,
    workers: int | None = None,
) -> Stats:
    """Exact stats of every event of the project (archives included) in [since, until)."""
    folder = functools.partial(_stats_of, since=since, until=until)
    return fold_history(root, folder, merge, names, workers=workers)
