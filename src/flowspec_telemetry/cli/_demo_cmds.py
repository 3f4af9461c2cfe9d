"""`demo`: the README's first command: a project with history, and what it answers."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from flowspec_telemetry.analysis.insights import project_insights
from flowspec_telemetry.cli._render import fail, line, not_an_option, plural
from flowspec_telemetry.cli.exit_codes import ExitCode
from flowspec_telemetry.cli.fast import PROG
from flowspec_telemetry.core.consent_rules import env_rule
from flowspec_telemetry.demo import build_demo


def demo_cmd(
    folder: Annotated[
        Path | None,
        typer.Argument(
            metavar="DIR",
            callback=not_an_option,
            help="Where to build the demo project (new or empty). Default: a new temporary folder.",
        ),
    ] = None,
) -> None:
    """Build a demo project and show what it answers.

    Three weeks of simulated history, the answers, and the HTML dashboard.
    """
    if folder is None:
        folder = Path(tempfile.mkdtemp(prefix="flowspec-telemetry-demo-"))
    elif folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        fail(f"{folder} is not an empty folder; name a new one", ExitCode.USAGE)
    folder = folder.absolute()  # `demo .` must still print a path and a URL that work
    count = build_demo(folder)
    line(f"Built a demo project in {folder} with {plural(count, 'event')}.", "bold")
    line("Consent was given for that folder only; nothing else on this machine changed.")
    blocked = env_rule()
    if blocked is not None and not blocked.enabled:
        line(
            f"({blocked.reason}: that keeps tracking of you off. The demo's history is "
            "simulated and about nobody, so it was built anyway.)"
        )
    data = project_insights(folder)
    dashboard = _write_dashboard(folder, data)
    line("")
    line("What the history answers:", "bold")
    for number, key in enumerate(("roles", "commands", "security", "handoffs", "completion"), 1):
        line(f"  {number}. {data[key]['answer']}")
    line("")
    line(f"HTML dashboard: {dashboard}", "bold")
    line(f"  open it in a browser ({dashboard.as_uri()}); it is one offline file, no scripts.")
    line("")
    line("Look around:", "bold")
    if folder != Path.cwd().absolute():  # no `cd .` when it was built right here
        line(f"  cd {folder}")
    hints = (
        ("dashboard", "the same answers as terminal panels"),
        ("insights", "every figure behind them (--json for scripts)"),
        ("view", "the latest events, exactly as stored"),
        ("status", "why telemetry is on here, and where it is stored"),
        ("report --html FILE", "the HTML dashboard again, for any period (--since/--until)"),
    )
    width = max(len(command) for command, _ in hints)
    prog = _invoked_as()
    for command, what in hints:
        line(f"  {prog} {command:<{width}}  {what}")


def _invoked_as() -> str:
    """How to call this program from the demo folder: bare when it is on the PATH."""
    script = os.path.realpath(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    found = shutil.which(PROG)
    if not script or (found and os.path.realpath(found) == script):
        return PROG
    return script if os.path.basename(script) == PROG else PROG


def _write_dashboard(folder: Path, data: dict[str, Any]) -> Path:
    """The HTML report of the demo, next to its `.flowspec/` (mode 0600)."""
    from flowspec_telemetry.core.roles import load_catalog
    from flowspec_telemetry.report._output import write_private
    from flowspec_telemetry.report.html import render_html

    path = folder / "flowspec-telemetry-report.html"
    generated = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    page = render_html(data, load_catalog(folder), generated_at=generated, title="Demo project")
    write_private(path, page.encode("utf-8"), force=True)
    return path
