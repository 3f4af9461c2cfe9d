"""Reports made from the event history: a self-contained HTML dashboard, a
shareable aggregate (`share.py`, the one definition of its schema) and the
export (`export.py`).

Nothing here is imported on the tracking path, and importing one report
module loads no other: the names below are imported on first use (PEP 562),
so `report.export` does not pull in the HTML report, its SVG charts, the
share report or its noise.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from flowspec_telemetry.report.html import render_html
    from flowspec_telemetry.report.share import (
        SHARE_SCHEMA_VERSION,
        build_share_report,
        validate_share_report,
    )

_EXPORTS = {
    "SHARE_SCHEMA_VERSION": "share",
    "build_share_report": "share",
    "render_html": "html",
    "validate_share_report": "share",
}


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


__all__ = ["SHARE_SCHEMA_VERSION", "build_share_report", "render_html", "validate_share_report"]
