"""Private by default, and saying so when the store cannot be trusted.

Everything the library creates is private (folder 0700, files 0600), but a
folder or file made by an older version, a copy, an unpacked backup or a loose
umask can be group- or world-readable. `tighten()` puts such modes right
(through a descriptor opened without following links, so a planted symlink
is never chmod-ed) and says what it changed or could not change.

`problems()` names what silently stops tracking or makes the store unsafe to
read: a symbolic link or something other than a file or folder at our paths,
a salt of the wrong size, a folder that cannot be written. The tracker never
raises, so without this a person would see "Telemetry is ON" while nothing
is recorded; `status` reports these, and the reading commands refuse the
unsafe ones (`read_refusal()`) in one line instead of reading through a link.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import Final

from flowspec_telemetry.core.names import FLOWSPEC, ToolNames
from flowspec_telemetry.core.privacy import SALT_BYTES, SALT_FILE
from flowspec_telemetry.core.store import EVENTS_FILE

__all__ = [
    "FILE_MODE",
    "FOLDER_MODE",
    "problems",
    "read_refusal",
    "tighten",
]

FOLDER_MODE: Final = 0o700
FILE_MODE: Final = 0o600
_PREFIXES: Final = ("telemetry", ".telemetry")


def _ours(name: str) -> bool:
    return name.startswith(_PREFIXES)


def _fix(path: Path, want: int, *, folder: bool) -> str | None:
    """Tighten one path to `want` if it is looser; a message when something was seen."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
    if folder:
        flags |= os.O_DIRECTORY
    try:
        fd = os.open(path, flags)
    except OSError:
        return None  # absent, a link or unreadable: `problems()` reports those
    try:
        st = os.fstat(fd)
        mode = stat.S_IMODE(st.st_mode)
        kind_ok = stat.S_ISDIR(st.st_mode) if folder else stat.S_ISREG(st.st_mode)
        if not kind_ok or not mode & 0o077:
            return None
        try:
            os.fchmod(fd, mode & ~0o077)
        except OSError as exc:
            return (
                f"{path} is readable by others (mode {mode:04o}) and could not be made "
                f"private ({exc.strerror or exc}); run `chmod {want:o} {path}`"
            )
        return f"tightened {path} from mode {mode:04o} to {stat.S_IMODE(os.fstat(fd).st_mode):04o}"
    finally:
        os.close(fd)


def tighten(root: Path, names: ToolNames = FLOWSPEC) -> list[str]:
    """Make the project folder 0700 and its telemetry files 0600; what was done or refused.

    Only group and other bits are removed, so 0644 becomes 0600 and 0755
    becomes 0700. Links are never followed; other files in the folder (the
    host's own, `.gitignore`) are left alone.
    """
    folder = root / names.project_dir
    notes: list[str] = []
    note = _fix(folder, FOLDER_MODE, folder=True)
    if note:
        notes.append(note)
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return notes
    for entry in sorted(entries, key=lambda e: e.name):
        if _ours(entry.name) and not entry.is_symlink():
            note = _fix(Path(entry.path), FILE_MODE, folder=False)
            if note:
                notes.append(note)
    return notes


def _kind(st: os.stat_result) -> str:
    if stat.S_ISLNK(st.st_mode):
        return "a symbolic link"
    if stat.S_ISDIR(st.st_mode):
        return "a folder"
    if stat.S_ISREG(st.st_mode):
        return "a file"
    return "not a regular file"


def _lstat(path: Path) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except OSError:
        return None


def read_refusal(root: Path, names: ToolNames = FLOWSPEC) -> str | None:
    """Why the stored events must not be read as they are (a link, not a file), or None."""
    folder = root / names.project_dir
    st = _lstat(folder)
    if st is None:
        return None
    if not stat.S_ISDIR(st.st_mode):
        return (
            f"{folder} is {_kind(st)}, not a folder; telemetry neither reads nor writes "
            f"through it (replace it with a real folder)"
        )
    live = folder / EVENTS_FILE
    st = _lstat(live)
    if st is not None and not stat.S_ISREG(st.st_mode):
        return (
            f"{live} is {_kind(st)}, not a file; telemetry neither reads nor writes "
            f"through it (remove it, events will be recorded in a new file)"
        )
    return None


def _salt_problem(folder: Path) -> str | None:
    path = folder / SALT_FILE
    st = _lstat(path)
    if st is None:
        return None
    if not stat.S_ISREG(st.st_mode):
        return f"{path} is {_kind(st)}, not a file: no event can be recorded; remove it"
    if st.st_size != SALT_BYTES:
        return (
            f"{path} holds {st.st_size} bytes, not {SALT_BYTES}: no event can be recorded; "
            f"run `clear` to start over with a new salt"
        )
    return None


def problems(root: Path, names: ToolNames = FLOWSPEC) -> list[str]:
    """Everything that stops events being recorded or read safely, one sentence each."""
    refusal = read_refusal(root, names)
    if refusal is not None:
        return [refusal]
    folder = root / names.project_dir
    if _lstat(folder) is None:
        return []
    found = []
    salt = _salt_problem(folder)
    if salt:
        found.append(salt)
    if not os.access(folder, os.W_OK | os.X_OK):
        why = os.strerror(errno.EROFS if _read_only(folder) else errno.EACCES)
        found.append(f"{folder} cannot be written ({why}): no event can be recorded")
    live = folder / EVENTS_FILE
    if _lstat(live) is not None and not os.access(live, os.R_OK):
        found.append(f"{live} cannot be read ({os.strerror(errno.EACCES)})")
    return found


def _read_only(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        return False
