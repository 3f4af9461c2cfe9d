"""Finding the project a call belongs to."""

from __future__ import annotations

import os

from flowspec_telemetry.core.names import FLOWSPEC, ToolNames

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

    from flowspec_telemetry.core.names import StrPath

__all__ = [
    "find_project_root",
    "find_root",
]


def find_root(start: StrPath | None = None, names: ToolNames = FLOWSPEC) -> str | None:
    """The nearest folder at or above `start` that holds `.flowspec/` or the workflow file.

    Returns None outside any project: then nothing is recorded and nothing is
    created, wherever the host happens to run. Works on text paths, so the
    tracking path never imports pathlib.
    """
    here = os.path.abspath(start if start is not None else os.getcwd())
    while True:
        if os.path.isdir(os.path.join(here, names.project_dir)) or os.path.isfile(
            os.path.join(here, names.workflow_file)
        ):
            return here
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def find_project_root(start: StrPath | None = None, names: ToolNames = FLOWSPEC) -> Path | None:
    """`find_root` as a `Path` (or None outside any project)."""
    from pathlib import Path

    found = find_root(start, names)
    return Path(found) if found is not None else None
