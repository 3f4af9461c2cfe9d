"""The command line: a fast entry for `track`/`hook` and a typer app for the rest.

`app` is resolved lazily so that importing this package (as the console
script does) never imports typer or rich; a host CLI mounts the app with
`from flowspec_telemetry.cli import mount; mount(host_app, name="telemetry")`
(or takes `app` itself).

`app` is a property of this module's class, not a plain attribute: importing
the submodule `cli.app` makes Python set the package attribute `app` to that
submodule, which would hand a host the module instead of the Typer app. The
property ignores that assignment and always returns the Typer object.
"""

from __future__ import annotations

import sys
import types

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["app", "mount"]


def mount(host_app: Any, name: str = "telemetry") -> None:
    """Add every command to a typer host CLI as `<host> <name> ...` (see `cli.app.mount`)."""
    from flowspec_telemetry.cli.app import mount as _mount

    _mount(host_app, name)


class _CliModule(types.ModuleType):
    @property
    def app(self) -> Any:
        from flowspec_telemetry.cli.app import app

        return app

    @app.setter
    def app(self, value: Any) -> None:
        """The import system binds the submodule here; the property keeps the Typer app."""


sys.modules[__name__].__class__ = _CliModule
