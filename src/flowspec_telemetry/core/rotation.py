"""The storage lifecycle: rotation, compression, retention and the disk cap.

Rotation is crash-safe and never loses an event, even while other processes
append through descriptors they opened before the rotation:

1. Under an advisory lock (`telemetry.lock`, non-blocking: if another process
   is rotating, we let it), the live file is renamed to
   `telemetry-pending-<UTC date>-<n>.jsonl`. A rename is atomic: a crash
   leaves either the live file or the pending one, both readable.
2. Writers that still hold a descriptor on it keep appending there until they
   notice (they check at least once a second, `tracker.REVALIDATE_SECONDS`),
   then open the new live file. Readers read pending files like archives.
3. Compression and the rest never run inside the caller's `track()`: the
   rotating process starts a daemon thread (zlib and fsync release the GIL,
   so the host's own threads keep running) that waits out the grace period
   and compacts; if the process ends first, the next rotation does it.
   A pending file idle for `GRACE_SECONDS` is compressed to
   `telemetry-<date>-<n>.jsonl.gz`: written to a temporary name, synced,
   renamed, and only then is the pending file removed. Readers prefer the
   archive when both exist, so a crash between the last two steps leaves no
   duplicates, and a crash before them leaves the pending file to retry.
4. Archives older than the retention period are deleted, then the oldest
   archives go until the total is under the disk cap; an archive's summary
   (`history._summary`) goes with it, and a summary whose archive is gone is
   removed.

The line count toward `max_events` is kept by the writer (`LineCount`): each
check counts only the bytes appended since the last one, so a nearly full
file is never read again from its start.
"""

from __future__ import annotations

import fcntl
import os
import re
import time

from flowspec_telemetry.core._files import write_private
from flowspec_telemetry.core.names import FLOWSPEC, ToolNames
from flowspec_telemetry.core.store import ARCHIVE_RE, EVENTS_FILE, PENDING_RE, SUMMARY_RE

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Final

    from flowspec_telemetry.core.names import StrPath

__all__ = [
    "GRACE_SECONDS",
    "LOCK_FILE",
    "MIN_LINE_BYTES",
    "Policy",
    "compact",
    "count_lines",
    "enforce_limits",
    "rotate_if_due",
]

LOCK_FILE: Final = "telemetry.lock"
COMPACT_LOCK_FILE: Final = "telemetry-compact.lock"
GRACE_SECONDS: Final = 5.0
MIN_LINE_BYTES: Final = 150  # no event line is shorter: bounds how soon to count again
_TMP_RE: Final = r"^\.telemetry-.*\.tmp$"


class Policy:
    """Limits of the store; `from_env` lets a person (or a test) change them."""

    __slots__ = ("max_bytes", "max_events", "max_total_bytes", "retention_days")

    def __init__(
        self,
        max_events: int = 10_000,
        max_bytes: int = 8 << 20,
        retention_days: int = 90,
        max_total_bytes: int = 50 << 20,
    ) -> None:
        self.max_events = max_events
        self.max_bytes = max_bytes
        self.retention_days = retention_days
        self.max_total_bytes = max_total_bytes

    @classmethod
    def from_env(cls, names: ToolNames = FLOWSPEC) -> Policy:
        """Defaults, overridden by `FLOWSPEC_TELEMETRY_MAX_EVENTS`, `..._MAX_FILE_MB`,
        `..._RETENTION_DAYS` and `..._MAX_TOTAL_MB` (whole numbers > 0).

        Each is capped (`_CAPS`): a number past the cap means "as much as
        possible", so `RETENTION_DAYS=99999999999999` keeps archives for
        MAX_RETENTION_DAYS instead of a date before year 1 that no clock can
        compute. Digits are ASCII only (`"١٢".isdigit()` is True in Python).
        """
        policy = cls()
        for suffix, attr, scale in (
            ("TELEMETRY_MAX_EVENTS", "max_events", 1),
            ("TELEMETRY_MAX_FILE_MB", "max_bytes", 1 << 20),
            ("TELEMETRY_RETENTION_DAYS", "retention_days", 1),
            ("TELEMETRY_MAX_TOTAL_MB", "max_total_bytes", 1 << 20),
        ):
            raw = os.environ.get(names.env(suffix), "").strip()
            if raw.isascii() and raw.isdigit() and 0 < len(raw) <= 30 and int(raw) > 0:
                setattr(policy, attr, min(int(raw), _CAPS[attr]) * scale)
        return policy


MAX_RETENTION_DAYS: Final = 36_525  # a century: later cut-offs are all "keep everything"
_CAPS: Final = {
    "max_events": 10**9,
    "max_bytes": 1 << 20,  # MiB: a TiB per live file
    "retention_days": MAX_RETENTION_DAYS,
    "max_total_bytes": 1 << 30,  # MiB: a PiB in total
}


def count_lines(path: StrPath, start: int = 0) -> int:
    """Newlines in a file from byte `start` on, read in blocks (memory stays flat)."""
    n = 0
    with open(path, "rb") as fh:
        if start:
            fh.seek(start)
        while block := fh.read(1 << 20):
            n += block.count(b"\n")
    return n


class LineCount:
    """How many lines a live file held when last counted, and up to which byte.

    The tracker keeps one per project, so a check counts only what was
    appended since the previous one (by any process); another file under the
    same name (rotated, cleared) or a shorter one is counted again from zero.
    """

    __slots__ = ("file", "lines", "offset")

    def __init__(self) -> None:
        self.file: tuple[int, int] | None = None
        self.offset = 0
        self.lines = 0

    def update(self, path: StrPath, st: os.stat_result) -> int:
        """The line count of `path` (whose `stat` is `st`) now."""
        file = (st.st_dev, st.st_ino)
        if file != self.file or st.st_size < self.offset:
            self.file, self.offset, self.lines = file, 0, 0
        self.lines += count_lines(path, self.offset)
        self.offset = st.st_size
        return self.lines


def _utc_day(epoch: float | None = None) -> str:
    return time.strftime("%Y%m%d", time.gmtime(time.time() if epoch is None else epoch))


def _next_sequence(folder: StrPath, day: str) -> int:
    highest = 0
    for name in os.listdir(folder):
        m = ARCHIVE_RE.match(name) or PENDING_RE.match(name)
        if m and m.group(1) == day:
            highest = max(highest, int(m.group(2)))
    return highest + 1


class _Lock:
    """A non-blocking exclusive `flock`; `acquired` is False when someone else holds it."""

    def __init__(self, folder: StrPath, name: str = LOCK_FILE) -> None:
        self.fd = os.open(
            os.path.join(folder, name),
            os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC,
            0o600,
        )
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            self.acquired = True
        except BlockingIOError:
            self.acquired = False

    def __enter__(self) -> _Lock:
        return self

    def __exit__(self, *exc: object) -> None:
        os.close(self.fd)  # closing releases the lock


def rotate_if_due(
    folder: StrPath, policy: Policy, counted: LineCount | None = None, *, background: bool = True
) -> int | None:
    """Rotate the live file if it holds `max_events` lines or `max_bytes` bytes.

    Returns None when it rotated (or another process is rotating), else the
    file size at which it is worth counting again. `counted` carries the
    count from the previous check; compaction runs in a daemon thread
    (`background`, the tracker's way) or here.
    """
    live = os.path.join(folder, EVENTS_FILE)
    with _Lock(folder) as lock:
        if not lock.acquired:
            return None
        try:
            st = os.stat(live, follow_symlinks=False)
        except FileNotFoundError:
            return None
        size = st.st_size
        if size < policy.max_bytes:
            lines = (counted or LineCount()).update(live, st)
            if lines < policy.max_events:
                return size + (policy.max_events - lines) * MIN_LINE_BYTES
        day = _utc_day()
        pending = os.path.join(
            folder, f"telemetry-pending-{day}-{_next_sequence(folder, day)}.jsonl"
        )
        os.rename(live, pending)
    if background:
        compact_in_background(folder, policy)
    else:
        compact(folder, policy)
    return None


_compacting: set[str] = set()  # folders a thread of this process is compacting


def compact_in_background(folder: StrPath, policy: Policy, *, delay: float | None = None) -> None:
    """Compact `folder` in a daemon thread once the grace period has passed.

    Never raises and never waits: the caller is a host's `track()`. A thread
    already compacting the folder is left to do it.
    """
    import threading  # only on rotation: the tracking path does not need it otherwise

    key = os.fspath(folder)
    if key in _compacting:
        return
    _compacting.add(key)
    wait = GRACE_SECONDS + 0.5 if delay is None else delay

    def work() -> None:
        try:
            time.sleep(wait)
            with _Lock(folder, COMPACT_LOCK_FILE) as lock:
                if lock.acquired:  # else another process is compacting
                    compact(folder, policy)
        except Exception:  # noqa: S110 - a background tidy-up must never disturb the host
            pass
        finally:
            _compacting.discard(key)

    threading.Thread(target=work, name="flowspec-telemetry-compact", daemon=True).start()


def compact(
    folder: StrPath, policy: Policy, *, grace: float = GRACE_SECONDS, now: float | None = None
) -> None:
    """Compress idle pending files, drop leftovers, apply retention and the disk cap."""
    now = time.time() if now is None else now
    for entry in list(os.scandir(folder)):
        if (
            re.match(_TMP_RE, entry.name)
            and entry.stat(follow_symlinks=False).st_mtime < now - grace
        ):
            _unlink(entry.path)  # a compression that died half-way
        m = PENDING_RE.match(entry.name)
        if not m or not entry.is_file(follow_symlinks=False):
            continue
        if entry.stat(follow_symlinks=False).st_mtime > now - grace:
            continue  # a writer may still hold a descriptor on it
        archive = os.path.join(folder, f"telemetry-{m.group(1)}-{m.group(2)}.jsonl.gz")
        if not os.path.exists(archive):  # temp, sync, rename: `_files.write_private`
            write_private(archive, _gzipped(entry.path))
        _unlink(entry.path)
    enforce_limits(folder, policy, now=now)


def _gzipped(path: str) -> Iterator[bytes]:
    """The gzip stream of a file, a block at a time (header mtime 0: same bytes, same archive)."""
    import zlib  # only here: rotation is rare

    packer = zlib.compressobj(6, zlib.DEFLATED, 31)  # wbits 31: gzip; level 6: 3x faster than 9
    with open(path, "rb") as src:
        while block := src.read(1 << 20):
            yield packer.compress(block)
    yield packer.flush()


def enforce_limits(folder: StrPath, policy: Policy, *, now: float | None = None) -> list[str]:
    """Delete archives past retention, then the oldest until under the disk cap.

    Returns the names deleted. The live file and pending files are never
    deleted here: only compressed archives are.
    """
    now = time.time() if now is None else now
    days = max(0, min(policy.retention_days, MAX_RETENTION_DAYS))  # a Policy built in code too
    cutoff = _utc_day(max(0.0, now - days * 86_400))
    archives: list[tuple[str, int, str, int]] = []
    summaries: dict[tuple[str, int], list[tuple[str, int]]] = {}
    kept: set[tuple[str, int]] = set()  # (date, number) of every archive or pending file
    total = 0
    for entry in os.scandir(folder):
        if not entry.is_file(follow_symlinks=False):
            continue
        size = entry.stat(follow_symlinks=False).st_size
        pending = PENDING_RE.match(entry.name)
        if entry.name == EVENTS_FILE or pending:
            total += size
            if pending:
                kept.add((pending.group(1), int(pending.group(2))))
            continue
        m = ARCHIVE_RE.match(entry.name)
        if m:
            archives.append((m.group(1), int(m.group(2)), entry.path, size))
            kept.add((m.group(1), int(m.group(2))))
            total += size
        elif s := SUMMARY_RE.match(entry.name):
            summaries.setdefault((s.group(1), int(s.group(2))), []).append((entry.path, size))
            total += size
    for key, found in list(summaries.items()):
        if key not in kept:  # its archive is gone: nothing to summarise
            for path, size in found:
                _unlink(path)
                total -= size
            del summaries[key]
    archives.sort()
    deleted = []
    for day, number, path, size in archives:
        if day < cutoff or total > policy.max_total_bytes:
            _unlink(path)
            total -= size
            deleted.append(os.path.basename(path))
            for summary, summary_size in summaries.pop((day, number), []):
                _unlink(summary)
                total -= summary_size
    return deleted


def _unlink(path: StrPath) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
