"""`collector serve`: the HTTP collector of weekly share reports (uvicorn, one process)."""

from __future__ import annotations

from typing import Annotated

import typer

from flowspec_telemetry.cli._render import fail, line, safe
from flowspec_telemetry.cli.exit_codes import ExitCode

collector_app = typer.Typer(
    name="collector",
    help="Run the collector that takes weekly share reports over HTTP.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@collector_app.command("serve")
def serve_cmd(
    db: Annotated[str, typer.Option("--db", help="The store: a DuckDB file, or clickhouse://.")],
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port.")] = 8787,
    k: Annotated[
        int, typer.Option("--k", min=2, help="The fewest contributors a figure is shown with.")
    ] = 5,
    check: Annotated[
        bool, typer.Option("--check", help="Open the store and exit, without serving.")
    ] = False,
) -> None:
    """Serve POST /v1/reports, GET /v1/insights, GET / and GET /healthz (no access log)."""
    from flowspec_telemetry.org.backends import StoreError, check_target, parse_target
    from flowspec_telemetry.org.collector import Collector

    try:
        target = parse_target(db)
        check_target(target, must_exist=False)
    except StoreError as exc:
        fail(str(exc), ExitCode.USAGE if exc.usage else ExitCode.FAILURE)
    try:
        import uvicorn
    except ImportError:
        fail(
            "collector serve needs uvicorn: pip install 'flowspec-telemetry[collector]'",
            ExitCode.FAILURE,
        )
    if check:
        from flowspec_telemetry.org.backends import open_store

        try:
            store = open_store(target, read_only=False)
            store.create_schema()
            store.close()
        except StoreError as exc:
            fail(str(exc), ExitCode.FAILURE)
        line(f"The store {safe(target.label, 300)} is ready; the collector would listen on {port}.")
        return
    line(f"Collector on http://{safe(host, 100)}:{port}/ with {safe(target.label, 300)}")
    uvicorn.run(
        Collector(target, k=k),
        host=host,
        port=port,
        access_log=False,
        log_level="warning",
        proxy_headers=False,
        server_header=False,
        date_header=False,
    )
