"""Commands about the recorded data: view, export, clear, stats."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Final

import typer
from rich.cells import cell_len
from rich.table import Table
from rich.text import Text

from flowspec_telemetry.analysis.stats import Stats, project_stats
from flowspec_telemetry.cli._render import (
    cell,
    fail,
    line,
    not_an_option,
    out,
    plural,
    print_json,
    project_or_fail,
    safe,
    wrap,
)
from flowspec_telemetry.cli.exit_codes import ExitCode
from flowspec_telemetry.core.names import FLOWSPEC
from flowspec_telemetry.core.store import ReadStats
from flowspec_telemetry.history import erase, selection
from flowspec_telemetry.report.export import ExportError, export

_SINCE = typer.Option(
    "--since",
    metavar="DATE",
    callback=not_an_option,
    help=f"Only events at or after: {selection.DATE_HELP}.",
)
_UNTIL = typer.Option(
    "--until",
    metavar="DATE",
    callback=not_an_option,
    help="Only events before this (a bare date includes that day).",
)
_TYPE = typer.Option("--type", metavar="TYPE", callback=not_an_option, help="Only this event type.")
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
        int,
        typer.Option(
            "--limit", "-n", min=0, metavar="N", help="How many events (0 = all, streamed)."
        ),
    ] = 50,
    event_type: Annotated[str | None, _TYPE] = None,
    role: Annotated[
        str | None,
        typer.Option("--role", metavar="ROLE", callback=not_an_option, help="Only this role."),
    ] = None,
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
    shown = _print_events(events, buffered=limit != 0)
    if not shown:
        line("No events match." if not filt.empty else "No events recorded yet.")
    if read.skipped:
        line(f"({plural(read.skipped, 'unreadable line')} skipped)")


_VIEW_COLUMNS: Final = ("time (UTC)", "event", "role", "command", "agent", "details")


def _view_row(event: dict[str, Any]) -> list[str]:
    """The cells of one event: each a safe, printable string."""
    ts = event.get("timestamp")
    return [
        safe(ts[:19].replace("T", " ") if isinstance(ts, str) else ts),
        safe(event.get("event_type")),
        safe(event.get("role")),
        safe(event.get("command")),
        safe(event.get("agent")),
        _details(event),
    ]


def _print_events(events: Iterable[dict[str, Any]], *, buffered: bool) -> int:
    """Print events as a table when it fits the terminal whole, else one entry each.

    The table is used only on a terminal, for a bounded selection, and when
    every column can be as wide as its longest word: then no value is ever
    broken inside a word. Otherwise (a narrow terminal, a pipe, `--limit 0`)
    each event is one entry of labelled values, wrapped between values at the
    terminal's width with an indent, and not wrapped at all into a pipe.
    """
    terminal = out.is_terminal
    width = out.width if terminal else 0
    if terminal and buffered:
        rows = [_view_row(e) for e in events]
        if rows and _table_fits(rows, width):
            _print_table(rows)
            return len(rows)
        for row in rows:
            _print_entry(row, width)
        return len(rows)
    shown = 0
    for event in events:
        _print_entry(_view_row(event), width)
        shown += 1
    return shown


def _longest_word(text: str) -> int:
    return max((cell_len(word) for word in text.split(" ")), default=0)


def _min_widths(rows: list[list[str]]) -> list[int]:
    """Per column, the narrowest width that keeps every word whole (time and type unbroken)."""
    widths = []
    for i, name in enumerate(_VIEW_COLUMNS):
        unbroken = i < 2  # the time and the event type never wrap at all
        measure = cell_len if unbroken else _longest_word
        widths.append(max([_longest_word(name), *(measure(r[i]) for r in rows)]))
    return widths


def _table_fits(rows: list[list[str]], width: int) -> bool:
    widths = _min_widths(rows)
    used = [w for w, n in zip(widths, range(len(widths)), strict=True) if n < 2 or w]
    return sum(used) + 3 * len(used) + 1 <= width


def _print_table(rows: list[list[str]]) -> None:
    widths = _min_widths(rows)
    table = Table(expand=False)
    for i, name in enumerate(_VIEW_COLUMNS):
        if i >= 2 and not widths[i]:
            continue  # a column no shown event has (e.g. no agent) takes no room
        table.add_column(name, no_wrap=i < 2, min_width=widths[i], overflow="fold")
    for row in rows:
        table.add_row(*(Text(c) for i, c in enumerate(row) if i < 2 or widths[i]))
    out.print(table)


def _print_entry(row: list[str], width: int) -> None:
    """One event as `time  type  role=..  command=..`; wrapped only between values."""
    time_, etype, role, command, agent, details = row
    words = [time_, etype]
    words += [f"{k}={v}" for k, v in (("role", role), ("command", command), ("agent", agent)) if v]
    if details:
        words += details.split(" ")
    sys.stdout.write(wrap(words, width) + "\n")


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
    """The other fields as `key=value` words (a handoff as `handoff=from->to`, one word)."""
    parts = []
    handoff = event.get("handoff")
    if isinstance(handoff, dict):
        parts.append(f"handoff={safe(handoff.get('from_agent'))}->{safe(handoff.get('to_agent'))}")
    for key in ("previous_role", "outcome", "duration_ms", "source", "agent_role"):
        if event.get(key) is not None:
            parts.append(f"{key}={safe(event[key])}")
    return " ".join(parts)


def export_cmd(  # noqa: PLR0917 - typer maps each parameter to an option
    output: Annotated[
        str,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            callback=not_an_option,
            help="The file to write; - for standard output.",
        ),
    ],
    fmt: Annotated[
        Format | None,
        typer.Option(
            "--format",
            "-f",
            help="json, jsonl or csv (default: from the file name, e.g. usage.csv).",
        ),
    ] = None,
    event_type: Annotated[str | None, _TYPE] = None,
    since: Annotated[str | None, _SINCE] = None,
    until: Annotated[str | None, _UNTIL] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
) -> None:
    """Export every event, rotated archives included.

    Or only those of one type or period (--type, --since, --until).
    """
    from flowspec_telemetry.report.export import format_for

    chosen = fmt.value if fmt is not None else format_for(output) if output != "-" else None
    if chosen is None:
        why = (
            "standard output has no file name to tell"
            if output == "-"
            else f"{safe(output, 100)!r} does not end in .json, .jsonl or .csv"
        )
        fail(f"say which format with --format json, jsonl or csv ({why})")
    try:
        etype = selection.check_event_type(event_type)
    except selection.QueryError as exc:
        fail(str(exc))
    lo, hi = _window(since, until)
    target = None if output == "-" else Path(output)
    if target is not None:
        from flowspec_telemetry.report.export import check_output

        try:
            check_output(target, force=force)
        except ExportError as exc:
            fail(str(exc))
    root = project_or_fail("nothing to export")
    filt = selection.Filter(etype, None, lo, hi)
    where = None if filt.empty else filt.matcher()
    try:
        count, read = export(root, chosen, target, force=force, stream=sys.stdout, where=where)
    except ExportError as exc:
        fail(str(exc))
    if target is not None:
        skipped = f" ({plural(read.skipped, 'unreadable line')} skipped)" if read.skipped else ""
        line(f"Exported {plural(count, 'event')} to {safe(str(target), 300)}{skipped}.")


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
        what = f"{plural(count, 'event')}, the archives and the salt"
        if not typer.confirm(f"Delete {what} of {root}?", default=False):
            line("Nothing deleted.")
            raise typer.Exit(ExitCode.FAILURE)
    done = erase.clear(root, reset_consent=reset_consent)
    files = len(done.files)
    line(f"Removed {plural(done.events, 'event')} ({plural(files, 'file')}).")
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
    line(plural(result.total, "event"), "bold")
    if result.first:
        line(f"from {safe(result.first)} to {safe(result.last)}")
    for title, counter, top in (
        ("By event type", result.by_type, None),
        ("By role", result.by_role, None),
        # Every event that names it (runs, agent calls, handoffs...), not runs
        # alone as `insights` counts them: the titles say which.
        ("Top commands (events naming each)", result.commands, 5),
        ("Top agents (events naming each)", result.agents, 5),
    ):
        if not counter:
            continue
        table = Table(title=title, title_justify="left", min_width=len(title))
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
