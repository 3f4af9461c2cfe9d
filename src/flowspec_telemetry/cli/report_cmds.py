"""`report`: the HTML dashboard file and the shareable aggregate (with its ledger).

Every input is checked before anything is read or written: k, epsilon, the
dates and each output path (its folder must exist; an existing file is
replaced only with `--force`). A bad input is one line on stderr, exit 2,
and no file changed.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from flowspec_telemetry.cli.render import fail, line, project_or_fail, safe
from flowspec_telemetry.core.names import FLOWSPEC
from flowspec_telemetry.history import selection


def _window(since: str | None, until: str | None) -> tuple[str | None, str | None]:
    try:
        return selection.window(since, until)
    except selection.QueryError as exc:
        fail(str(exc))


def _check(path: Path | None, force: bool) -> None:
    from flowspec_telemetry.report.output import OutputError, check_output

    if path is None:
        return
    try:
        check_output(path, force=force)
    except OutputError as exc:
        fail(str(exc))


def _write(path: Path, data: bytes, force: bool) -> None:
    from flowspec_telemetry.report.output import OutputError, write_private

    try:
        write_private(path, data, force=force)
    except OutputError as exc:
        fail(str(exc))


def share_text(report: dict[str, Any]) -> str:
    """The exact text of a share report file (and of `--preview`)."""
    return json.dumps(report, indent=2, sort_keys=True, ensure_ascii=True) + "\n"


def report(  # noqa: PLR0917 - typer maps each parameter to an option
    html: Annotated[
        Path | None, typer.Option("--html", help="Write the HTML dashboard to this file.")
    ] = None,
    share: Annotated[
        Path | None,
        typer.Option("--share", help="Write the shareable aggregate report (JSON) to this file."),
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help=f"Only events at or after: {selection.DATE_HELP}.")
    ] = None,
    until: Annotated[
        str | None,
        typer.Option("--until", help="Only events before this (a bare date includes that day)."),
    ] = None,
    k: Annotated[
        int,
        typer.Option("--k", min=1, help="Share: leave out every cell with a count below k."),
    ] = 5,
    epsilon: Annotated[
        float | None,
        typer.Option(
            "--epsilon",
            help="Share: add two-sided geometric noise for epsilon-differential privacy "
            "per event (smaller is more private).",
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
    if epsilon is not None and not (math.isfinite(epsilon) and epsilon > 0):
        fail("--epsilon must be a positive number")
    if preview and html is not None:
        fail("--preview shows the share report; it cannot be combined with --html")
    if html is None and share is None and not preview:
        fail("say what to write: --html FILE and/or --share FILE (or --share --preview)")
    if html is not None and share is not None and html.absolute() == share.absolute():
        fail("--html and --share name the same file")
    lo, hi = _window(since, until)
    if not preview:
        _check(html, force)
        _check(share, force)
    root = project_or_fail("nothing to report")
    if preview or share is not None:
        from flowspec_telemetry.report.share import project_share_report

        data = project_share_report(root, FLOWSPEC, since=lo, until=hi, k=k, epsilon=epsilon)
        text = share_text(data)
        if preview:
            sys.stdout.write(text)
            return
        assert share is not None  # noqa: S101 - preview returned above
        blob = text.encode("ascii")
        _write(share, blob, force)
        from flowspec_telemetry.report.ledger import record_share

        record_share(
            root, file_name=share.name, sha256=hashlib.sha256(blob).hexdigest(), report=data
        )
        cells = sum(len(t["rows"]) for t in data["tables"].values())
        line(
            f"Wrote the share report to {safe(str(share), 300)}: {cells} cells, "
            f"{data['privacy']['suppressed_cells']} suppressed (k={k}"
            + (f", epsilon={epsilon:g}" if epsilon is not None else ", no noise")
            + "); recorded in the ledger (view --shared)."
        )
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
            f"({insights['based_on']['events']} events); open it in a browser."
        )
