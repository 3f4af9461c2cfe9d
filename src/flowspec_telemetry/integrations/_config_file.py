"""Editing a configuration file that belongs to the person, without ever writing through a link.

`install-hooks` changes two files the repository controls:
`.claude/settings.json` and `.flowspec/hooks/hooks.yaml`. A cloned repository
can plant anything there: a symlinked folder, a symlink at the file or at its
backup name (a dangling one makes a naive copy create a file wherever it
points, with content the repository chose), a FIFO. So every step here works
relative to a descriptor of the folder opened with O_NOFOLLOW, and

* a folder or file that is a symlink, or anything but a regular file, is
  refused with a one-line reason (exit 2 in the CLI) and nothing changes;
* the file is read with the bounded, non-blocking reader (`read_bounded`);
* the one backup (`<name>.bak`) is made with `write_private(replace=False)`:
  its final `link()` fails on any existing name, a dangling symlink too, so
  it is never written through a link; an existing regular backup is kept;
* the new content is written by `write_private` in that folder descriptor
  (temporary file, full write, fsync, rename).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from flowspec_telemetry.core._files import write_private
from flowspec_telemetry.core._read import UnsafeFileError, read_bounded
from flowspec_telemetry.core.errors import TelemetryError

__all__ = ["MAX_CONFIG_BYTES", "ConfigFileError", "backup_path", "read_config", "write_config"]

MAX_CONFIG_BYTES = 4 << 20
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class ConfigFileError(TelemetryError, ValueError):
    """The configuration file cannot be changed safely (the message says why, in one line)."""


def backup_path(path: Path) -> Path:
    return path.with_name(path.name + ".bak")


def _check_folder(folder: Path) -> bool:
    """True if the folder exists (a real folder); False if absent. Refuses a link or a file."""
    try:
        st = os.lstat(folder)
    except FileNotFoundError:
        return False
    if stat.S_ISLNK(st.st_mode):
        raise ConfigFileError(f"{folder} is a symbolic link; not touching it")
    if not stat.S_ISDIR(st.st_mode):
        raise ConfigFileError(f"{folder} is not a folder; not touching it")
    return True


def _check_backup(path: Path) -> bool:
    """True if a regular backup already exists (kept); refuses a link or a special file."""
    backup = backup_path(path)
    try:
        st = os.lstat(backup)
    except FileNotFoundError:
        return False
    if stat.S_ISLNK(st.st_mode):
        raise ConfigFileError(f"{backup} is a symbolic link; not touching it")
    if not stat.S_ISREG(st.st_mode):
        raise ConfigFileError(f"{backup} is not a regular file; not touching it")
    return True


def _folders(path: Path, root: Path) -> list[Path]:
    """The folders from `root` (excluded: the person chose it) down to the file's own."""
    rel = path.parent.relative_to(root)
    return [root.joinpath(*rel.parts[: i + 1]) for i in range(len(rel.parts))]


def read_config(path: Path, root: Path) -> str | None:
    """The file's text, None when it does not exist; `ConfigFileError` when it may not be used."""
    for folder in _folders(path, root):
        if not _check_folder(folder):
            return None
    _check_backup(path)
    try:
        raw = read_bounded(path, MAX_CONFIG_BYTES)
    except FileNotFoundError:
        return None
    except UnsafeFileError as exc:
        raise ConfigFileError(f"{path} is {exc.reason}; not touching it") from None
    except OSError as exc:
        raise ConfigFileError(
            f"{path} cannot be read ({exc.strerror or exc}); not touching it"
        ) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigFileError(f"{path} is not UTF-8 text; not touching it") from None


def write_config(
    path: Path, root: Path, before: str | None, after: str, *, mode: int = 0o644
) -> Path | None:
    """Replace the file's content with `after`; return the backup made now, if any.

    Missing folders below `root` are created (never through a link).
    Everything is checked again right before writing, so a link planted
    between planning and writing is refused too.
    """
    for step in _folders(path, root):
        if not _check_folder(step):
            os.mkdir(step, 0o755)
    dfd = os.open(path.parent, _DIR_FLAGS)
    made_backup: Path | None = None
    try:
        name = path.name
        if before is not None and not _check_backup(path):
            try:  # created beside the original, never through a link (link() fails on any name)
                write_private(name + ".bak", before.encode("utf-8"), replace=False, dir_fd=dfd)
                made_backup = backup_path(path)
            except FileExistsError:
                raise ConfigFileError(
                    f"{backup_path(path)} appeared meanwhile; not touching it"
                ) from None
        try:
            st = os.stat(name, dir_fd=dfd, follow_symlinks=False)
            if not stat.S_ISREG(st.st_mode):
                raise ConfigFileError(f"{path} is not a regular file; not touching it")
            mode = st.st_mode & 0o777
        except FileNotFoundError:
            pass
        write_private(name, after.encode("utf-8"), mode=mode, dir_fd=dfd)
    finally:
        os.close(dfd)
    return made_backup
