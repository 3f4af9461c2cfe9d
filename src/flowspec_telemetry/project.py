"""Finding the project a call belongs to."""

from __future__ import annotations

import os
from pathlib import Path

from .names import FLOWSPEC, ToolNames


def find_project_root(start: Path | str | None = None, names: ToolNames = FLOWSPEC) -> Path | None:
    """The nearest folder at or above `start` that holds `.flowspec/` or the workflow file.

    Returns None outside any project: then nothing is recorded and nothing is
    created, wherever the host happens to run.
    """
    here = Path(os.path.abspath(start if start is not None else os.getcwd()))
    for folder in (here, *here.parents):
        if os.path.isdir(folder / names.project_dir) or os.path.isfile(
            folder / names.workflow_file
        ):
            return folder
    return None
