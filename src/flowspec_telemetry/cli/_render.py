"""Terminal output that hostile data cannot steer.

Event values come from a file anyone with write access could have edited, so
nothing from it reaches the terminal raw: control characters (ANSI and OSC
escapes start with one), bidi overrides and zero-width characters are shown
as visible escapes, long values are cut, and every value is a rich `Text`,
never parsed as markup. Also the shared helpers the command modules use.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any, Final, NoReturn

from rich.console import Console
from rich.text import Text

from flowspec_telemetry.cli.exit_codes import CliError, ExitCode
from flowspec_telemetry.core.names import FLOWSPEC
from flowspec_telemetry.core.normalize import escape_unsafe
from flowspec_telemetry.core.project import find_project_root

MAX_CELL: Final = 120
_SURROGATE: Final = re.compile("[\ud800-\udfff]")  # not encodable: a terminal needs UTF-8


out = Console(highlight=False, markup=False, emoji=False)
err = Console(stderr=True, highlight=False, markup=False, emoji=False)


def safe(value: Any, limit: int = MAX_CELL) -> str:
    """Any value as one printable line: escapes shown, never obeyed; cut to `limit`."""
    if value is None:
        return ""
    if isinstance(value, str):
        text = value
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, int | float):
        text = repr(value)
    else:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    text = escape_unsafe(_SURROGATE.sub("\ufffd", text))
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def cell(value: Any, style: str = "") -> Text:
    """A table cell that rich prints as text, never as markup."""
    return Text(safe(value), style=style)


def print_json(data: Any, *, indent: int | None = 2) -> None:
    """JSON for scripts: ASCII only, so no control character reaches the terminal raw."""
    sys.stdout.write(json.dumps(data, indent=indent, ensure_ascii=True) + "\n")


def line(text: str, style: str = "") -> None:
    """Print our own text (already safe) without markup parsing."""
    out.print(Text(text, style=style), soft_wrap=True)


def fail(message: str, code: ExitCode = ExitCode.USAGE) -> NoReturn:
    """Stop the command with one line on stderr (see `app.run`)."""
    raise CliError(safe(message, limit=1000), code)


def project_or_fail(what: str, *, reading: bool = True) -> Path:
    """The project of the current folder, or exit 1 with a clear message.

    With `reading` (every command that reads the events), the store's modes
    are tightened first, and a store behind a symbolic link or that is not a
    file is refused in one line rather than read through (see `permissions`).
    """
    from flowspec_telemetry.cli._group import start_dir

    root = find_project_root(start_dir(), FLOWSPEC)
    if root is None:
        fail(
            f"not in a flowspec project (no {FLOWSPEC.project_dir}/ or "
            f"{FLOWSPEC.workflow_file} in this folder or above), so there is {what}",
            ExitCode.FAILURE,
        )
    if reading:
        from flowspec_telemetry.core import permissions

        permissions.tighten(root, FLOWSPEC)
        refusal = permissions.read_refusal(root, FLOWSPEC)
        if refusal is not None:
            fail(refusal, ExitCode.FAILURE)
    return root


def human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{n} bytes" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} bytes"  # pragma: no cover
