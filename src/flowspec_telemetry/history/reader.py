"""The read side: one streaming reader of a project's history, and folds over it.

Every answer (stats, insights, the share and HTML reports, export, view) reads
the history through this module, with the `--since/--until` window and the
filters applied here, once:

* `iter_events(root, window=...)` streams every stored event, oldest first:
  rotated archives and rotated files not yet compressed (in their order),
  then the live file. Each line is parsed by `fast_reader` (orjson, with the
  reference parser for anything unusual), so legacy lines and bad lines are
  handled in one place; memory holds one 1 MiB chunk at a time.
* `fold(root, spec, window=...)` folds the same events into an accumulator
  (`FoldSpec`: stats, insights ...). Rotated archives never change, so the
  first fold of an archive keeps its partial result in a summary beside it
  (`_summary`); later folds merge the summaries of the archives the window
  covers and parse only the live file, the files waiting for compression,
  and the archives the window cuts (at most the two at its ends, each at most
  one rotation's worth of events). Every `ROLLUP_SIZE` consecutive archives
  a whole-history read merged one by one also get a rollup (a summary of
  their summaries, beside the first), so a warm read of 10 million events
  merges about 30 rollups instead of 1,000 summaries. Partial results merge
  exactly and in the order of the files, so the answer is the same with or
  without summaries, ties in order included (a property test holds them
  together). Large amounts of parsing (a first read, a huge live file) are
  spread over the machine's cores, sized by uncompressed bytes.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Protocol, TypeVar

from flowspec_telemetry.core.names import FLOWSPEC, ToolNames
from flowspec_telemetry.core.store import (
    EVENTS_FILE,
    ReadStats,
    archive_paths,
    line_batches,
    open_for_reading,
    read_batches,
)
from flowspec_telemetry.history import _summary
from flowspec_telemetry.history.fast_reader import iter_file as read_events
from flowspec_telemetry.history.fast_reader import parse_batch, parse_batch_raw

__all__ = [
    "PARALLEL_MIN_BYTES",
    "FoldSpec",
    "Piece",
    "Window",
    "fold",
    "history_bytes",
    "history_files",
    "in_window",
    "iter_events",
    "iter_stored",
    "split_file",
]

A = TypeVar("A")

PARALLEL_MIN_BYTES: Final = 48 << 20  # less parsing than this is done in this process
ROLLUP_SIZE: Final = 32  # archives per rollup (a summary of summaries)
_PIECE_MIN_BYTES: Final = 16 << 20
_SCAN_BLOCK: Final = 1 << 16


def in_window(timestamp: Any, since: str | None, until: str | None) -> bool:
    """Whether an ISO timestamp falls in [since, until); compared as text (UTC, `Z`)."""
    if since is None and until is None:
        return True
    if type(timestamp) is not str:
        return False
    if since is not None and timestamp < since:
        return False
    return not (until is not None and timestamp >= until)


@dataclass(frozen=True, slots=True)
class Window:
    """Which events an answer is about: a `[since, until)` time window and filters.

    Times are stored-timestamp text (`query.parse_when` makes them); an event
    without a text timestamp is outside every window. Every part is optional.
    """

    since: str | None = None
    until: str | None = None
    event_type: str | None = None
    role: str | None = None

    @property
    def everything(self) -> bool:
        return self.since is None and self.until is None and not self.filtered

    @property
    def filtered(self) -> bool:
        return self.event_type is not None or self.role is not None

    def matcher(self) -> Callable[[dict[str, Any]], bool] | None:
        """A predicate for one event; None when the window keeps every event."""
        if self.everything:
            return None
        etype, role, since, until = self.event_type, self.role, self.since, self.until

        def keep(event: dict[str, Any]) -> bool:
            if etype is not None and event.get("event_type") != etype:
                return False
            if role is not None and event.get("role") != role:
                return False
            return in_window(event.get("timestamp"), since, until)

        return keep


EVERYTHING: Final = Window()


def history_files(root: Path | str, names: ToolNames = FLOWSPEC) -> list[Path]:
    """The files holding the history, in the order written: rotated ones, then the live file."""
    folder = Path(root, names.project_dir)
    return [*archive_paths(folder), folder / EVENTS_FILE]


def iter_events(
    root: Path | str,
    names: ToolNames = FLOWSPEC,
    stats: ReadStats | None = None,
    window: Window | None = None,
) -> Iterator[dict[str, Any]]:
    """Every stored event in `window` (default: all), oldest file first, streamed.

    `stats` counts the events parsed and the lines skipped as unreadable (in
    every file read, whatever the window).
    """
    stats = stats if stats is not None else ReadStats()
    keep = (window or EVERYTHING).matcher()
    for path in history_files(root, names):
        events = read_events(path, stats)
        yield from events if keep is None else filter(keep, events)


def iter_stored(
    root: Path | str,
    names: ToolNames = FLOWSPEC,
    stats: ReadStats | None = None,
    window: Window | None = None,
) -> Iterator[tuple[bytes | None, dict[str, Any]]]:
    """`iter_events`, each event with its stored line (None when the line needed the
    reference parser), for writers that can copy a line instead of encoding it again."""
    stats = stats if stats is not None else ReadStats()
    keep = (window or EVERYTHING).matcher()
    for path in history_files(root, names):
        for parts in read_batches(path, stats):
            pairs = parse_batch_raw(parts, stats)
            yield from pairs if keep is None else (p for p in pairs if keep(p[1]))


# ------------------------------------------------------------------- folding


class FoldSpec(Protocol[A]):
    """How an analysis folds events, and how its partial results are kept and merged.

    `key` names the kept state in archive summaries: it must change whenever
    the state would (a new format, other parameters such as the catalog's
    security agents), so that a summary made for other parameters is rebuilt.
    `merge_state` adds a `dump`ed state into an accumulator and must raise
    `ValueError` on anything `dump` would not have written (the reader then
    throws that accumulator away and reads the archive instead).
    """

    @property
    def key(self) -> str: ...

    def new(self) -> A: ...

    def adder(self, acc: A) -> Callable[[dict[str, Any]], None]: ...

    def merge(self, acc: A, other: A) -> None: ...

    def dump(self, acc: A) -> Any: ...

    def merge_state(self, acc: A, state: Any) -> None: ...


@dataclass(frozen=True, slots=True)
class Piece:
    """One unit of parsing: a whole file (`end` None) or the byte range [start, end)."""

    path: Path
    start: int = 0
    end: int | None = None
    summarise: bool = False  # an archive without a usable summary: write one
    ident: _summary.ArchiveId | None = field(default=None, compare=False)


class _Range:
    """A binary reader that stops at `end`."""

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


def _events_of(job: Piece, read: ReadStats) -> Iterator[dict[str, Any]]:
    if job.end is None:
        yield from read_events(job.path, read)
        return
    try:
        fh = open_for_reading(job.path)
    except FileNotFoundError:
        return
    with fh:
        fh.seek(job.start)
        read.files += 1
        for parts in line_batches(_Range(fh, job.end)):
            yield from parse_batch(parts, read)


def _fold_into(spec: FoldSpec[A], acc: A, events: Iterable[dict[str, Any]], window: Window) -> None:
    add = spec.adder(acc)
    keep = window.matcher()
    if keep is None:
        for event in events:
            add(event)
        return
    for event in events:
        if keep(event):
            add(event)


def _run(spec: FoldSpec[A], window: Window, job: Piece) -> tuple[A, ReadStats]:
    """Parse one job and fold it; an archive being summarised is folded whole first."""
    acc, read, _ = _run_job(spec, window, job)
    return acc, read


def _run_job(
    spec: FoldSpec[A], window: Window, job: Piece
) -> tuple[A, ReadStats, _summary.Summary | None]:
    """`_run`, plus the summary written for an archive (None for other jobs)."""
    read = ReadStats()
    acc = spec.new()
    if not job.summarise:
        _fold_into(spec, acc, _events_of(job, read), window)
        return acc, read, None
    ident = _summary.archive_id(job.path)
    summary = _summary.Summary()
    add = spec.adder(acc)
    for parts in read_batches(job.path, read):
        events = parse_batch(parts, read)
        summary.see_all([e.get("timestamp") for e in events])
        for event in events:
            add(event)
    summary.events, summary.skipped = read.events, read.skipped
    if ident is not None and ident == _summary.archive_id(job.path):
        old = _summary.load(job.path, ident)
        if old is not None:  # keep what other folds stored
            summary.states.update({k: v for k, v in old.states.items() if k != spec.key})
        summary.states[spec.key] = spec.dump(acc)
        _summary.write(job.path, ident, summary)
    covered = summary.covered(window.since, window.until) if not window.filtered else None
    if covered is True:
        return acc, read, summary
    acc = spec.new()
    if covered is None:  # the window cuts this archive: fold the part it keeps
        _fold_into(spec, acc, _events_of(Piece(job.path), ReadStats()), window)
    return acc, read, None


def _next_line_start(path: Path, pos: int, size: int) -> int:
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
    """A plain file as about `pieces` byte ranges that begin at line starts (none if empty)."""
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


def _split(path: Path, pieces: int) -> list[Piece]:
    """The live file's pieces; one whole-file piece (which reports a link) when not cut."""
    cut = split_file(path, pieces)
    return cut if len(cut) > 1 else [Piece(path)]


def history_bytes(root: Path | str, names: ToolNames = FLOWSPEC) -> int:
    """The bytes of every history file (archives compressed, as stored)."""
    return sum(_size(path) for path in history_files(root, names))


def _workers() -> int:
    if sys.platform == "win32" or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return max(1, min(os.cpu_count() or 1, 8))


def _size(path: Path) -> int:
    try:
        return os.stat(path, follow_symlinks=False).st_size
    except OSError:
        return 0


@dataclass(frozen=True, slots=True)
class _Kept:
    """An archive (or, `rollup`, a run of them) answered from its summary: `inside` True
    merges its state, False skips it."""

    path: Path
    ident: _summary.ArchiveId | None
    inside: bool
    summary: _summary.Summary  # its header (no states)
    rollup: bool = False

    @property
    def read(self) -> ReadStats:
        files = len(self.summary.members) if self.rollup else 1
        return ReadStats(self.summary.events, self.summary.skipped, files)


def _plan_rollup(
    spec: FoldSpec[A], archives: list[Path], start: int, window: Window, distrust: set[Path]
) -> _Kept | None:
    """The rollup of the archives from `start` on, if one names them exactly as they are."""
    anchor = archives[start]
    if _summary.rollup_path(anchor) in distrust:
        return None
    found = _summary.load_rollup(anchor, states=False)
    if found is None or spec.key not in found.keys:
        return None
    members = found.members
    if start + len(members) > len(archives):
        return None
    for (name, ident), path in zip(members, archives[start:], strict=False):
        if path.name != name or _summary.archive_id(path) != ident:
            return None  # an archive of the run changed or went: use their own summaries
    covered = None if window.filtered else found.covered(window.since, window.until)
    if covered is None:
        return None
    return _Kept(anchor, None, covered, found, rollup=True)


def _plan_archive(
    spec: FoldSpec[A], path: Path, window: Window, summaries: bool, distrust: set[Path]
) -> tuple[_Kept | Piece, int]:
    """How to read one rotated file, and how many bytes of parsing that costs."""
    if not path.name.endswith(".gz") or not summaries:
        scale = 1 if path.name.endswith(".jsonl") else 8  # gzip: about 8x smaller
        return Piece(path), _size(path) * scale
    ident = _summary.archive_id(path)
    if ident is None:
        return Piece(path), _size(path) * 8
    found = _summary.load(path, ident, states=False) if path not in distrust else None
    if found is None or spec.key not in found.keys:
        return Piece(path, summarise=True, ident=ident), ident.uncompressed
    covered = None if window.filtered else found.covered(window.since, window.until)
    if covered is None:  # the window cuts it (or filters): read the part it keeps
        return Piece(path), ident.uncompressed
    return _Kept(path, ident, covered, found), 0


def fold(
    root: Path | str,
    spec: FoldSpec[A],
    names: ToolNames = FLOWSPEC,
    *,
    window: Window | None = None,
    workers: int | None = None,
    summaries: bool = True,
) -> tuple[A, ReadStats]:
    """Fold every event of the project in `window` with `spec`; return it and the read's counts.

    `summaries=False` reads every archive (and writes no summary): the
    reference the summaries are tested against.
    """
    window = window or EVERYTHING
    distrust: set[Path] = set()
    while True:
        try:
            return _fold(
                Path(root, names.project_dir),
                spec,
                window=window,
                workers=workers,
                summaries=summaries,
                distrust=distrust,
            )
        except _Distrust as exc:  # a summary that did not hold what we write: read it instead
            distrust.add(exc.path)


class _Distrust(Exception):  # noqa: N818 - a signal, not an error
    def __init__(self, path: Path) -> None:
        super().__init__(str(path))
        self.path = path


def _fold(
    folder: Path,
    spec: FoldSpec[A],
    *,
    window: Window,
    workers: int | None,
    summaries: bool,
    distrust: set[Path],
) -> tuple[A, ReadStats]:
    slots: list[_Kept | Piece] = []
    todo_bytes = 0
    archives = archive_paths(folder)
    i = 0
    while i < len(archives):
        group = _plan_rollup(spec, archives, i, window, distrust) if summaries else None
        if group is not None:
            slots.append(group)
            i += len(group.summary.members)
            continue
        slot, cost = _plan_archive(spec, archives[i], window, summaries, distrust)
        slots.append(slot)
        todo_bytes += cost
        i += 1
    count = _workers() if workers is None else workers
    live = folder / EVENTS_FILE
    todo_bytes += _size(live)
    parallel = count > 1 and todo_bytes >= PARALLEL_MIN_BYTES
    slots.extend(_split(live, count) if parallel else [Piece(live)])
    jobs = [s for s in slots if isinstance(s, Piece)]
    if parallel and len(jobs) > 1:
        import functools

        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(min(count, len(jobs))) as pool:
            done = pool.imap(functools.partial(_run_job, spec, window), jobs, chunksize=1)
            return _merge_in_order(spec, slots, iter(done), window)
    return _merge_in_order(spec, slots, (_run_job(spec, window, job) for job in jobs), window)


class _Run:
    """Consecutive whole archives merged a second time, into a rollup-to-be."""

    def __init__(self, spec: FoldSpec[Any]) -> None:
        self.spec = spec
        self.acc = spec.new()
        self.summary = _summary.Summary()

    def reset(self) -> None:
        self.acc = self.spec.new()
        self.summary = _summary.Summary()

    def take(self, path: Path, ident: _summary.ArchiveId, summary: _summary.Summary) -> None:
        self.summary.members.append((path.name, ident))
        self.summary.add(summary)
        if len(self.summary.members) == ROLLUP_SIZE:
            self.write(path.with_name(self.summary.members[0][0]))

    def write(self, anchor: Path) -> None:
        old = _summary.load_rollup(anchor)
        if old is not None and old.members == self.summary.members:  # keep other folds' states
            self.summary.states.update(old.states)
        self.summary.states[self.spec.key] = self.spec.dump(self.acc)
        _summary.write_rollup(anchor, self.summary)
        self.reset()


def _merge_in_order(
    spec: FoldSpec[A],
    slots: list[_Kept | Piece],
    results: Iterator[tuple[A, ReadStats, _summary.Summary | None]],
    window: Window,
) -> tuple[A, ReadStats]:
    """Merge every part in file order (so ties keep the order a single pass gives them).

    Reading everything, runs of `ROLLUP_SIZE` archives merged one by one are
    also merged into a rollup, which later reads merge instead of its members.
    """
    total = spec.new()
    read = ReadStats()
    run = _Run(spec) if window.everything else None
    for slot in slots:
        if isinstance(slot, Piece):
            acc, part, summary = next(results)
            spec.merge(total, acc)
            if run is not None and summary is not None and slot.ident is not None:
                spec.merge(run.acc, acc)
                run.take(slot.path, slot.ident, summary)
            elif run is not None:
                run.reset()
        else:
            part = slot.read
            if slot.inside:
                state = _kept_state(spec, slot)
                _merge_state(spec, total, state, slot)
                if run is not None and not slot.rollup and slot.ident is not None:
                    _merge_state(spec, run.acc, state, slot)
                    run.take(slot.path, slot.ident, slot.summary)
                elif run is not None:
                    run.reset()
        read.events += part.events
        read.skipped += part.skipped
        read.files += part.files
    return total, read


def _kept_state(spec: FoldSpec[A], kept: _Kept) -> Any:
    """The state `kept` holds for `spec`; `_Distrust` when it is gone or changed."""
    if kept.rollup:
        found = _summary.load_rollup(kept.path)
        same = found is not None and found.members == kept.summary.members
        where = _summary.rollup_path(kept.path)
    else:
        assert kept.ident is not None  # noqa: S101 - an archive's slot has its identity
        found = _summary.load(kept.path, kept.ident)
        same = found is not None
        where = kept.path
    state = found.states.get(spec.key) if found is not None and same else None
    if state is None:  # removed or changed since it was planned
        raise _Distrust(where)
    return state


def _merge_state(spec: FoldSpec[A], total: A, state: Any, kept: _Kept) -> None:
    try:
        spec.merge_state(total, state)
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError):
        where = _summary.rollup_path(kept.path) if kept.rollup else kept.path
        raise _Distrust(where) from None
