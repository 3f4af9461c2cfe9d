"""`report`: the HTML dashboard file and the shareable aggregate (with its ledger).

Every input is checked before anything is read or written: k, epsilon, the
dates and each output path (its folder must exist; an existing file is
replaced only with `--force`). A bad input is one line on stderr, exit 2,
and no file changed.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from flowspec_telemetry.cli._render import fail, line, not_an_option, plural, project_or_fail, safe
from flowspec_telemetry.cli.exit_codes import ExitCode
from flowspec_telemetry.core.names import FLOWSPEC
from flowspec_telemetry.history import selection


def _window(since: str | None, until: str | None) -> tuple[str | None, str | None]:
    try:
        return selection.window(since, until)
    except selection.QueryError as exc:
        fail(str(exc))


def _check(path: Path | None, force: bool) -> None:
    from flowspec_telemetry.report._output import OutputError, check_output

    if path is None:
        return
    try:
        check_output(path, force=force)
    except OutputError as exc:
        fail(str(exc))


def _write(path: Path, data: bytes, force: bool) -> None:
    from flowspec_telemetry.report._output import OutputError, write_private

    try:
        write_private(path, data, force=force)
    except OutputError as exc:
        fail(str(exc))


def share_text(report: dict[str, Any]) -> str:
    """The exact text of a share report file (and of `--preview`)."""
    from flowspec_telemetry.report.sharing import share_text as text

    return text(report)


def _share_week(
    share: Path | None, *, week: str | None, epsilon: str | None, k: int, preview: bool, force: bool
) -> None:
    """Prepare (or reprint) one week's share report; write it and record it, or print it."""
    from flowspec_telemetry.consent._share import share_decision
    from flowspec_telemetry.report import weekly
    from flowspec_telemetry.report.sharing import ShareRefusedError, prepare_week, record_week

    try:
        eps = weekly.epsilon_value(epsilon) if epsilon is not None else weekly.DEFAULT_EPSILON
    except ValueError as exc:
        fail(f"--epsilon: {exc}")
    low, high = weekly.MIN_CONTRIBUTORS_RANGE
    if not low <= k <= high:
        fail(f"--k must be from {low} to {high} (the fewest contributors a figure may show)")
    root = project_or_fail("nothing to share")
    decision = share_decision(root, FLOWSPEC)
    try:
        prepared = prepare_week(
            root,
            FLOWSPEC,
            week=week,
            share_since=decision.share_since if decision.mode == "share" else None,
            epsilon=eps,
            min_contributors=k,
            create_salt=not preview,
        )
    except ShareRefusedError as exc:
        fail(str(exc), ExitCode.USAGE if exc.usage else ExitCode.FAILURE)
    if preview:
        sys.stdout.write(prepared.blob.decode("ascii"))
        return
    assert share is not None  # noqa: S101 - preview returned above
    # The ledger first: a share file exists only once it is recorded, so a
    # failing ledger write never leaves an unrecorded share behind (13.10).
    try:
        entry = record_week(root, prepared, file_name=share.name, names=FLOWSPEC)
    except OSError as exc:
        fail(
            f"the ledger could not be written ({exc.strerror or exc}); no share report was written",
            ExitCode.FAILURE,
        )
    _write(share, prepared.blob, force)
    privacy = prepared.report["privacy"]
    if prepared.reprint:
        line(
            f"{prepared.week} was already shared on {str(entry.get('written_at'))[:10]}: wrote the "
            f"same report again to {safe(str(share), 300)} (a week is shared once; no new "
            "epsilon was spent)."
        )
        return
    line(
        f"Wrote the share report of {prepared.week} to {safe(str(share), 300)}: every cell noised "
        f"(epsilon {privacy['epsilon']:g} for your week, person-level), shown at org level only "
        f"with at least {privacy['min_contributors']} contributors; recorded in the ledger "
        "(view --shared)."
    )


_SHARE_ONLY = ("week", "k", "epsilon")


def _given(ctx: typer.Context, name: str) -> bool:
    """Whether the user typed this option (click's parameter source, compared by name)."""
    source = ctx.get_parameter_source(name)
    return source is not None and source.name != "DEFAULT"


def report(  # noqa: PLR0917 - typer maps each parameter to an option
    ctx: typer.Context,
    html: Annotated[
        Path | None,
        typer.Option(
            "--html",
            metavar="FILE",
            callback=not_an_option,
            help="Write the HTML dashboard to this file.",
        ),
    ] = None,
    share: Annotated[
        Path | None,
        typer.Option(
            "--share",
            metavar="FILE",
            callback=not_an_option,
            help="Write the shareable aggregate report (JSON) to this file.",
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            metavar="DATE",
            callback=not_an_option,
            help=f"Only events at or after: {selection.DATE_HELP}.",
        ),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(
            "--until",
            metavar="DATE",
            callback=not_an_option,
            help="Only events before this (a bare date includes that day).",
        ),
    ] = None,
    week: Annotated[
        str | None,
        typer.Option(
            "--week",
            metavar="WEEK",
            callback=not_an_option,
            help="Share: the ISO week to share, YYYY-Www (default: the last one over).",
        ),
    ] = None,
    k: Annotated[
        int,
        typer.Option(
            "--k",
            metavar="N",
            help="Share: the fewest contributors an org figure of yours may be shown with.",
        ),
    ] = 5,
    epsilon: Annotated[
        str | None,
        typer.Option(
            "--epsilon",
            metavar="E",
            help="Share: the privacy loss for your week (person-level, 0.1 to 10; default 4; "
            "smaller is more private, noisier).",
        ),
    ] = None,
    preview: Annotated[
        bool,
        typer.Option("--preview", help="Share: print exactly the JSON that would be shared."),
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace existing files.")] = False,
) -> None:
    """Write the HTML dashboard or a share report.

    --html writes the dashboard, --share the shareable aggregate (or both).
    """
    if preview and html is not None:
        fail("--preview shows the share report; it cannot be combined with --html")
    if html is None and share is None and not preview:
        fail("say what to write: --html FILE and/or --share FILE (or --preview to print it)")
    if share is None and not preview:
        given = [f"--{name}" for name in _SHARE_ONLY if _given(ctx, name)]
        if given:
            verb = "applies" if len(given) == 1 else "apply"
            fail(f"{' and '.join(given)} only {verb} to a share report (--share or --preview)")
    if html is not None and share is not None and html.absolute() == share.absolute():
        fail("--html and --share name the same file")
    sharing = preview or share is not None
    if sharing and (since is not None or until is not None):
        fail("a share report covers one ISO week: use --week YYYY-Www, not --since/--until")
    lo, hi = _window(since, until)
    if not preview:
        _check(html, force)
        _check(share, force)
    if sharing:
        _share_week(share, week=week, epsilon=epsilon, k=k, preview=preview, force=force)
        if preview:
            return
    root = project_or_fail("nothing to report")
    if html is not None:
        from flowspec_telemetry.analysis.insights import project_insights
        from flowspec_telemetry.core.roles import load_catalog
        from flowspec_telemetry.report.html import render_html
        from flowspec_telemetry.report.share import window_days

        insights = project_insights(root, FLOWSPEC, since=lo, until=hi)
        page = render_html(
            insights,
            load_catalog(root, FLOWSPEC),
            generated_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            period=window_days(lo, hi),
        )
        _write(html, page.encode("utf-8"), force)
        line(
            f"Wrote the HTML report to {safe(str(html), 300)} "
            f"({plural(insights['based_on']['events'], 'event')}); open it in a browser."
        )
