"""The console script `flowspec-telemetry`: the fast path for `track`, `hook` and flowspec's
template forms (`track-role`, `track-agent`, `track-handoff`), typer else.

A module of its own, above both: `cli.fast` (standard library only) and the
typer app (`cli.app`, which imports `fast` for its own `track`/`hook`
commands) then never import each other in a circle.
"""

from __future__ import annotations

import os
import sys

from flowspec_telemetry.cli.fast import closed_pipe, run_hook, run_track
from flowspec_telemetry.core.names import FLOWSPEC

TYPE_CHECKING = False
if TYPE_CHECKING:  # no typing at run time: this is the cold-start path
    from collections.abc import Sequence

__all__ = ["main"]


def _upload_if_due(args: Sequence[str]) -> None:
    """At most once a day, start the detached upload step (share mode, a collector set).

    One environment lookup when no collector is set. Never from `track` (the
    tracking path stays free of it), `upload` itself or a collector. See
    `cli._upload_trigger`.
    """
    if FLOWSPEC.resolved_collector_url() is None or (
        args and (args[0].startswith("track") or args[0] in ("upload", "collector"))
    ):
        return
    try:
        from flowspec_telemetry.cli._upload_trigger import maybe_start
        from flowspec_telemetry.core.project import find_root

        maybe_start(find_root(os.getcwd()))
    except Exception:  # noqa: S110 - never fail the command that started it
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Console-script entry point."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in ("track", "hook"):
        try:
            code = run_track(args[1:]) if args[0] == "track" else run_hook(args[1:])
            sys.stdout.flush()
        except BrokenPipeError:  # `track ... | head -c0`: the reader left; not our failure
            return closed_pipe()
    elif args and args[0] in ("track-role", "track-agent", "track-handoff"):
        from flowspec_telemetry.cli._templates import run as run_template

        code = run_template(args[0], args[1:])
    else:
        from flowspec_telemetry.cli.app import run  # typer and rich: only for the other commands

        code = run(args)
    _upload_if_due(args)
    return code
