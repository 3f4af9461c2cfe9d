"""`audit`: the privacy promises checked on the person's own files (exit 1 on a finding)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from flowspec_telemetry.cli._render import fail, line, print_json, project_or_fail, safe
from flowspec_telemetry.cli.exit_codes import ExitCode
from flowspec_telemetry.core.names import FLOWSPEC


def _migrate_available(ctx: typer.Context) -> bool:
    """Whether the app running us has a `migrate` command (the fix for legacy host-name hashes).

    Asked of the command group this command runs in (ours, or a host's that
    mounted it), not by importing `cli.app`, which imports this module.
    """
    group = ctx.parent.command if ctx.parent is not None else None
    return "migrate" in (getattr(group, "commands", None) or {})


def audit_cmd(
    ctx: typer.Context,
    files: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Exports or reports you wrote elsewhere, checked too.", show_default=False
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the findings as JSON.")] = False,
) -> None:
    """Check every telemetry file for personal data, unkeyed hashes and loose file modes."""
    from flowspec_telemetry.report.audit import audit_project

    extra = list(files or [])
    for path in extra:
        if not path.is_file():
            fail(f"cannot audit {path}: not a file")
    root = project_or_fail("nothing to audit", reading=False)
    result = audit_project(root, FLOWSPEC, extra=extra, migrate_available=_migrate_available(ctx))
    if as_json:
        print_json(result)
    else:
        for finding in result["findings"]:
            where = finding["file"] + (f":{finding['line']}" if finding["line"] else "")
            line(
                f"FINDING {safe(where, 300)}: {finding['kind']}: {safe(finding['detail'], 300)} "
                f"(fix: {safe(finding['fix'], 200)})"
            )
        spent = result["budget"]
        line(
            f"Checked {len(result['files'])} files: "
            + (f"{len(result['findings'])} findings." if result["findings"] else "no finding.")
            + f" Shared: {spent['weekly_reports']} weekly reports (epsilon "
            f"{spent['epsilon_last_52_weeks']:g} in the last 52 weeks, budget {spent['budget']:g})"
            + (
                f", {spent['legacy_reports']} older-format reports."
                if spent["legacy_reports"]
                else "."
            )
        )
    if result["findings"]:
        raise typer.Exit(ExitCode.FAILURE)
