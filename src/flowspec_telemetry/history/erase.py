"""`clear`: delete every telemetry file of a project and keep nothing behind.

Removed: the events file, every rotated archive, the salt (so old hashes can
no longer be linked to new ones), the catalog cache, and any other
`telemetry*` or `.telemetry*` file in the project folder (locks, temporary
files) and the kept copies of shared weekly reports (`telemetry-shared/`). The
person's consent record stays unless `reset_consent` is set,
which removes the project's record only: `clear` acts on one project, and
the person's global answer speaks for every other project too, so it stays
(`disable --global` changes it). If the folder is left empty but for our
`.gitignore`, both go, except when that folder is all that marks the project
(no workflow file) and telemetry is still on here: removing it would end the
project, and tracking would stop silently while consent is on.
Symbolic links are removed as links; their targets are never touched.
"""

from __future__ import annotations

import contextlib
import errno
import os
from dataclasses import dataclass, field
from pathlib import Path

from flowspec_telemetry.core import consent_rules
from flowspec_telemetry.core.errors import StoreError
from flowspec_telemetry.core.names import FLOWSPEC, ToolNames
from flowspec_telemetry.core.store import GITIGNORE, GITIGNORE_BODY, ReadStats

__all__ = [
    "SHARED_COPIES_DIR",
    "Cleared",
    "clear",
    "count_events",
    "telemetry_files",
]

# The kept copies of shared weekly reports (`report.sharing`): cleared with the ledger.
SHARED_COPIES_DIR = "telemetry-shared"


@dataclass(slots=True)
class Cleared:
    """What `clear` removed."""

    events: int = 0
    skipped: int = 0
    files: list[Path] = field(default_factory=list)
    consent_files: list[Path] = field(default_factory=list)


def telemetry_files(root: Path, names: ToolNames = FLOWSPEC) -> list[Path]:
    """Every telemetry file in the project folder except the consent record."""
    folder = root / names.project_dir
    keep = consent_rules.CONFIG_FILE
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    return sorted(
        Path(e.path)
        for e in entries
        if e.name.startswith(("telemetry", ".telemetry"))
        and e.name != keep
        and not e.is_dir(follow_symlinks=False)
    )


def count_events(root: Path, names: ToolNames = FLOWSPEC) -> tuple[int, int]:
    """(readable events, skipped lines) across the live file and the archives.

    A file the readers refuse (a symbolic link) counts as nothing: `clear`
    removes the link itself, never its target.
    """
    from flowspec_telemetry.history.reader import iter_events

    read = ReadStats()
    try:
        for _ in iter_events(root, names, read):
            pass
    except StoreError:
        pass
    return read.events, read.skipped


def clear(root: Path, names: ToolNames = FLOWSPEC, *, reset_consent: bool = False) -> Cleared:
    """Delete the project's telemetry; see the module docstring for exactly what.

    Raises `StoreError` when the project folder is a symbolic link: deleting
    through it would delete files somewhere else.
    """
    if (root / names.project_dir).is_symlink():
        raise StoreError(
            errno.ELOOP,
            f"{names.project_dir} is a symbolic link; not clearing through it "
            "(remove the link yourself if it is not yours)",
        )
    out = Cleared()
    out.events, out.skipped = count_events(root, names)
    for path in telemetry_files(root, names):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
            out.files.append(path)
    copies = root / names.project_dir / SHARED_COPIES_DIR
    if copies.is_dir() and not copies.is_symlink():
        for entry in os.scandir(copies):
            if not entry.is_dir(follow_symlinks=False):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)
                    out.files.append(Path(entry.path))
        with contextlib.suppress(OSError):
            copies.rmdir()
    elif copies.is_symlink():
        with contextlib.suppress(FileNotFoundError):
            os.unlink(copies)  # the link itself, never what it points at
    if reset_consent:
        path = consent_rules.project_config_path(root, names)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
            out.consent_files.append(path)
    if not _still_marks_a_live_project(root, names):
        _tidy(root / names.project_dir)
    from flowspec_telemetry.core.tracker import default_tracker

    default_tracker().invalidate()
    return out


def _still_marks_a_live_project(root: Path, names: ToolNames) -> bool:
    """Whether `.flowspec/` is the only project marker and telemetry is still on here."""
    if (root / names.workflow_file).is_file():
        return False
    return consent_rules.decide(root, names=names).enabled


def _tidy(folder: Path) -> None:
    """Remove our `.gitignore` and the folder when nothing else is left in it."""
    try:
        names = os.listdir(folder)
    except OSError:
        return
    if names != [GITIGNORE]:
        return
    gitignore = folder / GITIGNORE
    try:
        ours = gitignore.read_text(encoding="utf-8") == GITIGNORE_BODY
    except (OSError, UnicodeDecodeError):
        return
    if ours:
        with contextlib.suppress(OSError):
            os.unlink(gitignore)
            os.rmdir(folder)
