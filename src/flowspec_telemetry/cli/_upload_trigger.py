"""Starting the background upload step, at most once a day, from a command or the hook.

Kept apart from `report.upload` so that the hook's fast path pays for nothing
when no collector is set (one environment lookup) and only for a stamp-file
read when one is; the upload code itself runs in the detached step.
"""

from __future__ import annotations

import json
import os
import sys

from flowspec_telemetry.core.names import FLOWSPEC, ToolNames

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["STAMP_FILE", "maybe_start"]

STAMP_FILE = "telemetry-upload.json"


def maybe_start(root: Path | str | None, names: ToolNames = FLOWSPEC) -> bool:
    """Spawn `upload --background` if it is due today; True when it was started.

    Never raises and never waits: the caller is a host command or the hook.
    """
    try:
        if root is None or names.resolved_collector_url() is None:
            return False
        return _start_if_due(os.fspath(root), names)
    except Exception:  # a failure here must never fail the host command
        return False


def _started_today(stamp: str, today: str) -> bool:
    try:
        fd = os.open(stamp, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return False
    with os.fdopen(fd, "rb") as fh:
        try:
            return bool(json.loads(fh.read(4096)).get("last_started") == today)
        except (ValueError, AttributeError, OSError):
            return False


def _start_if_due(root: str, names: ToolNames) -> bool:
    import time

    folder = os.path.join(root, names.project_dir)
    stamp = os.path.join(folder, STAMP_FILE)
    today = time.strftime("%Y-%m-%d", time.gmtime())
    if _started_today(stamp, today) or not os.path.isdir(folder):
        return False
    from pathlib import Path

    from flowspec_telemetry.consent._share import share_decision

    if share_decision(Path(root), names).mode != "share":
        return False
    from flowspec_telemetry.core._files import write_private

    write_private(stamp, json.dumps({"last_started": today}).encode())
    _spawn(root)
    return True


def _spawn(root: str) -> None:
    import subprocess

    subprocess.Popen(  # a detached step: our interpreter and module, fixed arguments
        [
            sys.executable,
            "-m",
            "flowspec_telemetry",
            "upload",
            "--background",
            "--project-root",
            root,
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        close_fds=True,
    )
