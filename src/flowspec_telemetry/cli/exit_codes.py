"""Exit statuses as named constants, shared by the fast path and the typer app."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FAILURE = 1  # the operation failed (I/O, a corrupt file, nothing to act on)
    USAGE = 2  # bad usage or bad input; nothing was changed
