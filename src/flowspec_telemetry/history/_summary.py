"""Summaries of rotated archives: what the readers need, kept beside each archive.

A rotated archive (`telemetry-<date>-<n>.jsonl.gz`) never changes, yet every
answer used to parse every archive again. The first reader that folds an
archive writes `telemetry-<date>-<n>.summary.json` beside it: for each fold
that asked (`key`, e.g. the stats or the insights accumulator), the partial
result of folding every event of the archive, plus what the reader needs to
decide whether it may use it for a window: the events and skipped lines
read, the earliest and latest timestamp (compared as text, as the window
is) and the events without a text timestamp. A window that covers the whole
archive merges its state; one that misses it skips it; one that cuts it (at
most the archives at its two ends, a rotation's worth of events each) reads
that archive's lines. Counts per UTC day are part of the insights state
(`activity.by_day`), so a one-day window over whole archives never parses.

A rollup (`telemetry-<date>-<n>.rollup.json`, beside the first archive of
its run) is the same thing for a run of consecutive archives: the merged
states, the summed counts, and each member's name and identity. It is used
only while every member is still there, unchanged, in the same order.

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

import os
import stat
from pathlib import Path
from typing import Any, Final

import orjson

from flowspec_telemetry.core._files import write_private

__all__ = [
    "FORMAT",
    "ROLLUP_SUFFIX",
    "SUFFIX",
    "ArchiveId",
    "Summary",
    "archive_id",
    "load",
    "load_rollup",
    "rollup_path",
    "summary_path",
    "write",
    "write_rollup",
]

FORMAT: Final = 2
SUFFIX: Final = ".summary.json"
ROLLUP_SUFFIX: Final = ".rollup.json"
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


def rollup_path(anchor: Path) -> Path:
    """`telemetry-<date>-<n>.rollup.json`: the merged summaries of a run of archives
    (`reader.ROLLUP_SIZE` of them) that starts at `anchor`."""
    return summary_path(anchor).with_name(summary_path(anchor).name[: -len(SUFFIX)] + ROLLUP_SUFFIX)


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
    """One archive's summary: read stats, time range and the states of folds by key.

    On disk it is two lines of JSON: a small header (everything but the
    states, plus which keys it holds), then the states. The reader plans
    with the header alone and parses the states only of the archives it
    merges, once.
    """

    __slots__ = ("events", "keys", "max_ts", "members", "min_ts", "skipped", "states", "untimed")

    def __init__(self) -> None:
        self.events = 0
        self.skipped = 0
        self.untimed = 0  # events whose timestamp is not text: no window keeps them
        self.min_ts: str | None = None
        self.max_ts: str | None = None
        self.keys: frozenset[str] = frozenset()
        self.states: dict[str, Any] = {}
        self.members: list[tuple[str, ArchiveId]] = []  # a rollup's archives, in order

    def see_all(self, timestamps: list[Any]) -> None:
        """Note the events' timestamps (earliest, latest, how many are not text)."""
        texts = [ts for ts in timestamps if type(ts) is str]
        self.untimed += len(timestamps) - len(texts)
        if texts:
            lo, hi = min(texts), max(texts)
            self.min_ts = lo if self.min_ts is None or lo < self.min_ts else self.min_ts
            self.max_ts = hi if self.max_ts is None or hi > self.max_ts else self.max_ts

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

    def add(self, other: Summary) -> None:
        """Take in the counts and time range of the next archive of a run (a rollup)."""
        self.events += other.events
        self.skipped += other.skipped
        self.untimed += other.untimed
        for ts in (other.min_ts, other.max_ts):
            if ts is not None:
                self.min_ts = ts if self.min_ts is None or ts < self.min_ts else self.min_ts
                self.max_ts = ts if self.max_ts is None or ts > self.max_ts else self.max_ts

    def header(self, ident: ArchiveId | None) -> dict[str, Any]:
        where: dict[str, Any] = (
            {"archive": ident.to_json()}
            if ident is not None
            else {"members": [[name, i.to_json()] for name, i in self.members]}
        )
        return {
            "format": FORMAT,
            **where,
            "events": self.events,
            "skipped": self.skipped,
            "untimed": self.untimed,
            "min_ts": self.min_ts,
            "max_ts": self.max_ts,
            "keys": sorted(self.states),
        }

    @classmethod
    def from_header(cls, data: Any, ident: ArchiveId | None) -> Summary | None:
        """The summary `data` describes if it is well formed and names `ident` (or, for a
        rollup, `ident` None, its members); else None."""
        if type(data) is not dict or data.get("format") != FORMAT:
            return None
        out = cls()
        if ident is None:
            members = data.get("members")
            if type(members) is not list or not members:
                return None
            for item in members:
                if type(item) is not list or len(item) != 2 or type(item[0]) is not str:
                    return None
                fields = item[1]
                if type(fields) is not dict or set(fields) != {
                    "size",
                    "mtime_ns",
                    "ino",
                    "trailer",
                }:
                    return None
                if type(fields["trailer"]) is not str or not all(
                    type(fields[k]) is int for k in ("size", "mtime_ns", "ino")
                ):
                    return None
                out.members.append(
                    (
                        item[0],
                        ArchiveId(
                            fields["size"], fields["mtime_ns"], fields["ino"], fields["trailer"]
                        ),
                    )
                )
        elif data.get("archive") != ident.to_json():
            return None  # stale: the archive changed (or this is another archive's summary)
        for name in ("events", "skipped", "untimed"):
            value = data.get(name)
            if type(value) is not int or value < 0:
                return None
            setattr(out, name, value)
        for name in ("min_ts", "max_ts"):
            value = data.get(name)
            if value is not None and type(value) is not str:
                return None
            setattr(out, name, value)
        keys = data.get("keys")
        if type(keys) is not list or not all(type(k) is str for k in keys):
            return None
        if (out.min_ts is None) != (out.max_ts is None) or out.untimed > out.events:
            return None
        out.keys = frozenset(keys)
        return out


def load(archive: Path, ident: ArchiveId, *, states: bool = True) -> Summary | None:
    """The archive's summary when present, ours, current and well formed; else None.

    With `states=False` only the header is parsed (`keys` says what it holds).
    """
    return _load(summary_path(archive), ident, states=states)


def load_rollup(anchor: Path, *, states: bool = True) -> Summary | None:
    """The rollup starting at `anchor` when well formed (its `members` are for the
    caller to compare with the archives as they are now); else None."""
    return _load(rollup_path(anchor), None, states=states)


def _load(path: Path, ident: ArchiveId | None, *, states: bool) -> Summary | None:
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
    head, _, body = raw.partition(b"\n")
    try:
        out = Summary.from_header(orjson.loads(head), ident)
        if out is None or not states:
            return out
        found = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if type(found) is not dict or set(found) != out.keys:
        return None
    out.states = found
    return out


def write(archive: Path, ident: ArchiveId, summary: Summary) -> bool:
    """Write the summary beside its archive (0600, atomically); False when it cannot be.

    A reader that cannot write (a read-only folder, a full disk) still
    answers: it just reads the archive again next time.
    """
    return _write(summary_path(archive), summary.header(ident), summary.states)


def write_rollup(anchor: Path, rollup: Summary) -> bool:
    """Write the rollup of `rollup.members` (the first of which is `anchor`)."""
    return _write(rollup_path(anchor), rollup.header(None), rollup.states)


def _write(path: Path, header: dict[str, Any], states: dict[str, Any]) -> bool:
    data = orjson.dumps(header) + b"\n" + orjson.dumps(states) + b"\n"
    try:  # the one private writer: temp file, 0600, O_NOFOLLOW, fsync, rename (never follows)
        write_private(path, data)
    except OSError:
        return False
    return True
