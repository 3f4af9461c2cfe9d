"""The command line: a fast entry for `track`/`hook` and a typer app for the rest.

`app` is resolved lazily so that importing this package (as the console
script does) never imports typer or rich; a host CLI mounts the app with
`from flowspec_telemetry.cli import app`.
"""

from __future__ import annotations

from typing import Any

__all__ = ["app"]


def __getattr__(name: str) -> Any:
    if name == "app":
        from .app import app

        return app
    raise AttributeError(name)
