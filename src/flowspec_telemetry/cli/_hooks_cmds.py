"""`install-hooks`: wire the Claude Code and flowspec hook adapters into a project."""

from __future__ import annotations

import difflib
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from flowspec_telemetry.cli._render import not_an_option
from flowspec_telemetry.cli.exit_codes import ExitCode
from flowspec_telemetry.core.project import find_project_root
from flowspec_telemetry.integrations import claude_settings, flowspec_hooks_config


def _print_change(
    change: claude_settings.Change, root: Path, *, dry_run: bool, remove: bool
) -> bool:
    """Show or report one planned change; True when it should be written."""
    from flowspec_telemetry.cli._render import out

    rel = change.path.relative_to(root)
    if not change.changed:
        out.print(
            f"{rel}: nothing to do (hooks already {'absent' if remove else 'installed'}).",
            markup=False,
        )
        return False
    if dry_run:
        diff = difflib.unified_diff(
            (change.before or "").splitlines(keepends=True),
            change.after.splitlines(keepends=True),
            fromfile=f"{rel} (now)",
            tofile=f"{rel} (after)",
        )
        sys.stdout.write("".join(diff))  # raw: a wrapped line would make the diff invalid
        sys.stdout.flush()
        return False
    return True


def _path_warning(command: str, program: str = claude_settings.PROGRAM) -> str | None:
    """The warning (with the fix) when the hook command would not resolve on PATH."""
    if os.path.isabs(command.split(maxsplit=1)[0].strip("'\"")):
        return None
    if claude_settings.command_on_path(program) is not None:
        return None
    here = Path(sys.executable).with_name(program)
    where = f" ({here})" if here.exists() else ""
    folder = f" or put {here.parent} on the PATH your tools start with" if here.exists() else ""
    return (
        f"warning: `{program}` is not on your PATH, so the hooks could not run it. "
        f"Fix: run `{program} install-hooks --absolute` to write this installation's full "
        f"path{where}{folder}."
    )


def install_hooks(  # noqa: PLR0917 - typer maps each parameter to an option
    claude_code: Annotated[
        bool,
        typer.Option(
            "--claude-code",
            help="Install the Claude Code hooks (the default when no adapter is named).",
        ),
    ] = False,
    flowspec: Annotated[
        bool,
        typer.Option(
            "--flowspec", help="Install the flowspec lifecycle hook in .flowspec/hooks/hooks.yaml."
        ),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the change; write nothing.")
    ] = False,
    remove: Annotated[
        bool, typer.Option("--remove", help="Take our hook entries out again.")
    ] = False,
    absolute: Annotated[
        bool,
        typer.Option(
            "--absolute",
            help="Write this installation's absolute path to flowspec-telemetry (no PATH needed).",
        ),
    ] = False,
    project: Annotated[
        Path | None,
        typer.Option(
            "--project",
            metavar="DIR",
            callback=not_an_option,
            help="Project folder (default: found from the cwd).",
        ),
    ] = None,
) -> None:
    """Add or remove the Claude Code and/or flowspec hooks.

    Merges into .claude/settings.json and .flowspec/hooks/hooks.yaml:
    idempotent, with a backup of each original.
    """
    from flowspec_telemetry.cli._render import out
    from flowspec_telemetry.cli.exit_codes import CliError

    if project is not None and not project.is_dir():
        raise CliError(f"--project {project} is not a folder", ExitCode.USAGE)
    root = find_project_root(project) if project is None else project
    if root is None:
        raise CliError(
            "not in a flowspec project (no .flowspec/ or flowspec_workflow.yml here or above); "
            "run it from your project or pass --project",
            ExitCode.FAILURE,
        )
    targets = []
    if claude_code or not flowspec:
        targets.append(("claude-code", claude_settings, claude_settings.HOOK_ARGS))
    if flowspec:
        targets.append(("flowspec", flowspec_hooks_config, flowspec_hooks_config.HOOK_ARGS))
    planned = []
    try:
        for name, module, args in targets:
            command = (
                claude_settings.absolute_command(args)
                if absolute
                else " ".join((claude_settings.PROGRAM, *args))
            )
            planned.append(
                (name, module, command, module.plan(root, remove=remove, command=command))
            )
    except claude_settings.SettingsError as exc:
        raise CliError(str(exc), ExitCode.USAGE) from None
    writes = [
        (name, module, command, change)
        for name, module, command, change in planned
        if _print_change(change, root, dry_run=dry_run, remove=remove)
    ]
    if dry_run:
        out.print("Dry run: nothing written.", markup=False)
    for name, module, command, change in writes:
        try:
            module.apply(change)
        except claude_settings.SettingsError as exc:
            raise CliError(str(exc), ExitCode.USAGE) from None
        rel = change.path.relative_to(root)
        verb = "Removed the telemetry hooks from" if remove else "Installed the telemetry hooks in"
        out.print(f"{verb} {rel}.", markup=False)
        if change.backup is not None and change.before is not None:
            out.print(f"The original is kept as {change.backup.relative_to(root)}.", markup=False)
        if not remove:
            runner = "Claude Code" if name == "claude-code" else "flowspec"
            out.print(
                f"{runner} now runs `{command}`; it records only when you have opted in "
                "(see `flowspec-telemetry status`).",
                markup=False,
            )
    if not remove:
        for _, _, command, _ in planned:
            warning = _path_warning(command)
            if warning is not None:
                sys.stderr.write(warning + "\n")
                break
