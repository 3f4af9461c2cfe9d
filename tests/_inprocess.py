"""Run a typer command in this process, through typer's CliRunner, as the console script would.

Spawning a Python process per CLI call made the suite slow (about 0.3 s each,
128 calls). The typer commands are run here instead: the real entry point
(`cli.entry.main`, so the error handling and exit codes are the user's), with
stdin, stdout, stderr and the environment isolated by typer's `CliRunner`,
the working folder changed for the call, and every per-process cache the
library keeps (the default tracker, rich's consoles) reset before and after,
so one call cannot see another's state. `track` and `hook` keep running in a
real process (`conftest.run_cli`): their promise is about the process itself
(start-up time, imports, exit code 0 whatever happens).
"""

from __future__ import annotations

import os
import subprocess
import sys
import traceback
from collections.abc import Mapping

from rich.console import Console
from typer.testing import CliRunner

import flowspec_telemetry

_RUNNER = CliRunner()


def _consoles() -> list[Console]:
    found: dict[int, Console] = {}
    for name, module in list(sys.modules.items()):
        if module is None or not name.startswith("flowspec_telemetry."):
            continue
        for value in vars(module).values():
            if isinstance(value, Console):
                found[id(value)] = value
    return list(found.values())


def _digits(name: str) -> int | None:
    value = os.environ.get(name, "")
    return int(value) if value.isdigit() else None


def _refresh(console: Console) -> None:
    """What rich reads from the environment when a console is made, read again now.

    The consoles are made once per process (at import); a real run of the
    console script makes them with that run's COLUMNS, NO_COLOR and streams.
    """
    console._width = _digits("COLUMNS")
    console._height = _digits("LINES")
    console.no_color = os.environ.get("NO_COLOR", "") != ""
    console._color_system = console._detect_color_system()
    console.is_interactive = False


def run_in_process(
    args: list[str],
    *,
    cwd: os.PathLike[str] | str | None,
    env: Mapping[str, str] | None,
    input: str | bytes | None,
) -> subprocess.CompletedProcess[str]:
    from typer._click import formatting

    from flowspec_telemetry.cli.entry import main

    old_cwd = os.getcwd()
    flowspec_telemetry.default_tracker().invalidate()
    try:
        with _RUNNER.isolation(input=input, env=dict(env or {})) as (stdout, stderr, _):
            formatting.FORCED_WIDTH = None  # help is wrapped to COLUMNS, as in a terminal
            if cwd is not None:
                os.chdir(cwd)
            for console in _consoles():
                _refresh(console)
            try:
                code = main(list(args))
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            except BaseException:  # what the interpreter would print on the way out
                sys.stderr.write(traceback.format_exc())
                code = 1
            sys.stdout.flush()
            sys.stderr.flush()
            out = stdout.getvalue().decode("utf-8", "replace")
            err = stderr.getvalue().decode("utf-8", "backslashreplace")
    finally:
        os.chdir(old_cwd)
        flowspec_telemetry.default_tracker().invalidate()
        for console in _consoles():
            _refresh(console)
    return subprocess.CompletedProcess(["flowspec-telemetry", *args], code, out, err)
