"""The typer group behind every way the command line runs: standalone or inside a host.

A host mounts the app with `flowspec_telemetry.cli.mount(host_app)` (or
`host_app.add_typer(app, ...)`); the host's typer then runs our commands, not
our `app.run()`, so what `run()` promised (one line on stderr, a named exit
code, never a traceback) must live in the group itself. This class is the
app's `cls`, so it holds wherever the group is invoked from:

* `CliError`, an `OSError`, and click's usage errors (a bad option, a
  missing argument, an unknown command) become ONE line on stderr, named
  after the command path the person typed (`flowspec telemetry: error: ...`
  under flowspec, `flowspec-telemetry: error: ...` standalone), then
  `typer.Exit` with our exit code, which every typer host turns into the
  process status.
* flowspec 0.4's `telemetry` sub-app spelled some options differently. So
  that a host mounting this app where that sub-app was keeps every call of
  its templates, scripts and users working, these are accepted as well:
  `-p/--project-root DIR` on any command (the project to act on), `stats
  --days N` / `-d N` (= `--since Nd`), `clear -y/--yes` (= `--force`) and
  `export -o FILE` without `--format` (the format follows the file's
  extension, JSON otherwise, as flowspec exports JSON; no `-o` writes to
  standard output). The template commands (`track-role`, `track-agent`,
  `track-handoff`) take flowspec's options themselves, on the fast path.
"""

from __future__ import annotations

import contextvars
import os
from collections.abc import Sequence
from typing import Any, Final

import typer
from typer.core import TyperGroup

from flowspec_telemetry.cli.exit_codes import ExitCode

#: The folder `-p/--project-root` named for this invocation (None: the current folder).
START_DIR: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "flowspec_telemetry_start_dir", default=None
)
_RAW_ARGS: Final = frozenset({"track", "hook", "track-role", "track-agent", "track-handoff"})
_EXTENSIONS: Final = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json"}


def start_dir() -> str:
    """Where to look for the project: `-p/--project-root` if given, else the current folder."""
    return START_DIR.get() or os.getcwd()


class _UsageError(Exception):
    """A compatibility option used wrongly: one line, exit 2."""


def _take(args: list[str], i: int, name: str) -> tuple[str, int]:
    """The value of option `args[i]` (`--x V`, `--x=V`, `-xV`) and the index after it."""
    arg = args[i]
    if arg.startswith("--") and "=" in arg:
        return arg.partition("=")[2], i + 1
    if not arg.startswith("--") and len(arg) > 2:
        return arg[2:], i + 1
    if i + 1 >= len(args):
        raise _UsageError(f"option {name} needs a value")
    return args[i + 1], i + 2


def _is(arg: str, long: str, short: str | None) -> bool:
    return (
        arg == long
        or arg.startswith(long + "=")
        or (short is not None and (arg == short or (arg.startswith(short) and len(arg) > 2)))
    )


def flowspec_options(command: str, args: Sequence[str]) -> tuple[list[str], str | None]:
    """flowspec 0.4's option spellings rewritten to ours; (args, project root or None)."""
    rest: list[str] = []
    root: str | None = None
    args = list(args)
    i = 0
    has_format = any(_is(a, "--format", "-f") for a in args)
    output: str | None = None
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest.extend(args[i:])
            break
        if _is(arg, "--project-root", "-p"):
            root, i = _take(args, i, "--project-root")
            continue
        if command == "stats" and _is(arg, "--days", "-d"):
            days, i = _take(args, i, "--days")
            if not days.isdigit():
                raise _UsageError(f"--days takes a whole number of days, not {days[:40]!r}")
            rest += ["--since", f"{int(days)}d"]
            continue
        if command == "clear" and arg in ("-y", "--yes"):
            rest.append("--force")
            i += 1
            continue
        if command == "export" and _is(arg, "--output", "-o"):
            output, i = _take(args, i, "--output")
            rest += ["--output", output]
            continue
        rest.append(arg)
        i += 1
    if command == "export" and not any(a in ("-h", "--help") for a in rest):
        if output is None:
            rest += ["--output", "-"]
        if not has_format:
            ext = os.path.splitext(output or "")[1].lower()
            rest += ["--format", _EXTENSIONS.get(ext, "json")]
    if root is not None and not os.path.isdir(root):
        raise _UsageError(f"--project-root {root[:200]!r} is not a folder")
    return rest, root


def _prog(ctx: Any) -> str:
    path = getattr(ctx, "command_path", "") or ""
    return path or "flowspec-telemetry"


def error_line(prog: str, message: str) -> None:
    """One line on stderr, whatever the message held.

    Messages carry what the tool did not choose: an OS error names a file whose
    name (a folder in the project path) may hold terminal escapes or bidi and
    tag characters, so every message is made printable here, not by each caller
    (`core.normalize.escape_unsafe`, the set every display layer uses).
    """
    from rich.console import Console

    from flowspec_telemetry.core.normalize import clean_text, escape_unsafe

    text = escape_unsafe(clean_text(" ".join(message.split()), 1000))
    Console(stderr=True, highlight=False, markup=False, emoji=False).print(
        f"{prog}: error: {text}", soft_wrap=True
    )


class OneLineGroup(TyperGroup):
    """Our typer group: one-line errors and our exit codes under any host (see module doc)."""

    def resolve_command(self, ctx: Any, args: list[str]) -> tuple[Any, Any, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        if name is not None and name not in _RAW_ARGS and self is _top(ctx):
            rest, root = flowspec_options(name, rest)
            if root is not None:
                START_DIR.set(os.path.abspath(root))
        return name, command, rest

    def invoke(self, ctx: Any) -> Any:
        if self is not _top(ctx):
            return super().invoke(ctx)
        from flowspec_telemetry.cli.exit_codes import CliError

        token = START_DIR.set(None)
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort):
            raise
        except CliError as exc:
            error_line(_prog(ctx), str(exc))
            raise typer.Exit(exc.code) from None
        except _UsageError as exc:
            error_line(_prog(ctx), str(exc))
            raise typer.Exit(ExitCode.USAGE) from None
        except BrokenPipeError:  # the reader left (`| head`): `app.run` ends quietly, exit 0
            raise
        except OSError as exc:
            where = f": {exc.filename}" if exc.filename else ""
            error_line(_prog(ctx), f"{exc.strerror or exc}{where}")
            raise typer.Exit(ExitCode.FAILURE) from None
        except Exception as exc:
            format_message = getattr(exc, "format_message", None)
            code = getattr(exc, "exit_code", None)
            if type(exc).__name__ == "NoArgsIsHelpError" or not (
                callable(format_message) and isinstance(code, int)
            ):
                raise
            if code == 0:
                raise typer.Exit(0) from None
            error_line(_prog(ctx), str(format_message()))
            raise typer.Exit(ExitCode.USAGE if code == 2 else code) from None
        finally:
            START_DIR.reset(token)


def _top(ctx: Any) -> Any:
    """The outermost group of ours in this context chain (a host's groups are not ours)."""
    top = ctx.command
    parent = ctx.parent
    while parent is not None:
        if isinstance(parent.command, OneLineGroup):
            top = parent.command
        parent = parent.parent
    return top
