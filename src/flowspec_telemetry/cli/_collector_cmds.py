"""`collector serve`: the HTTP service that receives uploaded share reports.

uvicorn (and DuckDB or clickhouse-driver) are imported only when it runs; a
missing `collector` extra is met with a one-line hint.
"""

from __future__ import annotations

from typing import Annotated

import typer

from flowspec_telemetry.cli._render import fail, line, safe
from flowspec_telemetry.cli.exit_codes import ExitCode

collector_app = typer.Typer(
    name="collector",
    help="Receive uploaded share reports and publish the org answers over HTTP.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@collector_app.command("serve")
def serve_cmd(  # noqa: PLR0917 - one parameter per command-line option
    db: Annotated[
        str,
        typer.Option("--db", metavar="URL", help="A DuckDB file, or clickhouse://host:port/db."),
    ],
    host: Annotated[
        str, typer.Option("--host", metavar="ADDRESS", help="Address to listen on.")
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="Port (0 picks a free one).")
    ] = 8787,
    k: Annotated[
        int,
        typer.Option("--k", min=2, help="Withhold a figure from fewer than k contributors."),
    ] = 5,
    check: Annotated[
        bool, typer.Option("--check", help="Open the store and the spool, then exit.")
    ] = False,
    spool: Annotated[
        str | None,
        typer.Option(
            "--spool",
            metavar="FILE",
            help="Answered, not yet loaded reports (default: DB file + .spool).",
        ),
    ] = None,
) -> None:
    """Serve POST /v1/reports, GET /v1/insights, GET / (dashboard) and GET /healthz."""
    try:
        import uvicorn  # noqa: F401
    except ImportError:
        fail(
            "the collector needs uvicorn: pip install 'flowspec-telemetry[collector]'",
            ExitCode.USAGE,
        )
    from flowspec_telemetry.org.backends import StoreError, check_target, parse_target
    from flowspec_telemetry.org.collector import CollectorConfig, serve

    try:
        target = parse_target(db)
        check_target(target, must_exist=False)
    except StoreError as exc:
        fail(str(exc), ExitCode.USAGE if exc.usage else ExitCode.FAILURE)
    config = CollectorConfig(target=target, k=k, spool=spool)
    if check:
        from flowspec_telemetry.org.collector import Collector

        try:
            app = Collector(config)
            app.writer.start()
            app.writer.stop()
        except StoreError as exc:
            fail(str(exc), ExitCode.USAGE if exc.usage else ExitCode.FAILURE)
        line(f"The store {safe(target.label, 300)} and its spool are ready.")
        return
    try:
        serve(config, host=host, port=port, announce=line)
    except StoreError as exc:
        fail(str(exc), ExitCode.USAGE if exc.usage else ExitCode.FAILURE)
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}", ExitCode.FAILURE)
    except KeyboardInterrupt:
        pass


def upload_cmd(
    background: Annotated[
        bool,
        typer.Option("--background", help="Run as the detached daily step (prints nothing)."),
    ] = False,
    project_root: Annotated[
        str | None,
        typer.Option(
            "--project-root", metavar="DIR", help="The project (default: found from here)."
        ),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Show what would be sent; send nothing."),
    ] = False,
) -> None:
    """Upload the finished weeks' share reports to the host's collector (share mode only)."""
    from pathlib import Path

    from flowspec_telemetry.core.project import find_project_root
    from flowspec_telemetry.report.upload import collector_url, run_upload, url_problem

    root = Path(project_root) if project_root else find_project_root()
    if root is None or not root.is_dir():
        if background:
            return
        fail("not in a project: nothing to upload", ExitCode.USAGE)
    url = collector_url()
    if url is None:  # not an error: the host chose not to collect
        if not background:
            line(
                "No collector is set (a host sets FLOWSPEC_TELEMETRY_COLLECTOR_URL): "
                "nothing is ever uploaded without one."
            )
        return
    problem = url_problem(url)
    if problem:
        if background:
            return
        fail(problem, ExitCode.USAGE)
    from flowspec_telemetry.consent._share import share_decision

    decision = share_decision(root)
    since = decision.share_since if decision.mode == "share" else None
    say = None if background else line
    results = run_upload(root, share_since=since, debug=True if dry_run else None, say=say)
    if background:
        return
    if not results:
        line(
            "Nothing to upload (sharing is off, no finished week is due, or an upload is running)."
        )
    for r in results:
        line(f"{r.week}: {r.reason}" + (f" (HTTP {r.status})" if r.status else ""))
