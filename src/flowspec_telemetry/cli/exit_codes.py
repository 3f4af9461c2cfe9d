"""Exit statuses as named constants and the error that carries one (fast path and app alike)."""

from __future__ import annotations

from enum import IntEnum

from flowspec_telemetry.core.errors import TelemetryError

__all__ = ["CliError", "ExitCode"]


class ExitCode(IntEnum):
    OK = 0
    FAILURE = 1  # the operation failed (I/O, a corrupt file, nothing to act on)
    USAGE = 2  # bad usage or bad input; nothing was changed
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT, as shells report it); nothing was recorded


class CliError(TelemetryError):
    """An error reported as one line; `code` is the exit status."""

    def __init__(self, message: str, code: ExitCode = ExitCode.FAILURE) -> None:
        super().__init__(message)
        self.code = code
