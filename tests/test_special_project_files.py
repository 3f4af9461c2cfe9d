"""Issue 13.5 as a class: every file read from a project refuses what is not a regular file.

For each file the library reads from `.flowspec/` (catalog cache, role file,
hook state, share ledger, salt) and each hostile kind (a FIFO without a
writer, a symlink to /dev/zero, to /dev/stdin, a folder), `track()`, the
`track` and `hook` console paths and `status` return within a time bound and
never read or write through it.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from flowspec_telemetry.consent.status import gather
from flowspec_telemetry.core import roles
from flowspec_telemetry.core.tracker import Tracker

from .conftest import CONSOLE_SCRIPT

FILES = (
    "telemetry-catalog.json",
    "telemetry-role.json",
    "telemetry-hooks.json",
    "telemetry-shared.jsonl",
    "telemetry.salt",
)
KINDS = ("fifo", "dev-zero", "dev-stdin", "folder")
BOUND = 5.0


def plant(path: Path, kind: str) -> None:
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
    else:
        path.symlink_to("/dev/zero" if kind == "dev-zero" else "/dev/stdin")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", FILES)
def test_no_reader_blocks_or_follows(consented: Path, name: str, kind: str) -> None:
    folder = consented / ".flowspec"
    folder.mkdir(exist_ok=True)
    plant(folder / name, kind)
    roles._memory.clear()

    started = time.monotonic()
    Tracker().track("role.selected", role="dev", project_root=consented)
    assert time.monotonic() - started < BOUND

    started = time.monotonic()
    gather(consented)
    assert time.monotonic() - started < BOUND

    for argv, stdin in (
        (["track", "role.changed", "--role", "qa"], b""),
        (
            ["hook", "claude-code"],
            b'{"hook_event_name": "UserPromptSubmit", "prompt": "/flow:plan"}',
        ),
        (["status"], b""),
    ):
        started = time.monotonic()
        done = subprocess.run(
            [str(CONSOLE_SCRIPT), *argv], cwd=consented, input=stdin, capture_output=True,
            timeout=60, check=False,
        )  # fmt: skip
        assert time.monotonic() - started < BOUND * 2, argv
        assert done.returncode in (0, 1), (argv, done.stderr)
    assert (folder / name).is_symlink() or (folder / name).exists()  # left as it was
