"""`org ingest`, `org insights`, `org report`: share reports of many people, aggregated.

`--db` is a DuckDB file (the default engine) or `clickhouse://host:port/db`.
`ingest` checks every file on its own: each rejected file is one line on
stderr and never stops the others; the accepted ones are loaded together, all
or none. The exit code is 2 when any file was rejected, 1 when the store
failed (then nothing was loaded), 0 otherwise. The store modules (and
DuckDB or clickhouse-driver) are imported only when a command runs.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from flowspec_telemetry.analysis.rates import rate_figure
from flowspec_telemetry.cli._insights_cmds import print_answers
from flowspec_telemetry.cli._render import err, fail, line, not_an_option, plural, print_json, safe
from flowspec_telemetry.cli.exit_codes import ExitCode
from flowspec_telemetry.cli.fast import PROG

if TYPE_CHECKING:
    from flowspec_telemetry.org.backends import Store, Target

org_app = typer.Typer(
    name="org",
    help="Aggregate share reports of a team or org.\n\nIn DuckDB (a file) or ClickHouse.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

_DB_HELP = "The org store: a DuckDB file, or clickhouse://host:port/db."
_DB = typer.Option("--db", metavar="DB", callback=not_an_option, help=_DB_HELP)
_K = typer.Option(
    "--k",
    min=1,
    metavar="N",
    help="Leave out every cell whose count summed over reports is below k.",
)


def _target(db: str, *, must_exist: bool) -> Target:
    from flowspec_telemetry.org.backends import StoreError, check_target, parse_target

    try:
        target = parse_target(db)
        check_target(target, must_exist=must_exist)
    except StoreError as exc:
        fail(str(exc), ExitCode.USAGE if exc.usage else ExitCode.FAILURE)
    return target


def _open(target: Target, *, read_only: bool) -> Store:
    from flowspec_telemetry.org.backends import StoreError, open_store

    try:
        return open_store(target, read_only=read_only)
    except StoreError as exc:
        fail(str(exc), ExitCode.USAGE if exc.usage else ExitCode.FAILURE)


def _reject(name: str, reason: str) -> None:
    err.print(f"{PROG}: rejected {safe(name, 300)}: {safe(reason, 400)}", soft_wrap=True)


@org_app.command("ingest")
def ingest_cmd(
    reports: Annotated[
        list[Path],
        typer.Argument(
            metavar="FILE",
            callback=not_an_option,
            help="Share report files (`report --share`).",
            show_default=False,
        ),
    ],
    db: Annotated[str, _DB],
) -> None:
    """Load share reports into the org store; reject bad, foreign and duplicate files."""
    from flowspec_telemetry.org.backends import StoreError
    from flowspec_telemetry.org.ingest import Accepted, ingest, read_report

    target = _target(db, must_exist=False)
    accepted: list[Accepted] = []
    rejected = 0
    for path in reports:
        result = read_report(path)
        if isinstance(result, Accepted):
            accepted.append(result)
        else:
            _reject(result.name, result.reason)
            rejected += 1
    loaded = cells = 0
    if accepted:
        store = _open(target, read_only=False)
        try:
            outcome = ingest(store, accepted)
        except StoreError as exc:
            fail(f"nothing was loaded: {exc}", ExitCode.FAILURE)
        finally:
            store.close()
        for item in outcome.rejected:
            _reject(item.name, item.reason)
        rejected += len(outcome.rejected)
        loaded, cells = len(outcome.loaded), outcome.cells
    line(
        f"Loaded {plural(loaded, 'share report')} ({plural(cells, 'cell')}) into "
        f"{safe(target.label, 300)}" + (f"; rejected {rejected} (see above)." if rejected else ".")
    )
    if rejected:
        raise typer.Exit(ExitCode.USAGE)


def _parse_weeks(weeks: str | None) -> list[str] | None:
    """`--weeks W` or `--weeks FROM..TO` as the list of ISO weeks it names."""
    from flowspec_telemetry.report.weekly import WeekError, parse_week, week_of

    if weeks is None:
        return None
    first, _, last = weeks.partition("..")
    try:
        start, _ = parse_week(first)
        end, _ = parse_week(last or first)
    except WeekError as exc:
        fail(f"--weeks: {exc}")
    if end < start:
        fail("--weeks: the last week is before the first")
    out = []
    while start <= end:
        out.append(week_of(start))
        start += timedelta(days=7)
    return out


def _insights(
    db: str, k: int, weeks: str | None = None, *, week_by_week: bool = False
) -> dict[str, Any]:
    """The org answers: over weekly reports (format 2) when the store has any, else format 1.

    Answering weekly reports records what was published (for difference
    checks), so the store is opened for writing.
    """
    from flowspec_telemetry.org.answers import answers
    from flowspec_telemetry.org.backends import StoreError

    chosen = _parse_weeks(weeks)
    target = _target(db, must_exist=True)
    store = _open(target, read_only=False)
    try:
        if not store.has_schema():
            fail(
                f"no org data in {target.label}: load share reports with `org ingest` first",
                ExitCode.FAILURE,
            )
        try:
            return answers(store, k=k, weeks=chosen, week_by_week=week_by_week)
        except ValueError as exc:
            fail(str(exc))
    except StoreError as exc:
        fail(str(exc), ExitCode.FAILURE)
    finally:
        store.close()


def _print_weekly(data: dict[str, Any]) -> None:
    weeks = data["weeks"]
    span = f"{weeks[0]} to {weeks[-1]}" if weeks else "no week"
    line(
        f"Based on {data['reports']} weekly share reports ({span}); a figure needs at least "
        f"{data['k']} contributors; estimates with {data['interval']} intervals (every cell "
        "carries noise).",
        "bold",
    )
    for n, (key, title) in enumerate(
        (
            ("roles", "Roles"),
            ("commands", "Commands"),
            ("security", "Security agents"),
            ("handoffs", "Handoffs"),
            ("completion", "Completion"),
        ),
        1,
    ):
        line(f"{n}. {title}: {safe(data[key]['answer'], 2000)}")
    held = data["held_back"]
    if held["tables"]:
        line(f"Held back: {held['cells']} cells.", "bold")
        for name, why in held["tables"].items():
            line(f"   - {name}: {safe(why, 300)}")
    else:
        line("Held back: no cell.")
    legacy = data["legacy_reports"]
    if legacy["count"]:
        line(
            f"Not counted: {legacy['count']} report{'s' if legacy['count'] != 1 else ''} of the "
            f"older share format ({legacy['why']})."
        )


def _security_figures(section: dict[str, Any]) -> list[str]:
    return [
        f"role {safe(role)}: invocations {rate_figure(v['invocation_share'])}"
        for role, v in section["per_role"].items()
    ]


@org_app.command("insights")
def insights_cmd(
    db: Annotated[str, _DB],
    k: Annotated[int, _K] = 5,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the versioned JSON document.")
    ] = False,
    weeks: Annotated[
        str | None,
        typer.Option("--weeks", help="Weekly reports: only these ISO weeks, W or FROM..TO."),
    ] = None,
) -> None:
    """Answer the product questions across every ingested share report."""
    from flowspec_telemetry.org.answers import is_weekly

    data = _insights(db, k, weeks)
    if as_json:
        print_json(data)
        return
    if is_weekly(data):
        _print_weekly(data)
        return
    org = data["org"]
    period = org["period"]
    line(
        f"Based on {plural(org['reports'], 'share report')}"
        + (f" from {period['start']} to {period['end']}" if period["start"] else "")
        + f": {plural(data['based_on']['events'], 'event')} in cells; k = {k} at org level "
        f"({plural(org['suppressed_cells']['at_org_level'], 'summed cell')} left out).",
        "bold",
    )
    print_answers(data, security=_security_figures)
    line("")
    line("Not available at org level (share reports hold aggregate counts only):", "bold")
    for key, why in org["not_available"].items():
        line(f"   - {key}: {why}")


@org_app.command("report")
def report_cmd(
    html: Annotated[
        Path,
        typer.Option(
            "--html",
            metavar="FILE",
            callback=not_an_option,
            help="Write the org HTML dashboard to this file.",
        ),
    ],
    db: Annotated[str, _DB],
    k: Annotated[int, _K] = 5,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
) -> None:
    """Write the HTML dashboard of every ingested share report."""
    from flowspec_telemetry.org.answers import render_page, reports_counted
    from flowspec_telemetry.report._output import OutputError, check_output, write_private

    try:
        check_output(html, force=force)
    except OutputError as exc:
        fail(str(exc))
    data = _insights(db, k, week_by_week=True)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    page = render_page(data, generated_at=stamp)
    try:
        write_private(html, page.encode("utf-8"), force=force)
    except OutputError as exc:
        fail(str(exc))
    line(
        f"Wrote the org HTML report to {safe(str(html), 300)} "
        f"({reports_counted(data)} share "
        "reports); open it in a browser."
    )
