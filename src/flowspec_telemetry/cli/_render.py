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


class _Console(Console):
    """A rich console that lets a closed pipe reach `app.run` as `BrokenPipeError`.

    rich's default answer to a closed pipe is `SystemExit(1)`; a reader that
    stops early (`view | head`) is not a failure, and every command must treat
    it the same way, so `run` handles it in one place (quietly, exit 0).
    """

    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise BrokenPipeError


out: Console = _Console(highlight=False, markup=False, emoji=False)
err: Console = _Console(stderr=True, highlight=False, markup=False, emoji=False)


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


def plural(count: int, noun: str, plural_form: str | None = None) -> str:
    """`1 event`, `2 events`: the count and the noun in the number it calls for."""
    return f"{count} {noun if count == 1 else plural_form or noun + 's'}"


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


def not_an_option(value: Any) -> Any:
    """A typer callback for values that name a file: refuse one that looks like an option.

    `report --share --preview` once wrote a file literally named `--preview`:
    click gives an option that takes a value the next word, whatever it is.
    A file whose name starts with `-` can still be named as `./-name`.
    """
    import typer

    if isinstance(value, list):
        for item in value:
            not_an_option(item)
        return value
    text = str(value) if value is not None else ""
    if text.startswith("-") and text != "-":
        raise typer.BadParameter(
            f"{safe(text, 60)!r} looks like an option, not a file name "
            "(to name a file that starts with '-', give its full path)"
        )
    return value


def wrap(
    words: list[str], width: int, *, first: str = "", indent: str = "    ", sep: str = "  "
) -> str:
    """Words joined by `sep`, broken into lines of at most `width` cells (0: one line).

    A line breaks only between words, so no value is ever cut inside a word
    (unless that one word is wider than a whole line). Lines after the first
    start with `indent`, so where one entry ends and the next starts stays clear.
    """
    from rich.cells import cell_len

    if width <= 0:
        return first + sep.join(words)
    lines: list[str] = []
    current = first
    for word in words:
        candidate = f"{current}{sep}{word}" if current.strip() else current + word
        if cell_len(candidate) <= width or not current.strip():
            current = candidate
        else:
            lines.append(current)
            current = indent + word
        while cell_len(current) > width:  # one word wider than the line: fold it
            cut = _cut(current, width)
            lines.append(current[:cut])
            current = indent + current[cut:]
    lines.append(current)
    return "\n".join(lines)


def _cut(text: str, width: int) -> int:
    """The index where `text` reaches `width` cells (at least one character)."""
    from rich.cells import cell_len

    used = 0
    for i, char in enumerate(text):
        used += cell_len(char)
        if used > width:
            return max(i, 1)
    return len(text)
