"""`migrate`: rewrite history from flowspec's earlier telemetry module as schema 1.0."""

from __future__ import annotations

from typing import Annotated

import typer

from flowspec_telemetry.cli._render import fail, line, project_or_fail
from flowspec_telemetry.cli.exit_codes import ExitCode
from flowspec_telemetry.core.names import FLOWSPEC
from flowspec_telemetry.history.migrate import migrate


def _files(n: int) -> str:
    return f"{n} file{'' if n == 1 else 's'}"


def migrate_cmd(
    commit: Annotated[
        bool,
        typer.Option("--commit", help="Also delete the backups kept by earlier runs."),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only say what would be migrated; write nothing.")
    ] = False,
) -> None:
    """Rewrite lines of flowspec's earlier telemetry module in place as schema 1.0.

    Keeps each line's place and time, drops the host-name hash and free
    context, stores values outside the role catalog as keyed hashes, and
    keeps a private backup of each rewritten file until `--commit`.
    """
    if commit and dry_run:
        fail("--commit and --dry-run exclude each other")
    root = project_or_fail("nothing to migrate")
    try:
        done = migrate(root, commit=commit, dry_run=dry_run)
    except OSError as exc:
        fail(f"migrate: {exc.strerror or exc}", ExitCode.FAILURE)
    if dry_run:
        if done.migrated:
            line(
                f"Would migrate {done.migrated} lines of flowspec's earlier telemetry in "
                f"{_files(len(done.files))} ({', '.join(done.files)}); nothing written."
            )
        else:
            line("Nothing to migrate: no line of flowspec's earlier telemetry module.")
        return
    if done.migrated:
        line(
            f"Migrated {done.migrated} lines of flowspec's earlier telemetry to schema 1.0 "
            f"in {_files(len(done.files))}."
        )
    else:
        line("Nothing to migrate: no line of flowspec's earlier telemetry module.")
    if done.removed_backups:
        n = len(done.removed_backups)
        line(f"Removed {n} backup{'' if n == 1 else 's'}.")
    if done.backups:
        line(
            f"Backups kept in {FLOWSPEC.project_dir}/: {', '.join(done.backups)} "
            "(private; `migrate --commit` deletes them)."
        )


def register(app: typer.Typer) -> None:
    app.command("migrate")(migrate_cmd)


__all__ = ["migrate_cmd", "register"]
