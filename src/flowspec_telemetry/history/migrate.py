"""`migrate`: rewrite the lines flowspec's earlier module wrote as schema 1.0, in place.

Readers already give those lines their meaning (`core._legacy`), so migrating
changes no answer; what it changes is what is on disk. The unsalted host-name
hash and the free context flowspec kept are gone, every role, command and
agent outside the role catalog becomes a keyed hash (the project's salt, as
the tracker would store it), and each line gets an event id and the project
id. Each line keeps its place and its time (to the millisecond, schema 1.0's
precision); lines of this package and unreadable lines are kept byte for byte.

Safety:

* Atomic per file: the new content is written to a private temporary file,
  synced and renamed over the old one, so a crash leaves either version.
* The live file may be appended to meanwhile (this package's tracker, flowspec's
  writer): the store's rotation lock is held, and after the rename the lines
  that reached the old file late are read from it (migrate keeps it open) and
  appended to the new one. The tracker notices the old file is gone at its
  next write (it has no name left) and writes to the new one.
* A private copy (mode 0600) of each rewritten file stays beside it as
  `<name>.migrate-backup` until `migrate --commit`; a second run never
  replaces an earlier backup.
* Idempotent: a second run finds no line to migrate and changes nothing.
* Rotated archives are rewritten too, and their summaries (issue 18) removed
  so they are rebuilt from the new content.
"""

from __future__ import annotations

import calendar
import errno
import fcntl
import gzip
import json
import os
import stat
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Final

from flowspec_telemetry.core import privacy, roles, rotation, store
from flowspec_telemetry.core._files import append_private, remove_quietly, write_private
from flowspec_telemetry.core._legacy import LEGACY_TYPES, UNMAPPED_TYPES, is_legacy, map_legacy
from flowspec_telemetry.core.errors import StoreError
from flowspec_telemetry.core.events import EVENT_TYPE_VALUES, OUTCOMES, dumps_line, ulid
from flowspec_telemetry.core.names import FLOWSPEC, ToolNames

BACKUP_SUFFIX: Final = ".migrate-backup"
_MAX_LINE: Final = 1 << 20  # longer lines are copied through without being parsed
_OURS: Final = b'"schema_version":"1.0"'  # how the tracker starts every line: no parse needed
_LOCK_WAIT_SECONDS: Final = 10.0
_SETTLE_SECONDS: Final = 0.05
_KEPT_SOURCES: Final = frozenset({"init", "config"})


class MigrateError(StoreError):
    """The store cannot be migrated now (a link, a special file, the lock held too long)."""


@dataclass(frozen=True, slots=True)
class Migration:
    """What `migrate` did (or, with `dry_run`, would do)."""

    migrated: int  # lines rewritten
    files: tuple[str, ...]  # names of the files rewritten
    backups: tuple[str, ...]  # backups left in place after this run
    removed_backups: tuple[str, ...]  # backups deleted by --commit
    dry_run: bool = False


class _Values:
    """Stored forms: catalog values as they are, anything else as the project's keyed hash."""

    def __init__(self, hasher: privacy.KeyedHasher, catalog: roles.Catalog) -> None:
        self.hasher = hasher
        self.catalog = catalog

    def free(self, value: object, known: frozenset[str]) -> str | None:
        if not isinstance(value, str) or not value:
            return None
        if value in known or privacy.is_hash(value):
            return value
        return self.hasher.render(value)

    def kind(self, value: str, known: frozenset[str]) -> str:
        return value if value in known else self.hasher.render(value)


def _ns(timestamp: str) -> int | None:
    try:
        seconds = calendar.timegm(time.strptime(timestamp[:19], "%Y-%m-%dT%H:%M:%S"))
        return (seconds * 1000 + int(timestamp[20:23])) * 1_000_000
    except ValueError:
        return None


def migrated_event(line: dict[str, Any], values: _Values, project_id: str | None) -> dict[str, Any]:
    """One legacy line as the tracker would have written it (see the module docstring)."""
    cat = values.catalog
    event = map_legacy(line, cat)
    timestamp = event.get("timestamp")
    ns = _ns(timestamp) if isinstance(timestamp, str) else None
    out: dict[str, Any] = {"schema_version": "1.0", "event_id": "evt_" + ulid(ns)}
    if timestamp is not None:
        out["timestamp"] = timestamp
    out["event_type"] = values.kind(event["event_type"], EVENT_TYPE_VALUES | UNMAPPED_TYPES)
    out["role"] = values.free(event.get("role"), cat.known_roles)
    out["command"] = values.free(event.get("command"), cat.known_commands)
    out["agent"] = values.free(event.get("agent"), cat.known_agents)
    out["project_id"] = project_id
    previous = values.free(event.get("previous_role"), cat.known_roles)
    if previous is not None:
        out["previous_role"] = previous
    if isinstance(event.get("agent_role"), str):
        out["agent_role"] = event["agent_role"]  # the catalog's own role id
    handoff = event.get("handoff")
    if isinstance(handoff, dict):
        out["handoff"] = {
            "from_agent": values.free(handoff.get("from_agent"), cat.known_agents),
            "to_agent": values.free(handoff.get("to_agent"), cat.known_agents),
        }
    if event.get("outcome") in OUTCOMES:
        out["outcome"] = event["outcome"]
    if event.get("source") in _KEPT_SOURCES:
        out["source"] = event["source"]
    out["legacy_type"] = values.kind(str(event.get("legacy_type", "")), LEGACY_TYPES)
    return out


def _converter(values: _Values, project_id: str | None) -> Callable[[bytes], bytes | None]:
    def convert(body: bytes) -> bytes | None:
        if _OURS in body[:40]:
            return None
        try:
            obj = json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError):
            return None
        if not isinstance(obj, dict) or not isinstance(obj.get("event_type"), str):
            return None
        if not is_legacy(obj):
            return None
        return dumps_line(migrated_event(obj, values, project_id))

    return convert


def _pieces(
    src: IO[bytes], convert: Callable[[bytes], bytes | None]
) -> Iterator[tuple[bytes, bool]]:
    """The file again, piece by piece: (bytes to write, whether a legacy line was converted)."""
    while True:
        piece = src.readline(_MAX_LINE)
        if not piece:
            return
        if len(piece) == _MAX_LINE and not piece.endswith(b"\n"):
            yield piece, False  # an overlong line: copied through, never parsed or held
            while piece and not piece.endswith(b"\n"):
                piece = src.readline(_MAX_LINE)
                yield piece, False
            continue
        new = convert(piece.rstrip(b"\r\n")) if piece.strip() else None
        yield (piece, False) if new is None else (new, True)


def _open_regular(path: Path) -> int:
    """A read descriptor on a regular file, never through a link or blocking on a FIFO."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise MigrateError(
                errno.ELOOP, f"{path.name} is a symbolic link; not migrating through it"
            ) from None
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise MigrateError(errno.EINVAL, f"{path.name} is not a regular file")
    return fd


class _Source:
    """One pass over a store file through our own descriptor (plain or gzip)."""

    def __init__(self, fd: int, compressed: bool) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        self.raw = os.fdopen(os.dup(fd), "rb")
        self.stream: IO[bytes] = (
            gzip.GzipFile(fileobj=self.raw, mode="rb")  # type: ignore[assignment]
            if compressed
            else self.raw
        )

    def close(self) -> None:
        self.stream.close()
        self.raw.close()


def _range(fd: int, start: int, end: int) -> Iterator[bytes]:
    pos = start
    while pos < end:
        chunk = os.pread(fd, min(1 << 20, end - pos), pos)
        if not chunk:
            return
        yield chunk
        pos += len(chunk)


def _write_backup(folder: Path, name: str, fd: int, end: int) -> Path:
    """A private copy of the first `end` bytes, under a name no earlier backup has."""
    n = 1
    while True:
        target = folder / (name + BACKUP_SUFFIX + (f".{n}" if n > 1 else ""))
        try:
            write_private(target, _range(fd, 0, end), replace=False)
            return target
        except FileExistsError:
            n += 1


def _gzip(chunks: Iterator[bytes]) -> Iterator[bytes]:
    packer = zlib.compressobj(6, zlib.DEFLATED, 31)  # wbits 31: a gzip stream
    for chunk in chunks:
        out = packer.compress(chunk)
        if out:
            yield out
    yield packer.flush()


def _migrate_file(
    path: Path, convert: Callable[[bytes], bytes | None], *, dry_run: bool, live: bool
) -> int:
    """Rewrite one store file; how many legacy lines it held."""
    fd = _open_regular(path)
    compressed = path.name.endswith(".gz")
    try:
        source = _Source(fd, compressed)
        try:
            count = sum(1 for _piece, converted in _pieces(source.stream, convert) if converted)
        finally:
            source.close()
        if count == 0 or dry_run:
            return count
        size = os.fstat(fd).st_size
        backup = _write_backup(path.parent, path.name, fd, size)
        source = _Source(fd, compressed)
        try:
            pieces = (piece for piece, _converted in _pieces(source.stream, convert))
            write_private(path, _gzip(pieces) if compressed else pieces)
            consumed = source.raw.tell() if not compressed else size
        finally:
            source.close()
        if live:
            _catch_up(path, fd, consumed, convert)
        end = os.fstat(fd).st_size
        if end > size:  # appended after the backup was taken: the backup gets them too
            append_private(backup, b"".join(_range(fd, size, end)))
        return count
    finally:
        os.close(fd)


def _catch_up(path: Path, fd: int, consumed: int, convert: Callable[[bytes], bytes | None]) -> None:
    """Lines appended to the old live file while it was being rewritten go to the new one."""
    time.sleep(_SETTLE_SECONDS)  # an append already past its checks lands in the old file
    end = os.fstat(fd).st_size
    if end <= consumed:
        return
    late = b"".join(_range(fd, consumed, end))
    lines = [convert(x) or x + b"\n" for x in late.split(b"\n") if x.strip()]
    store.append_line(path, b"".join(lines))


def _lock(folder: Path) -> int:
    fd = os.open(
        folder / rotation.LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600
    )
    deadline = time.monotonic() + _LOCK_WAIT_SECONDS
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if time.monotonic() > deadline:
                os.close(fd)
                raise MigrateError(
                    errno.EAGAIN, "another process holds the store's lock; try again"
                ) from None
            time.sleep(0.05)


def backups(root: Path, names: ToolNames = FLOWSPEC) -> list[Path]:
    """The backups an earlier `migrate` left, oldest name first."""
    folder = root / names.project_dir
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    return sorted(
        Path(e.path)
        for e in entries
        if e.name.startswith("telemetry")
        and BACKUP_SUFFIX in e.name
        and e.is_file(follow_symlinks=False)
    )


def _store_files(folder: Path) -> Iterator[tuple[Path, bool]]:
    for archive in store.archive_paths(folder):
        yield archive, False
    live = folder / store.EVENTS_FILE
    if os.path.lexists(live):
        yield live, True


def migrate(
    root: Path, names: ToolNames = FLOWSPEC, *, commit: bool = False, dry_run: bool = False
) -> Migration:
    """Migrate the project's store (see the module docstring); `commit` also drops backups.

    Raises `MigrateError` (or another `OSError`) before changing anything when
    the store cannot be read safely.
    """
    folder = root / names.project_dir
    if folder.is_symlink():
        raise MigrateError(
            errno.ELOOP, f"{names.project_dir} is a symbolic link; not migrating through it"
        )
    if not folder.is_dir():
        return Migration(0, (), (), (), dry_run)
    files = list(_store_files(folder))
    if dry_run:
        counting = _converter(_Values(privacy.KeyedHasher(b"\0" * 32), roles.DEFAULT_CATALOG), None)
        found = [(p, _migrate_file(p, counting, dry_run=True, live=live)) for p, live in files]
        touched = tuple(p.name for p, n in found if n)
        kept = tuple(p.name for p in backups(root, names))
        return Migration(sum(n for _, n in found), touched, kept, (), True)
    lock = _lock(folder)
    try:
        catalog = roles.load_catalog(root, names)
        values: _Values | None = None
        project_id: str | None = None
        total = 0
        touched_names: list[str] = []
        for path, live in files:
            if values is None:  # the salt only once there is something to hash
                counting = _converter(_Values(privacy.KeyedHasher(b"\0" * 32), catalog), None)
                if _migrate_file(path, counting, dry_run=True, live=live) == 0:
                    continue
                salt = privacy.load_or_create_salt(store.ensure_project_dir(root, names))
                hasher = privacy.KeyedHasher(salt)
                values = _Values(hasher, catalog)
                project_id = hasher.render("project:" + os.path.realpath(root))
            count = _migrate_file(path, _converter(values, project_id), dry_run=False, live=live)
            if count:
                total += count
                touched_names.append(path.name)
                if path.name.endswith(".jsonl.gz"):  # the readers' summaries: rebuilt
                    stem = path.name[: -len(".jsonl.gz")]
                    for kind in (".summary.json", ".rollup.json"):
                        remove_quietly(path.with_name(stem + kind))
        removed: list[str] = []
        if commit:
            for backup in backups(root, names):
                os.unlink(backup)
                removed.append(backup.name)
        kept = tuple(p.name for p in backups(root, names))
        return Migration(total, tuple(touched_names), kept, tuple(removed), False)
    finally:
        os.close(lock)


__all__ = ["BACKUP_SUFFIX", "MigrateError", "Migration", "backups", "migrate", "migrated_event"]
