"""Writing an output file (report, export): checked, private (mode 0600), complete or not at all.

The target is checked before anything is read (its folder must exist; an
existing file is replaced only with `force`), then the bytes go to a private
temporary file next to it that is moved into place when complete.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterable
from pathlib import Path


class OutputError(ValueError):
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
    tmp = output.with_name(f".{output.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            for chunk in (data,) if isinstance(data, bytes) else data:
                fh.write(chunk)
        if force:
            os.replace(tmp, output)
        else:
            try:
                os.link(tmp, output)  # atomic: fails if the name was taken meanwhile
            except FileExistsError:
                raise OutputError(f"{output} already exists; pass --force to replace it") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
