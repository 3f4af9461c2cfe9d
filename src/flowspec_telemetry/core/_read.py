"""The one way to read a file that lives in a project: bounded, non-blocking, regular files only.

Every file under a project folder can be planted by whoever controls the
repository or a shared parent folder: a FIFO makes a plain `open()` + `read()`
wait forever, `/dev/zero` or a 5 GB file exhausts memory, a symlink points
anywhere. So every reader of a project file (consent records, the workflow
file, the catalog cache, the role file, the hook state, the share ledger,
`.claude/settings.json`, `.flowspec/hooks/hooks.yaml`) goes through
`read_bounded`, which

* opens with `O_NONBLOCK` (a FIFO without a writer opens at once instead of
  blocking) and `O_NOFOLLOW` unless the caller explicitly follows symlinks;
* checks with `fstat` on the open descriptor (no race with a swap of the
  name) that it is a regular file, and refuses anything else;
* refuses a file larger than `limit` bytes and never reads more than that.

Only the standard library: the tracking path uses it.
"""

from __future__ import annotations

import errno
import os
import stat

from flowspec_telemetry.core.errors import TelemetryError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from flowspec_telemetry.core.names import StrPath

__all__ = ["UnsafeFileError", "read_bounded"]

_FLAGS = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


class UnsafeFileError(TelemetryError, OSError):
    """A project file that is not a regular file of a sane size: refused, never read."""

    def __init__(self, path: StrPath, reason: str) -> None:
        super().__init__(errno.EINVAL, f"{os.fspath(path)} is {reason}; not reading it")
        self.path = os.fspath(path)
        self.reason = reason


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def _size_text(limit: int) -> str:
    if limit >= 1 << 20 and limit % (1 << 20) == 0:
        return f"larger than {limit >> 20} MiB"
    if limit >= 1 << 10 and limit % (1 << 10) == 0:
        return f"larger than {limit >> 10} KiB"
    return f"larger than {limit} bytes"


def read_bounded(path: StrPath, limit: int, *, follow_symlinks: bool = False) -> bytes:
    """The whole content of the regular file at `path`, at most `limit` bytes.

    Raises FileNotFoundError when there is nothing at `path`, `UnsafeFileError`
    for a symlink (unless `follow_symlinks`), a folder, FIFO, socket or device,
    or a file over `limit` bytes, and OSError for other failures. Never blocks.
    """
    flags = _FLAGS if follow_symlinks else _FLAGS | _NOFOLLOW
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP and not follow_symlinks:
            raise UnsafeFileError(path, "a symbolic link") from None
        if exc.errno == errno.EISDIR:
            raise UnsafeFileError(path, "a folder") from None
        if exc.errno in (errno.ENXIO, errno.EWOULDBLOCK):  # a FIFO opened for writing only, ...
            raise UnsafeFileError(path, "not a regular file") from None
        raise
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise UnsafeFileError(path, _kind(st.st_mode))
        if st.st_size > limit:
            raise UnsafeFileError(path, _size_text(limit))
        chunks: list[bytes] = []
        left = limit + 1  # one byte more: a file that grew since fstat is caught
        while left > 0:
            try:
                chunk = os.read(fd, min(left, 1 << 20))
            except BlockingIOError:  # pragma: no cover - regular files never block
                break
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        data = b"".join(chunks)
        if len(data) > limit:
            raise UnsafeFileError(path, _size_text(limit))
        return data
    finally:
        os.close(fd)
