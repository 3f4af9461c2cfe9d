"""The typer app: every subcommand except the fast `track` and `hook`.

Mount it in a host CLI with `mount(host_app, name="telemetry")`. Errors are
one line on stderr with a named exit code (see `exit_codes`), standalone and
under any typer host alike (the group class, `cli._group.OneLineGroup`, does
it); tracebacks are never shown to a user.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Annotated, Any, Final

import typer
from rich.console import Console

from flowspec_telemetry._version import __version__
from flowspec_telemetry.cli._group import OneLineGroup
from flowspec_telemetry.cli.exit_codes import CliError, ExitCode
from flowspec_telemetry.cli.fast import PROG

__all__ = [
    "hook",
    "mount",
    "run",
    "track",
]
from flowspec_telemetry.cli.fast import closed_pipe
from flowspec_telemetry.core.names import NOTICE_URL

# The order `--help` lists commands in: what a person runs first, then the
# data, then the plumbing a host calls (`track`, `hook`, `install-hooks`) last.
# A command missing here is listed after the first group and before the plumbing.
HELP_ORDER: Final = (
    "status",
    "enable",
    "disable",
    "prompt",
    "notice",
    "view",
    "stats",
    "insights",
    "dashboard",
    "report",
    "export",
    "clear",
    "schema",
    "demo",
    "org",
)
PLUMBING: Final = ("track", "hook", "install-hooks")


class _Group(OneLineGroup):
    """Our one-line-error group, listing commands in `HELP_ORDER`, not registration order."""

    def list_commands(self, ctx: Any) -> list[str]:
        names = super().list_commands(ctx)

        def rank(name: str) -> tuple[int, int]:
            if name in PLUMBING:
                return (2, PLUMBING.index(name))
            if name in HELP_ORDER:
                return (0, HELP_ORDER.index(name))
            return (1, names.index(name))

        return sorted(names, key=rank)


app = typer.Typer(
    cls=_Group,
    name=PROG,
    help="Privacy-first, local, opt-in role usage analytics for flowspec.",
    epilog=f"Privacy notice: `{PROG} notice`, or {NOTICE_URL}",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def _version(value: bool) -> None:
    if value:
        out.print(f"{PROG} {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Privacy-first, local, opt-in role usage analytics for flowspec."""


@app.command(
    context_settings={
        "ignore_unknown_options": True,
        "allow_extra_args": True,
        "help_option_names": [],
    }
)
def track(ctx: typer.Context) -> None:
    """Record one event (fast path).

    See `track --help`.
    """
    from flowspec_telemetry.cli.fast import run_track

    raise typer.Exit(run_track(ctx.args))


@app.command(
    context_settings={
        "ignore_unknown_options": True,
        "allow_extra_args": True,
        "help_option_names": [],
    }
)
def hook(ctx: typer.Context) -> None:
    """Record what an agent hook payload stands for.

    `hook claude-code` reads one payload on stdin (fast path).
    """
    from flowspec_telemetry.cli.fast import run_hook

    raise typer.Exit(run_hook(ctx.args))


def _template_command(name: str) -> None:
    """flowspec's template call forms, as typer commands (a host that mounts us runs these)."""

    def command(ctx: typer.Context) -> None:
        from flowspec_telemetry.cli._templates import run as run_template

        parent = ctx.parent.command_path if ctx.parent is not None else PROG
        raise typer.Exit(run_template(name, ctx.args, prog=parent or PROG))

    command.__doc__ = (
        f"flowspec's template form: {name} (fast path).\n\nSee `{name} --help`; "
        "the same words as flowspec's own telemetry sub-app."
    )
    app.command(
        name,
        context_settings={
            "ignore_unknown_options": True,
            "allow_extra_args": True,
            "help_option_names": [],
        },
    )(command)


for _name in ("track-role", "track-agent", "track-handoff"):
    _template_command(_name)


from flowspec_telemetry.cli._hooks_cmds import install_hooks  # noqa: E402 - registered after `app` exists

app.command("install-hooks")(install_hooks)

from flowspec_telemetry.cli._report_cmds import report  # noqa: E402 - registered after `app` exists

app.command("report")(report)


def run(args: Sequence[str]) -> int:
    """Run the app; every failure becomes one line on stderr and a named exit code.

    Typer (which vendors click in recent releases) signals usage errors with
    click's exception protocol: `format_message()` plus `exit_code`. We rely on
    that protocol rather than on the exception classes, which moved.
    """
    if not args:
        args = ["--help"]
    stdout = sys.stdout
    watched = _PipeWatch(stdout)
    sys.stdout = watched  # delegates every other attribute
    try:
        result = app(list(args), prog_name=PROG, standalone_mode=False)
        watched.flush()
    except BrokenPipeError:
        return closed_pipe()
    except SystemExit:
        # click turns a closed pipe into exit status 1; it is not a failure here.
        if watched.pipe_closed:
            return closed_pipe()
        raise
    except CliError as exc:
        _error(str(exc))
        return exc.code
    except typer.Exit as exc:
        return int(exc.exit_code)
    except typer.Abort:
        err.print(f"{PROG}: aborted", markup=False)
        return ExitCode.FAILURE
    except OSError as exc:
        _error(f"{exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else ""))
        return ExitCode.FAILURE
    except Exception as exc:
        format_message = getattr(exc, "format_message", None)
        code = getattr(exc, "exit_code", None)
        if callable(format_message) and isinstance(code, int):
            if code == 0:  # click's Exit in older releases
                return 0
            _error(str(format_message()))
            return ExitCode.USAGE if code == 2 else code
        raise
    finally:
        sys.stdout = stdout
    if isinstance(result, int) and result == ExitCode.INTERRUPTED:
        err.print(f"{PROG}: interrupted", markup=False)
    return result if isinstance(result, int) else ExitCode.OK


def mount(host_app: typer.Typer, name: str = "telemetry") -> None:
    """Add every command to a typer host CLI as `<host> <name> ...`.

    Errors stay one line on stderr with this package's exit codes, and usage
    and error lines name the host (`flowspec telemetry: error: ...`). A group
    or command of the host with the same name is replaced: mounted where
    flowspec's own `telemetry` sub-app was, every command and option its
    templates and users call keeps working (`track-role`, `track-agent`,
    `track-handoff`, `-p/--project-root`, `stats --days`, `clear -y`,
    `export -o FILE`).
    """

    def named(info: Any) -> str | None:
        given = getattr(info, "name", None)
        if isinstance(given, str):
            return given
        instance = getattr(info, "typer_instance", None)
        inner = getattr(getattr(instance, "info", None), "name", None)
        return inner if isinstance(inner, str) else None

    host_app.registered_groups = [g for g in host_app.registered_groups if named(g) != name]
    host_app.registered_commands = [
        c for c in host_app.registered_commands if named(c) != name and _callback_name(c) != name
    ]
    host_app.add_typer(app, name=name, help=app.info.help)


def _callback_name(info: Any) -> str | None:
    callback = getattr(info, "callback", None)
    if callback is None or isinstance(getattr(info, "name", None), str):
        return None
    return str(callback.__name__).replace("_", "-")


class _PipeWatch:
    """Standard output that remembers whether its reader went away.

    A closed pipe can surface as `BrokenPipeError` from our own writes, from
    rich, or as the `SystemExit(1)` click makes of it; this is how `run` tells
    the last case from a real exit status 1.
    """

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self.pipe_closed = False

    def write(self, text: str) -> int:
        try:
            return int(self._stream.write(text))
        except BrokenPipeError:
            self.pipe_closed = True
            raise

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            self.pipe_closed = True
            raise

    @property
    def buffer(self) -> Any:
        """The binary stream (fast export writes bytes), watched the same way."""
        inner: Any = getattr(self._stream, "buffer", None)
        if inner is None:
            raise AttributeError("buffer")
        outer = self

        class _Bytes(_PipeWatch):
            def write(self, data: Any) -> int:
                try:
                    return int(inner.write(data))
                except BrokenPipeError:
                    outer.pipe_closed = True
                    raise

            def flush(self) -> None:
                try:
                    inner.flush()
                except BrokenPipeError:
                    outer.pipe_closed = True
                    raise

        return _Bytes(inner)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _error(message: str) -> None:
    """One line on stderr, whatever the message held.

    Messages can carry what the tool did not choose: an OS error names a file
    whose name (a folder in the project path) may hold terminal escapes, so
    every message is made printable here (`_render.safe`), not by each caller.
    """
    from flowspec_telemetry.cli._render import safe

    line = safe(" ".join(message.split()), limit=1000)
    err.print(f"{PROG}: error: {line}", markup=False, soft_wrap=True)


# Commands defined in their own modules (issue 4: consent, disclosure, data).
from flowspec_telemetry.cli import _consent_cmds as consent_cmds  # noqa: E402
from flowspec_telemetry.cli import _data_cmds as data_cmds  # noqa: E402
from flowspec_telemetry.cli import _migrate_cmds as migrate_cmds  # noqa: E402

consent_cmds.register(app)
data_cmds.register(app)
migrate_cmds.register(app)

from flowspec_telemetry.cli._demo_cmds import demo_cmd  # noqa: E402
from flowspec_telemetry.cli._insights_cmds import dashboard_cmd, insights_cmd  # noqa: E402

app.command("insights")(insights_cmd)
app.command("demo")(demo_cmd)
app.command("dashboard")(dashboard_cmd)

from flowspec_telemetry.cli._audit_cmds import audit_cmd  # noqa: E402

app.command("audit")(audit_cmd)

from flowspec_telemetry.cli._collector_cmds import collector_app, upload_cmd  # noqa: E402

app.add_typer(collector_app, name="collector")
app.command("upload")(upload_cmd)

from flowspec_telemetry.cli._org_cmds import org_app  # noqa: E402

app.add_typer(org_app, name="org")
