"""The one way this package writes a private file: complete, 0600, never through a link.

Every file the library writes for a person (consent records, the salt, the
catalog cache, the current role, hook state, exports, reports, settings and
their backups) goes through `write_private`, so each gets the same care
instead of seven hand-written variants that differed in correctness:

* a temporary file next to the target, created with `O_EXCL | O_NOFOLLOW`
  (a planted file or symlink at that name is never written through) and the
  requested mode (0600 unless the caller keeps another file's mode; the
  umask can only narrow it);
* a full write loop: a short `write()` (a full disk, a signal) is retried
  and a write of zero bytes is reported as ENOSPC, never ignored;
* `fsync` before the rename, so after a crash the target is either the old
  file or the whole new one, never a torn or empty one;
* a rename over the target (or `os.link` when an existing file must never be replaced:
  the link fails if the name was taken in between);
* the temporary file is removed on any failure, KeyboardInterrupt included.

`append_private` is the same care for one-line appends (the share ledger).
Standard library only (`os`, `errno`): the tracking path writes through it.
"""

from __future__ import annotations

import errno
import os

TYPE_CHECKING = False
if TYPE_CHECKING:  # the tracking path imports neither typing nor collections.abc
    from collections.abc import Iterable

    from .names import StrPath

__all__ = ["append_private", "remove_quietly", "write_all", "write_private"]

_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_BUFFER = 1 << 20
_APPEND = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC


def write_all(fd: int, data: bytes | bytearray) -> None:
    """Write every byte of `data` to `fd`; a write that makes no progress is ENOSPC."""
    written = os.write(fd, data)  # almost always all of it, in one call
    view = memoryview(data)
    while written < len(view):
        if written <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        view = view[written:]
        written = os.write(fd, view)


def remove_quietly(path: StrPath, *, dir_fd: int | None = None) -> None:
    """Unlink `path`, ignoring that it is already gone or cannot be removed."""
    try:
        os.unlink(path, dir_fd=dir_fd)
    except OSError:
        pass


def write_private(
    path: StrPath,
    data: bytes | bytearray | Iterable[bytes],
    *,
    replace: bool = True,
    mode: int = 0o600,
    dir_fd: int | None = None,
) -> None:
    """Put `data` (bytes, or chunks of them) at `path`, whole or not at all.

    `replace=False` never replaces an existing file: it raises
    FileExistsError, also when the name was taken while we wrote. The folder
    must exist. Raises OSError on failure, after removing the temporary file.
    With `dir_fd`, `path` is a name inside that open folder: a caller that
    opened the folder with O_NOFOLLOW (`integrations._config_file`) is sure
    nothing is reached through a symlinked folder planted in a repository.
    """
    target = os.fspath(path)
    folder, name = os.path.split(target)
    tmp = os.path.join(folder, f".{name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    fd = os.open(tmp, _CREATE, mode, dir_fd=dir_fd)
    try:
        try:
            if isinstance(data, bytes | bytearray):
                write_all(fd, data)
            else:  # many small chunks (an export's rows): one write() per MiB, not per chunk
                pending = bytearray()
                for chunk in data:
                    pending += chunk
                    if len(pending) >= _BUFFER:
                        write_all(fd, pending)
                        pending = bytearray()
                write_all(fd, pending)
            os.fsync(fd)
        finally:
            os.close(fd)
        if replace:  # POSIX rename replaces atomically (what os.replace does)
            os.rename(tmp, target, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        else:  # atomic: fails if the name was taken meanwhile (a dangling symlink too)
            os.link(tmp, target, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
            os.unlink(tmp, dir_fd=dir_fd)
    except BaseException:
        remove_quietly(tmp, dir_fd=dir_fd)
        raise


def append_private(path: StrPath, data: bytes) -> None:
    """Append `data` with one descriptor (mode 0600 when created), never through a link."""
    fd = os.open(path, _APPEND, 0o600)
    try:
        write_all(fd, data)
    finally:
        os.close(fd)
