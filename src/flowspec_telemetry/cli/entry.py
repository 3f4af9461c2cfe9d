"""The console script `flowspec-telemetry`: the fast path for `track` and `hook`, typer else.

A module of its own, above both: `cli.fast` (standard library only) and the
typer app (`cli.app`, which imports `fast` for its own `track`/`hook`
commands) then never import each other in a circle.
"""

from __future__ import annotations

import sys

from flowspec_telemetry.cli.fast import run_hook, run_track

TYPE_CHECKING = False
if TYPE_CHECKING:  # no typing at run time: this is the cold-start path
    from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Console-script entry point."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "track":
        return run_track(args[1:])
    if args and args[0] == "hook":
        return run_hook(args[1:])
    from flowspec_telemetry.cli.app import run  # typer and rich: only for the other commands

    return run(args)
