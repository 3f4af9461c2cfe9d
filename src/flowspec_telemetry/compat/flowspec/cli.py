"""flowspec's `telemetry_app`: its command names, arguments and options, over this package.

`flowspec telemetry enable|disable|status|stats|view|clear|export` and the
template calls `track-role ROLE [-c C]`, `track-agent AGENT [-c C] [-r R]`,
`track-handoff SOURCE TARGET [-r R]` (all with `-p/--project-root`, the
tracking ones with `-q`) work as in `flowspec_cli.telemetry.cli`, so flowspec
can keep `app.add_typer(telemetry_app, name="telemetry")` and only change
the import. What they show and record is this package's: its privacy notice,
its consent decision, schema 1.0 events (flowspec's old lines mapped), with
every value from the data shown inert (escapes visible, never markup).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from flowspec_telemetry.cli._render import cell, out, safe
from flowspec_telemetry.compat.flowspec import config, integration
from flowspec_telemetry.core import store
from flowspec_telemetry.core._files import write_private
from flowspec_telemetry.core.events import utc_timestamp
from flowspec_telemetry.history import erase

telemetry_app = typer.Typer(
    name="telemetry",
    help="Manage telemetry settings and view usage statistics",
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

_ROOT = typer.Option("--project-root", "-p", help="Project root directory")
_QUIET = typer.Option("--quiet", "-q", help="Suppress output (for use in scripts)")
_YES = typer.Option("--yes", "-y", help="Skip confirmation prompt")


def _root(project_root: str | None) -> Path:
    return Path(project_root) if project_root else Path.cwd()


def _say(text: str) -> None:
    out.print(text, markup=False, highlight=False, soft_wrap=True)


@telemetry_app.command("enable")
def enable_command(
    yes: Annotated[bool, _YES] = False, project_root: Annotated[str | None, _ROOT] = None
) -> None:
    """Enable telemetry with opt-in consent (shows the privacy notice first)."""
    root = _root(project_root)
    if config.is_telemetry_enabled(root):
        _say("Telemetry is already enabled.")
        return
    if not yes:
        from flowspec_telemetry.consent.notice import notice_text

        _say(notice_text(root))
        if not typer.confirm("Do you want to enable telemetry?", default=False):
            _say("Telemetry not enabled.")
            raise typer.Exit(0)
    if not config.enable_telemetry(root):
        _say("Failed to enable telemetry.")
        raise typer.Exit(1)
    _say("Telemetry enabled. You can disable it anytime with: flowspec telemetry disable")
    if not config.is_telemetry_enabled(root):
        _say("But it is still off here: run `flowspec-telemetry status` to see which rule decides.")


@telemetry_app.command("disable")
def disable_command(project_root: Annotated[str | None, _ROOT] = None) -> None:
    """Disable telemetry and record your no; existing data is kept (`clear` deletes it)."""
    root = _root(project_root)
    if not config.disable_telemetry(root):
        _say("Failed to disable telemetry.")
        raise typer.Exit(1)
    _say("Telemetry disabled. Use 'flowspec telemetry clear' to delete existing data.")


@telemetry_app.command("status")
def status_command(project_root: Annotated[str | None, _ROOT] = None) -> None:
    """Show whether telemetry is on, and where its files are."""
    root = _root(project_root)
    settings = config.load_telemetry_config(root)
    table = Table(title="Telemetry Status", show_header=False, box=None)
    table.add_column("Setting")
    table.add_column("Value")
    table.add_row("Status", "Enabled" if config.is_telemetry_enabled(root) else "Disabled")
    if settings.consent_given_at:
        table.add_row("Consent Given", cell(settings.consent_given_at))
    table.add_row("Events Collected", str(erase.count_events(root)[0]))
    table.add_row("Config File", cell(str(config.get_config_path(root))))
    table.add_row("Data File", cell(str(store.events_path(root))))
    out.print(table)


def _events(root: Path) -> list[dict[str, Any]]:
    try:
        return list(store.iter_events(root))
    except OSError:
        return []


@telemetry_app.command("stats")
def stats_command(
    days: Annotated[int, typer.Option("--days", "-d", help="Number of days to analyze")] = 30,
    project_root: Annotated[str | None, _ROOT] = None,
) -> None:
    """Event counts by type, role, agent and command over the last `--days`."""
    root = _root(project_root)
    since = utc_timestamp(int((datetime.now(UTC) - timedelta(days=days)).timestamp() * 1e9))
    events = [e for e in _events(root) if str(e.get("timestamp", "")) >= since]
    if not events:
        _say(f"No events in the last {days} days.")
        return
    for title, key in (
        ("Event Types", "event_type"),
        ("Roles Used", "role"),
        ("Agents Invoked", "agent"),
        ("Commands Used", "command"),
    ):
        counts: dict[str, int] = {}
        for event in events:
            value = event.get(key)
            if isinstance(value, str) and value:
                counts[value] = counts.get(value, 0) + 1
        if not counts:
            continue
        table = Table(title=title)
        table.add_column(title.split()[0].rstrip("s"))
        table.add_column("Count", justify="right")
        for value, n in sorted(counts.items(), key=lambda kv: -kv[1])[:10]:
            table.add_row(cell(value), str(n))
        out.print(table)
    _say(f"Total events: {len(events)}")


@telemetry_app.command("view")
def view_command(
    limit: Annotated[
        int, typer.Option("--limit", "-n", help="Number of recent events to show")
    ] = 20,
    project_root: Annotated[str | None, _ROOT] = None,
) -> None:
    """The most recent events, newest first."""
    root = _root(project_root)
    recent = list(reversed(store.tail_events(root, max(limit, 0))))
    if not recent:
        _say("No events recorded.")
        return
    table = Table(title=f"Recent Events (showing {len(recent)})")
    for name in ("Time", "Type", "Role", "Agent", "Command"):
        table.add_column(name)
    for event in recent:
        table.add_row(
            cell(str(event.get("timestamp", ""))[:19]),
            cell(event.get("event_type")),
            cell(event.get("role") or "-"),
            cell(event.get("agent") or "-"),
            cell(event.get("command") or "-"),
        )
    out.print(table)


@telemetry_app.command("clear")
def clear_command(
    yes: Annotated[bool, _YES] = False, project_root: Annotated[str | None, _ROOT] = None
) -> None:
    """Delete every event, archive and the salt; your consent answer is kept."""
    root = _root(project_root)
    count = erase.count_events(root)[0]
    if not yes and not typer.confirm(
        f"This will permanently delete {count} events. Are you sure?", default=False
    ):
        _say("Cancelled.")
        raise typer.Exit(0)
    try:
        done = erase.clear(root)
    except OSError as exc:
        _say(f"Failed to clear telemetry data: {safe(exc.strerror or str(exc))}")
        raise typer.Exit(1) from None
    _say(f"Cleared {done.events} telemetry events.")


@telemetry_app.command("export")
def export_command(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Output file path (default: stdout)")
    ] = None,
    project_root: Annotated[str | None, _ROOT] = None,
) -> None:
    """Every event as a JSON list (schema 1.0), to a file (mode 0600) or stdout."""
    root = _root(project_root)
    events = _events(root)
    if not events:
        _say("No events to export.")
        return
    text = json.dumps(events, indent=2, ensure_ascii=True)
    if output is None:
        typer.echo(text)
        return
    try:
        write_private(output, (text + "\n").encode("ascii"), replace=False)
    except OSError as exc:
        _say(
            f"Failed to write export: {safe(exc.strerror or str(exc))} "
            "(an existing file is never replaced)"
        )
        raise typer.Exit(1) from None
    _say(f"Exported {len(events)} events to {safe(str(output))}")


@telemetry_app.command("track-role")
def track_role_command(
    role: Annotated[str, typer.Argument(help="Role that was selected (e.g., dev, pm, qa)")],
    command: Annotated[
        str | None, typer.Option("--command", "-c", help="Command that triggered the selection")
    ] = None,
    project_root: Annotated[str | None, _ROOT] = None,
    quiet: Annotated[bool, _QUIET] = False,
) -> None:
    """Track a role selection, or a template's command run (see the README)."""
    root = _root(project_root)
    if not config.is_telemetry_enabled(root):
        if not quiet:
            _say("Telemetry disabled, event not recorded")
        return
    integration.track_role_selection(role, command=command, project_root=root)
    if not quiet:
        _say(f"Tracked role selection: {safe(role)}")


@telemetry_app.command("track-agent")
def track_agent_command(
    agent: Annotated[str, typer.Argument(help="Agent that was invoked")],
    command: Annotated[
        str | None, typer.Option("--command", "-c", help="Command that triggered the invocation")
    ] = None,
    role: Annotated[
        str | None, typer.Option("--role", "-r", help="Current user role context")
    ] = None,
    project_root: Annotated[str | None, _ROOT] = None,
    quiet: Annotated[bool, _QUIET] = False,
) -> None:
    """Track an agent invocation (`agent.invoked`)."""
    from flowspec_telemetry.compat.flowspec.events import RoleEvent
    from flowspec_telemetry.compat.flowspec.tracker import track_role_event

    root = _root(project_root)
    if not config.is_telemetry_enabled(root):
        if not quiet:
            _say("Telemetry disabled, event not recorded")
        return
    track_role_event(
        RoleEvent.AGENT_INVOKED, role=role, agent=agent, command=command, project_root=root
    )
    if not quiet:
        _say(f"Tracked agent invocation: {safe(agent)}")


@telemetry_app.command("track-handoff")
def track_handoff_command(
    source: Annotated[str, typer.Argument(help="Agent handing off")],
    target: Annotated[str, typer.Argument(help="Agent receiving handoff")],
    role: Annotated[
        str | None, typer.Option("--role", "-r", help="Current user role context")
    ] = None,
    project_root: Annotated[str | None, _ROOT] = None,
    quiet: Annotated[bool, _QUIET] = False,
) -> None:
    """Track a handoff click (`handoff.clicked`)."""
    root = _root(project_root)
    if not config.is_telemetry_enabled(root):
        if not quiet:
            _say("Telemetry disabled, event not recorded")
        return
    integration.track_handoff(source, target, role=role, project_root=root)
    if not quiet:
        _say(f"Tracked handoff: {safe(source)} -> {safe(target)}")


__all__ = ["telemetry_app"]
