"""Writing an output file (report, export): checked, private (mode 0600), complete or not at all.

The target is checked before anything is read (its folder must exist; an
existing file is replaced only with `force`), then the bytes go to a private
temporary file next to it that is moved into place when complete
(`core._files.write_private`, the package's one private-file writer).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from flowspec_telemetry.core import _files as files
from flowspec_telemetry.core.errors import TelemetryError


class OutputError(TelemetryError, ValueError):
    """An output we must not write; nothing was written."""


def check_output(output: Path, *, force: bool) -> None:
    """Refuse, before any work, a path we must not write."""
    parent = output.parent
    if not parent.is_dir():
        raise OutputError(f"cannot write {output}: the folder {parent} does not exist")
    if output.is_dir():
        raise OutputError(f"cannot write {output}: it is a folder")
    if (output.exists() or output.is_symlink()) and not force:
        raise OutputError(f"{output} already exists; pass --force to replace it")


def write_private(output: Path, data: bytes | Iterable[bytes], *, force: bool) -> None:
    """Write `data` (bytes, or chunks of them) to `output` with mode 0600, atomically.

    Never replaces an existing file without `force`.
    """
    check_output(output, force=force)
    try:
        files.write_private(output, data, replace=force)
    except FileExistsError:  # the name was taken while we wrote
        raise OutputError(f"{output} already exists; pass --force to replace it") from None
