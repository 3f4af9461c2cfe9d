"""`demo`: the README's first command: a project with history, and what it answers."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import typer

from ..demo import build_demo
from ..insights import project_insights
from .exit_codes import ExitCode
from .fast import PROG
from .render import fail, line


def demo_cmd(
    folder: Annotated[
        Path | None,
        typer.Argument(
            help="Where to build the demo project (new or empty). Default: a new temporary folder."
        ),
    ] = None,
) -> None:
    """Build a demo project with three weeks of history and show what it answers."""
    if folder is None:
        folder = Path(tempfile.mkdtemp(prefix="flowspec-telemetry-demo-"))
    elif folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        fail(f"{folder} is not an empty folder; name a new one", ExitCode.USAGE)
    count = build_demo(folder)
    line(f"Built a demo project in {folder} with {count} events.", "bold")
    line("Consent was given for that folder only; nothing else on this machine changed.")
    data = project_insights(folder)
    line("")
    line("What the history answers:", "bold")
    for number, key in enumerate(("roles", "commands", "security", "handoffs", "completion"), 1):
        line(f"  {number}. {data[key]['answer']}")
    line("")
    line("Look around:", "bold")
    line(f"  cd {folder}")
    for command, what in (
        ("dashboard", "the same answers as terminal panels"),
        ("insights", "every figure behind them (--json for scripts)"),
        ("view", "the latest events, exactly as stored"),
        ("status", "why telemetry is on here, and where it is stored"),
    ):
        line(f"  {PROG} {command:<10} {what}")
