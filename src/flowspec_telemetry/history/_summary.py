"""Summaries of rotated archives: what the readers need, kept beside each archive.

A rotated archive (`telemetry-<date>-<n>.jsonl.gz`) never changes, yet every
answer used to parse every archive again. The first reader that folds an
archive writes `telemetry-<date>-<n>.summary.json` beside it: for each fold
that asked (`key`, e.g. the stats or the insights accumulator), the partial
result of folding every event of the archive, plus what the reader needs to
decide whether it may use it for a window: the events and skipped lines
read, the earliest and latest timestamp (compared as text, as the window
is), the events without a text timestamp, and the events per UTC day.

Trust. A summary is used only when all of these hold, else the archive is
read again and the summary rewritten: it parses, its `format` is ours, it
names the archive's size, modification time, inode and gzip trailer (CRC-32
and length of the uncompressed data, so a rewrite of the same size and time
is caught too), and the fold's own check of its state passes. A summary is
never followed through a symbolic link, is written 0600 through a temporary
file and a rename, and holds nothing the events it summarises do not: the
same labels, keyed hashes and counts, never a raw value.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import Any, Final

import orjson

__all__ = [
    "FORMAT",
    "SUFFIX",
    "ArchiveId",
    "Summary",
    "archive_id",
    "load",
    "summary_path",
    "write",
]

FORMAT: Final = 1
SUFFIX: Final = ".summary.json"
MAX_SUMMARY_BYTES: Final = 64 << 20  # larger is not ours: refused unread


class ArchiveId:
    """What identifies an archive's bytes, cheaply: stat fields plus the gzip trailer."""

    __slots__ = ("ino", "mtime_ns", "size", "trailer")

    def __init__(self, size: int, mtime_ns: int, ino: int, trailer: str) -> None:
        self.size, self.mtime_ns, self.ino, self.trailer = size, mtime_ns, ino, trailer

    def to_json(self) -> dict[str, Any]:
        return {
            "size": self.size,
            "mtime_ns": self.mtime_ns,
            "ino": self.ino,
            "trailer": self.trailer,
        }

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ArchiveId) and self.to_json() == other.to_json()

    __hash__ = None  # type: ignore[assignment]

    @property
    def uncompressed(self) -> int:
        """The archive's uncompressed size (modulo 4 GiB, from the trailer)."""
        return int.from_bytes(bytes.fromhex(self.trailer)[4:], "little") if self.trailer else 0


def summary_path(archive: Path) -> Path:
    """`telemetry-<date>-<n>.summary.json` beside `telemetry-<date>-<n>.jsonl.gz`
    (the name `store.SUMMARY_RE` matches, which rotation and `clear` know)."""
    name = archive.name
    stem = name[: -len(".jsonl.gz")] if name.endswith(".jsonl.gz") else name
    return archive.with_name(stem + SUFFIX)


def archive_id(archive: Path) -> ArchiveId | None:
    """The archive's identity, or None when it cannot be read as a plain file."""
    try:
        fd = os.open(archive, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return None
        trailer = os.pread(fd, 8, st.st_size - 8) if st.st_size >= 8 else b""
    except OSError:
        return None
    finally:
        os.close(fd)
    return ArchiveId(st.st_size, st.st_mtime_ns, st.st_ino, trailer.hex())


class Summary:
    """One archive's summary: read stats, time range and the states of folds by key."""

    __slots__ = ("days", "events", "max_ts", "min_ts", "skipped", "states", "untimed")

    def __init__(self) -> None:
        self.events = 0
        self.skipped = 0
        self.untimed = 0  # events whose timestamp is not text: no window keeps them
        self.min_ts: str | None = None
        self.max_ts: str | None = None
        self.days: dict[str, int] = {}
        self.states: dict[str, Any] = {}

    def see(self, event: dict[str, Any]) -> None:
        """Note one event's timestamp (the fold's state is kept by the caller)."""
        ts = event.get("timestamp")
        if type(ts) is not str:
            self.untimed += 1
            return
        if self.min_ts is None or ts < self.min_ts:
            self.min_ts = ts
        if self.max_ts is None or ts > self.max_ts:
            self.max_ts = ts
        day = ts[:10]
        self.days[day] = self.days.get(day, 0) + 1

    def covered(self, since: str | None, until: str | None) -> bool | None:
        """True: every event is in [since, until); False: none is; None: the window cuts it."""
        if since is None and until is None:
            return True
        if self.min_ts is None or self.max_ts is None:
            return False  # no event has a text timestamp: no window keeps any
        if (since is not None and self.max_ts < since) or (
            until is not None and self.min_ts >= until
        ):
            return False
        inside = (since is None or self.min_ts >= since) and (until is None or self.max_ts < until)
        return True if inside and not self.untimed else None

    def to_json(self, ident: ArchiveId) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "archive": ident.to_json(),
            "events": self.events,
            "skipped": self.skipped,
            "untimed": self.untimed,
            "min_ts": self.min_ts,
            "max_ts": self.max_ts,
            "days": self.days,
            "states": self.states,
        }

    @classmethod
    def from_json(cls, data: Any, ident: ArchiveId) -> Summary | None:
        """The summary in `data` if it is well formed and names `ident`; else None."""
        if type(data) is not dict or data.get("format") != FORMAT:
            return None
        if data.get("archive") != ident.to_json():
            return None  # stale: the archive changed (or this is another archive's summary)
        out = cls()
        try:
            for name in ("events", "skipped", "untimed"):
                value = data[name]
                if type(value) is not int or value < 0:
                    return None
                setattr(out, name, value)
            for name in ("min_ts", "max_ts"):
                value = data[name]
                if value is not None and type(value) is not str:
                    return None
                setattr(out, name, value)
            days, states = data["days"], data["states"]
        except KeyError:
            return None
        if type(days) is not dict or not all(type(n) is int for n in days.values()):
            return None
        if type(states) is not dict:
            return None
        if (out.min_ts is None) != (out.max_ts is None):
            return None
        out.days, out.states = days, states
        return out


def load(archive: Path, ident: ArchiveId) -> Summary | None:
    """The archive's summary when present, ours, current and well formed; else None."""
    path = summary_path(archive)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError:
        return None  # absent, a symbolic link (ELOOP), unreadable: rebuilt
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_SUMMARY_BYTES:
            return None
        with os.fdopen(fd, "rb", closefd=False) as fh:
            raw = fh.read(MAX_SUMMARY_BYTES + 1)
    except OSError:
        return None
    finally:
        os.close(fd)
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    return Summary.from_json(data, ident)


def write(archive: Path, ident: ArchiveId, summary: Summary) -> bool:
    """Write the summary beside its archive (0600, atomically); False when it cannot be.

    A reader that cannot write (a read-only folder, a full disk) still
    answers: it just reads the archive again next time.
    """
    path = summary_path(archive)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    data = orjson.dumps(summary.to_json(ident))
    try:
        fd = os.open(
            tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600
        )
    except OSError:
        return False
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            if written <= 0:
                raise OSError(errno.ENOSPC, "short write")
            view = view[written:]
        os.close(fd)
        fd = -1
        os.rename(tmp, path)  # replaces a symbolic link itself, never its target
        return True
    except OSError:
        if fd >= 0:
            os.close(fd)
        try:
            os.unlink(tmp)
        except OSError:
            pass
        return False
