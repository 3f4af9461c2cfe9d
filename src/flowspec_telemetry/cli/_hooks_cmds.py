"""`install-hooks`: wire the Claude Code hook adapter into a project."""

from __future__ import annotations

import difflib
import sys
from pathlib import Path
from typing import Annotated

import typer

from flowspec_telemetry.cli.exit_codes import ExitCode
from flowspec_telemetry.core.project import find_project_root
from flowspec_telemetry.integrations import claude_settings


def install_hooks(
    claude_code: Annotated[
        bool,
        typer.Option("--claude-code", help="Install the Claude Code hooks (the default adapter)."),
    ] = True,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the change; write nothing.")
    ] = False,
    remove: Annotated[
        bool, typer.Option("--remove", help="Take our hook entries out again.")
    ] = False,
    project: Annotated[
        Path | None, typer.Option("--project", help="Project folder (default: found from the cwd).")
    ] = None,
) -> None:
    """Add or remove the Claude Code hooks.

    Merges into .claude/settings.json: idempotent, with a backup of the original.
    """
    from flowspec_telemetry.cli._render import out
    from flowspec_telemetry.cli.exit_codes import CliError

    if not claude_code:
        raise CliError("only the Claude Code adapter exists; use --claude-code", ExitCode.USAGE)
    if project is not None and not project.is_dir():
        raise CliError(f"--project {project} is not a folder", ExitCode.USAGE)
    root = find_project_root(project) if project is None else project
    if root is None:
        raise CliError(
            "not in a flowspec project (no .flowspec/ or flowspec_workflow.yml here or above); "
            "run it from your project or pass --project",
            ExitCode.FAILURE,
        )
    try:
        change = claude_settings.plan(root, remove=remove)
    except claude_settings.SettingsError as exc:
        raise CliError(str(exc), ExitCode.USAGE) from None
    rel = change.path.relative_to(root)
    if not change.changed:
        out.print(
            f"{rel}: nothing to do (hooks already {'absent' if remove else 'installed'}).",
            markup=False,
        )
        return
    if dry_run:
        diff = difflib.unified_diff(
            (change.before or "").splitlines(keepends=True),
            change.after.splitlines(keepends=True),
            fromfile=f"{rel} (now)",
            tofile=f"{rel} (after)",
        )
        sys.stdout.write("".join(diff))  # raw: a wrapped line would make the diff invalid
        sys.stdout.flush()
        out.print("Dry run: nothing written.", markup=False)
        return
    claude_settings.apply(change)
    verb = "Removed the telemetry hooks from" if remove else "Installed the telemetry hooks in"
    out.print(f"{verb} {rel}.", markup=False)
    if change.backup is not None:
        out.print(f"The original is kept as {change.backup.relative_to(root)}.", markup=False)
    if not remove:
        out.print(
            "Claude Code now runs `flowspec-telemetry hook claude-code`; it records only "
            "when you have opted in (see `flowspec-telemetry status`).",
            markup=False,
        )
