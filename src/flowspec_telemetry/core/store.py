"""Where events live: `.flowspec/telemetry.jsonl`, plus rotated archives.

Writing: each event is one `write()` on an `O_APPEND` descriptor, so lines from
concurrent processes never interleave (POSIX appends are atomic for regular
files at these sizes). The file is opened with `O_NOFOLLOW` and must be a
regular file, so a symlink planted at the telemetry path is refused and its
target is never touched. If the previous writer died mid-line, the next event
starts with a newline of its own, so only the torn line is lost.

Reading: streamed in fixed-size chunks, so memory does not grow with history
size or with a pathological line; malformed, truncated and binary lines are
skipped and counted, never fatal.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections import deque
from collections.abc import Iterator

from flowspec_telemetry.core.errors import StoreError
from flowspec_telemetry.core.events import parse_line
from flowspec_telemetry.core.names import FLOWSPEC, ToolNames

TYPE_CHECKING = False
if TYPE_CHECKING:  # the tracking path never imports typing or pathlib
    from pathlib import Path
    from typing import IO, Any, Final, Protocol

    from flowspec_telemetry.core.names import StrPath

    class _Readable(Protocol):
        def read(self, size: int = ..., /) -> bytes: ...


__all__ = [
    "ARCHIVE_RE",
    "EVENTS_FILE",
    "GITIGNORE",
    "GITIGNORE_BODY",
    "GITIGNORE_MARK",
    "MAX_READ_LINE",
    "PENDING_RE",
    "Appender",
    "FileGone",
    "ReadStats",
    "append_line",
    "archive_paths",
    "ensure_project_dir",
    "events_path",
    "iter_backwards",
    "iter_events",
    "iter_file",
    "line_batches",
    "open_for_reading",
    "read_batches",
    "tail_events",
    "tail_file",
]


EVENTS_FILE: Final = "telemetry.jsonl"
ARCHIVE_RE: Final = re.compile(r"^telemetry-(\d{8})-(\d+)\.jsonl\.gz$")
# A rotated file not yet compressed (see `rotation`): read like an archive.
PENDING_RE: Final = re.compile(r"^telemetry-pending-(\d{8})-(\d+)\.jsonl$")
# What the readers keep about an archive (`history._summary`): beside it, same date and number.
SUMMARY_RE: Final = re.compile(r"^telemetry-(\d{8})-(\d+)\.(?:summary|rollup)\.json$")
GITIGNORE: Final = ".gitignore"
GITIGNORE_MARK: Final = "# flowspec-telemetry: local usage analytics never belong in git"
GITIGNORE_BODY: Final = f"{GITIGNORE_MARK}\ntelemetry*\n.telemetry*\n"
_CHUNK: Final = 1 << 20
MAX_READ_LINE: Final = 1 << 20  # longer lines are skipped without being held in memory
_APPEND_FLAGS: Final = (
    os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
)


class FileGone(StoreError):  # noqa: N818 - a signal to reopen, not a failure
    """The kept-open file was deleted: the caller reopens the path and writes again."""


class ReadStats:
    """What a read saw: events returned and lines skipped as unreadable."""

    __slots__ = ("events", "files", "skipped")

    def __init__(self, events: int = 0, skipped: int = 0, files: int = 0) -> None:
        self.events = events
        self.skipped = skipped
        self.files = files

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ReadStats) and (self.events, self.skipped, self.files) == (
            other.events,
            other.skipped,
            other.files,
        )

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"ReadStats(events={self.events}, skipped={self.skipped}, files={self.files})"


def events_path(root: StrPath, names: ToolNames = FLOWSPEC) -> Path:
    from pathlib import Path

    return Path(root, names.project_dir, EVENTS_FILE)


def ensure_project_dir(root: StrPath, names: ToolNames = FLOWSPEC) -> str:
    """Create `.flowspec/` (0700) with its `.gitignore`, refusing a symlinked folder.

    Returns the folder as text (the tracking path never imports pathlib).
    """
    folder = os.path.join(root, names.project_dir)
    try:
        st = os.lstat(folder)
    except FileNotFoundError:
        os.mkdir(folder, 0o700)
        st = os.lstat(folder)
    if stat.S_ISLNK(st.st_mode):
        raise StoreError(
            errno.ELOOP, f"{names.project_dir} is a symbolic link; refusing to write through it"
        )
    if not stat.S_ISDIR(st.st_mode):
        raise StoreError(errno.ENOTDIR, f"{names.project_dir} is not a folder")
    if st.st_mode & 0o077:  # made by an older version, a copy or a loose umask
        try:
            os.chmod(folder, stat.S_IMODE(st.st_mode) & ~0o077, follow_symlinks=False)
        except (OSError, NotImplementedError):
            pass  # `status` reports what could not be tightened
    _ensure_gitignore(folder)
    return folder


def _ensure_gitignore(folder: str) -> None:
    path = os.path.join(folder, GITIGNORE)
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            current = fh.read(65536)
    except FileNotFoundError:
        current = None
    if current is not None and GITIGNORE_MARK in current:
        return
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    try:
        prefix = "\n" if current and not current.endswith("\n") else ""
        os.write(fd, (prefix + GITIGNORE_BODY).encode())
    finally:
        os.close(fd)


def append_line(path: StrPath, line: bytes) -> None:
    """Append one line with a single `write()` on a fresh descriptor; raise `OSError` on failure."""
    appender = Appender(path)
    try:
        appender.append(line)
    finally:
        appender.close()


class Appender:
    """A kept-open `O_APPEND` descriptor on the telemetry file.

    Opening the file for every event costs more than the rest of `track()`, so
    the tracker keeps one descriptor per project. Each `append` is one
    `write()`; the file must be a regular file (opened with `O_NOFOLLOW`, so a
    symlink is refused). If another writer left a torn last line (it died
    mid-write, or hit a full disk), the next line starts with a newline of its
    own; that check reads one byte, and only when someone else wrote since our
    last append. `stale()` tells when the path now names another file (rotated
    or cleared), so the owner reopens; `append` returns the file's new size so
    the owner can decide to rotate.
    """

    __slots__ = ("_end", "fd", "ino", "path")

    def __init__(self, path: StrPath) -> None:
        self.path = os.fspath(path)
        fd = os.open(self.path, _APPEND_FLAGS, 0o600)
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise StoreError(errno.EINVAL, "the telemetry file is not a regular file")
            if st.st_mode & 0o077:  # an old or copied file: make it private again
                os.fchmod(fd, stat.S_IMODE(st.st_mode) & ~0o077)
        except BaseException:
            os.close(fd)
            raise
        self.fd = fd
        self.ino = (st.st_dev, st.st_ino)
        self._end = -1  # size after our last append; -1: check the last byte

    def append(self, line: bytes) -> int:
        fd = self.fd
        if fd < 0:
            raise FileGone(errno.EBADF, "the telemetry file was closed; reopen it")
        try:
            st = os.fstat(fd)
        except OSError:  # closed by someone else: the number is not ours any more
            self.fd = -1
            raise
        if (st.st_dev, st.st_ino) != self.ino:
            # Someone (a host closing every descriptor) closed ours and the number
            # now names a file of theirs: never write to it, never close it.
            self.fd = -1
            raise FileGone(errno.EBADF, "the telemetry descriptor was reused; reopen it")
        if st.st_nlink == 0:  # deleted under us (clear, or compaction after a rotation)
            raise FileGone(errno.ENOENT, "the telemetry file was removed; reopen it")
        size = st.st_size
        if size and size != self._end and self._torn(size):
            line = b"\n" + line  # the last writer died mid-line: start clean
        written = os.write(fd, line)
        if written != len(line):
            self._end = -1
            raise StoreError(errno.ENOSPC, f"short write ({written} of {len(line)} bytes)")
        self._end = size + written
        return self._end

    def _torn(self, size: int) -> bool:
        """Whether the file ends mid-line. A neighbour's append in progress can show a
        partly copied line for a moment, so only a size that holds still counts."""
        fd = self.fd
        for _ in range(3):
            if os.pread(fd, 1, size - 1) == b"\n":
                return False
            now = os.lseek(fd, 0, os.SEEK_END)
            if now == size:
                return True
            size = now
        return False

    def stale(self) -> bool:
        """Whether the path no longer names our file (rotated, cleared or replaced)."""
        if self.fd < 0:
            return True
        try:
            st = os.stat(self.path, follow_symlinks=False)
        except OSError:
            return True
        return (st.st_dev, st.st_ino) != self.ino or os.fstat(self.fd).st_nlink == 0

    def close(self) -> None:
        fd = getattr(self, "fd", -1)  # -1 too when __init__ failed before opening
        self.fd = -1
        if fd >= 0:
            try:
                st = os.fstat(fd)
                if (st.st_dev, st.st_ino) == self.ino:  # else the number is someone else's now
                    os.close(fd)
            except OSError:
                pass  # already closed (e.g. by a host closing every descriptor)

    def __del__(self) -> None:  # a dropped tracker must not keep the file open
        self.close()


# ---------------------------------------------------------------------- reading


def archive_paths(folder: StrPath) -> list[Path]:
    """Rotated files, oldest first (by UTC date, then sequence number).

    Compressed archives and rotated files still waiting to be compressed share
    one numbering; where both exist for a number (a compression finished but
    its source was not yet removed), only the archive is read.
    """
    from pathlib import Path

    found: dict[tuple[str, int], tuple[int, Path]] = {}
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    for entry in entries:
        m = ARCHIVE_RE.match(entry.name)
        rank = 0
        if m is None:
            m = PENDING_RE.match(entry.name)
            rank = 1
        if m and entry.is_file(follow_symlinks=False):
            key = (m.group(1), int(m.group(2)))
            if key not in found or rank < found[key][0]:
                found[key] = (rank, Path(entry.path))
    return [found[key][1] for key in sorted(found)]


def open_for_reading(path: StrPath) -> IO[bytes]:
    """Open a store file for reading without following a symbolic link.

    Raises FileNotFoundError when absent, and `StoreError` for a link: the
    tracker never writes through one, so the readers never read through one.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise StoreError(
                errno.ELOOP, f"{os.path.basename(path)} is a symbolic link; refusing to read it"
            ) from None
        raise
    fh = os.fdopen(fd, "rb")
    if os.fspath(path).endswith(".gz"):
        import gzip  # readers only: the tracking path never needs it

        return gzip.GzipFile(fileobj=fh, mode="rb")  # type: ignore[return-value]
    return fh


_OVERLONG = b"\0"  # stands for a line too long to hold; never parses


def line_batches(fh: _Readable) -> Iterator[list[bytes]]:
    """Lists of complete lines of a binary stream, one list per 1 MiB chunk read.

    A line longer than `MAX_READ_LINE` is never held in memory: it comes out
    as one unparseable `b"\\0"`, so it is counted as skipped like any bad line.
    """
    rest = b""
    overlong = False
    while True:
        chunk = fh.read(_CHUNK)
        if not chunk:
            break
        parts = (rest + chunk).split(b"\n") if rest else chunk.split(b"\n")
        rest = parts.pop()
        if overlong and parts:
            parts[0] = _OVERLONG
            overlong = False
        if parts:
            yield parts
        if len(rest) > MAX_READ_LINE:
            rest = b""
            overlong = True
    if overlong:
        yield [_OVERLONG]
    elif rest:
        yield [rest]


def read_batches(path: StrPath, stats: ReadStats) -> Iterator[list[bytes]]:
    """`line_batches` of one store file (plain or `.gz`, never through a link).

    An absent file yields nothing; a damaged archive yields what could be read
    and counts the rest as one skipped line.
    """
    try:
        fh = open_for_reading(path)
    except FileNotFoundError:
        return
    stats.files += 1
    with fh:
        try:
            yield from line_batches(fh)
        except (OSError, EOFError):  # gzip.BadGzipFile is an OSError
            stats.skipped += 1


def iter_file(path: StrPath, stats: ReadStats | None = None) -> Iterator[dict[str, Any]]:
    """Events of one file (plain or `.gz`), skipping and counting bad lines.

    The reference reader: `events.parse_line` on every line (`scan` is the
    faster twin the CLI uses, held equal to this by a property test).
    """
    stats = stats if stats is not None else ReadStats()
    for parts in read_batches(path, stats):
        for raw in parts:
            if not raw.strip():
                continue
            event = parse_line(raw)
            if event is None:
                stats.skipped += 1
            else:
                stats.events += 1
                yield event


def iter_events(
    root: StrPath, names: ToolNames = FLOWSPEC, stats: ReadStats | None = None
) -> Iterator[dict[str, Any]]:
    """Every stored event, archives first, in the order written."""
    folder = os.path.join(root, names.project_dir)
    for archive in archive_paths(folder):
        yield from iter_file(archive, stats)
    yield from iter_file(os.path.join(folder, EVENTS_FILE), stats)


def iter_backwards(path: StrPath, stats: ReadStats | None = None) -> Iterator[dict[str, Any]]:
    """Events of a plain file, newest first, reading 64 KiB blocks from its end.

    Only as many blocks are read as the caller consumes, so `view` answers at
    once on any history size, with or without filters.
    """
    stats = stats if stats is not None else ReadStats()
    try:
        fh = open_for_reading(path)
    except FileNotFoundError:
        return
    stats.files += 1
    with fh:
        pos = fh.seek(0, os.SEEK_END)
        carry = b""
        block = 64 * 1024
        while pos > 0:
            step = min(block, pos)
            pos -= step
            fh.seek(pos)
            lines = (fh.read(step) + carry).split(b"\n")
            carry = lines.pop(0) if pos > 0 else b""
            if len(carry) > MAX_READ_LINE:
                carry = b"\0"
            for raw in reversed(lines):
                if not raw.strip():
                    continue
                event = parse_line(raw)
                if event is None:
                    stats.skipped += 1
                    continue
                stats.events += 1
                yield event


def tail_file(path: StrPath, n: int, stats: ReadStats | None = None) -> list[dict[str, Any]]:
    """The last `n` readable events of a plain file, oldest first (see `iter_backwards`)."""
    found: deque[dict[str, Any]] = deque()
    if n <= 0:
        return []
    for event in iter_backwards(path, stats):
        found.appendleft(event)
        if len(found) >= n:
            break
    return list(found)


def tail_events(
    root: StrPath, n: int, names: ToolNames = FLOWSPEC, stats: ReadStats | None = None
) -> list[dict[str, Any]]:
    """The last `n` events across the live file and, when it has fewer, the archives."""
    folder = os.path.join(root, names.project_dir)
    events = tail_file(os.path.join(folder, EVENTS_FILE), n, stats)
    for archive in reversed(archive_paths(folder)):
        if len(events) >= n:
            break
        window: deque[dict[str, Any]] = deque(iter_file(archive, stats), maxlen=n - len(events))
        events = list(window) + events
    return events
