"""Is a file tracked by git? Answered from the index file, without running git.

The trust rule for consent answers (a yes that is committed to a repository
was not given by the person who cloned it) is checked on the tracking path,
once a second per project, so it cannot start a `git` process. Instead this
module finds the repository that holds a path (a `.git` folder, or a `.git`
file pointing at one, as linked worktrees and submodules have) and looks the
path up in its index (`.git/index`, formats 2, 3 and 4).

Reads are bounded and never block: the index is opened without following
links and without waiting on a FIFO, and one larger than `MAX_INDEX_BYTES` is
not read. Every answer that cannot be made with certainty is `None`
("cannot tell"), which the caller treats as "tracked" for a yes: failing
closed only ever keeps telemetry off.
"""

from __future__ import annotations

import os
import stat

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Final

MAX_INDEX_BYTES: Final = 256 << 20
_MAX_GITFILE: Final = 4096
_cache: dict[tuple[str, int, int, int, str], bool | None] = {}


def _read_small(path: str, limit: int) -> bytes | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        return os.read(fd, limit)
    finally:
        os.close(fd)


def find_repository(path: str) -> tuple[str, str] | None:
    """(work tree, git folder) of the repository holding `path`, or None outside any."""
    here = os.path.dirname(os.path.abspath(path))
    while True:
        dot_git = os.path.join(here, ".git")
        try:
            st = os.lstat(dot_git)
        except OSError:
            st = None
        if st is not None:
            if stat.S_ISDIR(st.st_mode):
                return here, dot_git
            if stat.S_ISREG(st.st_mode):
                raw = _read_small(dot_git, _MAX_GITFILE) or b""
                text = raw.decode("utf-8", "replace").strip()
                if text.startswith("gitdir:"):
                    target = text[len("gitdir:") :].strip()
                    return here, os.path.normpath(os.path.join(here, target))
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def is_tracked(path: str) -> bool | None:
    """True when git's index lists `path`, False when it does not, None when unsure."""
    repo = find_repository(path)
    if repo is None:
        return False
    worktree, gitdir = repo
    rel = os.path.relpath(os.path.abspath(path), worktree)
    if rel.startswith(".."):
        return None
    wanted = rel.replace(os.sep, "/").encode("utf-8", "surrogateescape")
    index = os.path.join(gitdir, "index")
    try:
        fd = os.open(index, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return False  # a repository with nothing added yet
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_INDEX_BYTES:
            return None
        key = (index, st.st_ino, st.st_size, st.st_mtime_ns, rel)
        if key in _cache:
            return _cache[key]
        verdict = _search(fd, st.st_size, wanted)
    finally:
        os.close(fd)
    if len(_cache) > 64:
        _cache.clear()
    _cache[key] = verdict
    return verdict


def _search(fd: int, size: int, wanted: bytes) -> bool | None:
    """The index mapped, not read: the usual "not there" costs one search of the page cache."""
    import mmap

    if size < 32:
        return None
    try:
        with mmap.mmap(fd, 0, access=mmap.ACCESS_READ) as mapped:
            version = int.from_bytes(mapped[4:8], "big")
            if (
                mapped[:4] == b"DIRC"
                and version in (2, 3)
                and mapped.find(wanted + b"\x00") < 0
                and mapped.find(b"link") < 0
                and mapped.find(b"sdir") < 0
            ):
                return False
            data = mapped[:]
    except (OSError, ValueError):
        data = _read_all(fd, size)
    return _lookup(data, wanted)


def _read_all(fd: int, size: int) -> bytes:
    chunks = []
    left = size
    while left > 0:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _lookup(data: bytes, wanted: bytes) -> bool | None:
    """Walk the index entries; see git's Documentation/gitformat-index.txt."""
    if len(data) < 12 or data[:4] != b"DIRC":
        return None
    version = int.from_bytes(data[4:8], "big")
    count = int.from_bytes(data[8:12], "big")
    if version not in (2, 3, 4):
        return None
    if (
        version != 4
        and wanted + b"\x00" not in data
        and b"link" not in data
        and b"sdir" not in data
    ):
        return False  # the usual case, decided by one C-speed search
    pos = 12
    previous = b""
    end = len(data) - 20  # the trailing checksum
    for _ in range(count):
        if pos + 62 > end:
            return None
        flags = int.from_bytes(data[pos + 60 : pos + 62], "big")
        head = 62
        if flags & 0x4000:  # extended flags (version 3 and later)
            if version < 3:
                return None
            head += 2
        start = pos + head
        if version == 4:
            strip, start = _varint(data, start)
            if strip is None or strip > len(previous):
                return None
            nul = data.find(b"\x00", start, end)
            if nul < 0:
                return None
            name = previous[: len(previous) - strip] + data[start:nul]
            pos = nul + 1
        else:
            nul = data.find(b"\x00", start, end)
            if nul < 0:
                return None
            name = data[start:nul]
            length = head + len(name)
            pos += (length + 8) & ~7  # one to eight NULs pad each entry
        if name == wanted:
            return True
        previous = name
    while pos + 8 <= end:  # extensions: a split or sparse index may hold more entries
        signature = data[pos : pos + 4]
        if signature in (b"link", b"sdir"):
            return None
        pos += 8 + int.from_bytes(data[pos + 4 : pos + 8], "big")
    return False


def _varint(data: bytes, pos: int) -> tuple[int | None, int]:
    """git's offset encoding (varint.c), used by index version 4."""
    if pos >= len(data):
        return None, pos
    byte = data[pos]
    pos += 1
    value = byte & 0x7F
    while byte & 0x80:
        if pos >= len(data) or value > 1 << 40:
            return None, pos
        byte = data[pos]
        pos += 1
        value = ((value + 1) << 7) | (byte & 0x7F)
    return value, pos
