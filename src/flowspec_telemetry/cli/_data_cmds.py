"""Commands about the recorded data: view, export, clear, stats."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from flowspec_telemetry.analysis.stats import Stats, project_stats
from flowspec_telemetry.cli._render import cell, fail, line, out, print_json, project_or_fail, safe
from flowspec_telemetry.cli.exit_codes import ExitCode
from flowspec_telemetry.core.names import FLOWSPEC
from flowspec_telemetry.core.store import ReadStats
from flowspec_telemetry.history import erase, selection
from flowspec_telemetry.report.export import ExportError, export

_SINCE = typer.Option("--since", help=f"Only events at or after: {selection.DATE_HELP}.")
_UNTIL = typer.Option("--until", help="Only events before this (a bare date includes that day).")
_JSON = typer.Option("--json", help="Print JSON for scripts.")


class Format(StrEnum):
    json = "json"
    jsonl = "jsonl"
    csv = "csv"


def _window(since: str | None, until: str | None) -> tuple[str | None, str | None]:
    try:
        return selection.window(since, until)
    except selection.QueryError as exc:
        fail(str(exc))


def view_cmd(  # noqa: PLR0917 - typer maps each parameter to an option
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=0, help="How many events (0 = all, streamed).")
    ] = 50,
    event_type: Annotated[str | None, typer.Option("--type", help="Only this event type.")] = None,
    role: Annotated[str | None, typer.Option("--role", help="Only this role.")] = None,
    since: Annotated[str | None, _SINCE] = None,
    until: Annotated[str | None, _UNTIL] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False,
    shared: Annotated[
        bool, typer.Option("--shared", help="List the share reports written (the ledger).")
    ] = False,
) -> None:
    """Show the latest events, newest last."""
    if shared:
        _view_shared(project_or_fail("no share report"), as_json=as_json)
        return
    try:
        etype = selection.check_event_type(event_type)
    except selection.QueryError as exc:
        fail(str(exc))
    lo, hi = _window(since, until)
    root = project_or_fail("nothing to view")
    filt = selection.Filter(etype, _stored_role(root, role), lo, hi)
    read = ReadStats()
    events: Any = (
        selection.stream(root, filt, stats=read)
        if limit == 0
        else selection.select(root, limit, filt, stats=read)
    )
    if as_json:
        write = sys.stdout.write
        for event in events:
            write(json.dumps(event, ensure_ascii=True, separators=(",", ":")) + "\n")
        return
    table = Table(expand=False)
    for name in ("time (UTC)", "event"):  # never split mid-word, even at 80 columns
        table.add_column(name, no_wrap=True)
    for name in ("role", "command", "agent", "details"):
        table.add_column(name, overflow="fold")
    shown = 0
    for event in events:
        shown += 1
        ts = event.get("timestamp")
        table.add_row(
            cell(ts[:19].replace("T", " ") if isinstance(ts, str) else ts),
            cell(event.get("event_type")),
            cell(event.get("role")),
            cell(event.get("command")),
            cell(event.get("agent")),
            cell(_details(event)),
        )
    if not shown:
        line("No events match." if not filt.empty else "No events recorded yet.")
    else:
        out.print(table)
    if read.skipped:
        line(f"({read.skipped} unreadable lines skipped)")


def _stored_role(root: Path, role: str | None) -> str | None:
    """`--role` as it is stored: a catalog role as is, any other as this project's keyed hash."""
    from flowspec_telemetry.core.privacy import SaltError, hash_value, is_hash, read_salt
    from flowspec_telemetry.core.roles import load_catalog

    if role is None or is_hash(role) or role in load_catalog(root).known_roles:
        return role
    try:
        salt = read_salt(root / FLOWSPEC.project_dir)
    except (OSError, SaltError):
        salt = None
    return hash_value(role, salt) if salt else role


def _view_shared(root: Path, *, as_json: bool) -> None:
    from flowspec_telemetry.core.ledger import read_entries, read_ledger

    entries = read_ledger(root)
    if as_json:  # every line: the shares, and the uploads ("kind": "upload")
        for entry in read_entries(root):
            sys.stdout.write(json.dumps(entry, ensure_ascii=True, separators=(",", ":")) + "\n")
        return
    if not entries:
        line("No share report has been written from this project.")
        return
    # One block per report, the SHA-256 on a line of its own (never wrapped), so
    # it can be compared with `sha256sum FILE` by eye or by copy and paste.
    for e in entries:
        period = e["period"] if isinstance(e["period"], dict) else {}
        epsilon = e["epsilon"] if e["epsilon"] is not None else "none"
        if e.get("iso_week"):
            what = f"week {safe(e['iso_week'])} ({safe(period.get('start'))} to "
            what += f"{safe(period.get('end'))})  epsilon={safe(epsilon)} per person-week"
        else:
            what = (
                f"period {safe(period.get('start')) or '?'} to {safe(period.get('end')) or '?'}  "
                f"epsilon={safe(epsilon)} per event (older format, not a person-level bound)"
            )
        line(f"{safe(e['written_at'])}  {safe(e['file'])}  {what}  k={safe(e['k'])}")
        sys.stdout.write(f"  sha256 {safe(e['sha256'])}\n")
    from flowspec_telemetry.report.sharing import budget_status
    from flowspec_telemetry.report.upload import read_uploads

    for u in read_uploads(root):
        status = u.get("http_status") or "not sent"
        verb = "uploaded" if isinstance(status, int) and 200 <= status < 300 else "upload of"
        line(
            f"{safe(u.get('written_at'))}  {verb} {safe(u.get('iso_week'))} to "
            f"{safe(u.get('collector'))}: {safe(u.get('result'))} (HTTP {safe(status)})"
        )
    spent = budget_status(root)
    line(
        f"Privacy loss in the last 52 weeks: epsilon {spent['epsilon_last_52_weeks']:g} of the "
        f"yearly budget {spent['budget']:g} ({spent['remaining']:g} left)"
        + (
            f"; {spent['legacy_reports']} older-format reports are not counted (their epsilon "
            "was per event)"
            if spent["legacy_reports"]
            else ""
        )
        + "."
    )


def _details(event: dict[str, Any]) -> str:
    parts = []
    handoff = event.get("handoff")
    if isinstance(handoff, dict):
        parts.append(f"{safe(handoff.get('from_agent'))} -> {safe(handoff.get('to_agent'))}")
    for key in ("outcome", "duration_ms", "source", "agent_role"):
        if event.get(key) is not None:
            parts.append(f"{key}={safe(event[key])}")
    return " ".join(parts)


def export_cmd(
    fmt: Annotated[Format, typer.Option("--format", "-f", help="json, jsonl or csv.")],
    output: Annotated[
        str, typer.Option("--output", "-o", help="The file to write; - for standard output.")
    ],
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
) -> None:
    """Export every event, rotated archives included."""
    target = None if output == "-" else Path(output)
    if target is not None:
        from flowspec_telemetry.report.export import check_output

        try:
            check_output(target, force=force)
        except ExportError as exc:
            fail(str(exc))
    root = project_or_fail("nothing to export")
    try:
        count, read = export(root, fmt.value, target, force=force, stream=sys.stdout)
    except ExportError as exc:
        fail(str(exc))
    if target is not None:
        skipped = f" ({read.skipped} unreadable lines skipped)" if read.skipped else ""
        line(f"Exported {count} events to {safe(str(target), 300)}{skipped}.")


def clear_cmd(
    force: Annotated[bool, typer.Option("--force", help="Do not ask for confirmation.")] = False,
    reset_consent: Annotated[
        bool,
        typer.Option(
            "--reset-consent",
            help="Also forget your answer for this project (your global answer stays).",
        ),
    ] = False,
) -> None:
    """Delete every event, archive and the salt of this project."""
    root = project_or_fail("nothing to clear", reading=False)
    if not force:
        if not (sys.stdin.isatty() and sys.stdout.isatty()):
            fail("clear deletes every event; pass --force to do it without a terminal")
        count, _ = erase.count_events(root)
        what = f"{count} events, the archives and the salt"
        if not typer.confirm(f"Delete {what} of {root}?", default=False):
            line("Nothing deleted.")
            raise typer.Exit(ExitCode.FAILURE)
    done = erase.clear(root, reset_consent=reset_consent)
    files = len(done.files)
    line(f"Removed {done.events} events ({files} file{'' if files == 1 else 's'}).")
    if reset_consent:
        if done.consent_files:
            line("Forgot your answer for this project.")
        else:
            line("There was no answer for this project to forget.")
        line(
            "Your global answer is kept (it speaks for every project); "
            "`disable --global` or `enable --global` changes it."
        )
    else:
        line("Your consent answer is unchanged (--reset-consent forgets it).")


def stats_cmd(
    since: Annotated[str | None, _SINCE] = None,
    until: Annotated[str | None, _UNTIL] = None,
    as_json: Annotated[bool, _JSON] = False,
) -> None:
    """Exact totals over the whole history.

    By type, by role, top commands and agents, and skipped lines.
    """
    lo, hi = _window(since, until)
    root = project_or_fail("nothing to count")
    result = project_stats(root, since=lo, until=hi)
    if as_json:
        print_json(result.to_json())
        return
    _print_stats(result)


def _print_stats(result: Stats) -> None:
    line(f"{result.total} events", "bold")
    if result.first:
        line(f"from {safe(result.first)} to {safe(result.last)}")
    for title, counter, top in (
        ("By event type", result.by_type, None),
        ("By role", result.by_role, None),
        ("Top commands", result.commands, 5),
        ("Top agents", result.agents, 5),
    ):
        if not counter:
            continue
        table = Table(title=title, title_justify="left")
        table.add_column("value")
        table.add_column("events", justify="right")
        for value, n in counter.most_common(top):
            table.add_row(cell(value), cell(n))
        out.print(table)
    line(f"Skipped lines (unreadable): {result.skipped}")


def register(app: typer.Typer) -> None:
    app.command("view")(view_cmd)
    app.command("export")(export_cmd)
    app.command("clear")(clear_cmd)
    app.command("stats")(stats_cmd)
