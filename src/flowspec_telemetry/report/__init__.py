"""Reports made from the event history: a self-contained HTML dashboard and a
shareable aggregate (`share.py`, the one definition of its schema), plus the
local ledger of what was shared.

Nothing here is imported on the tracking path.
"""

from __future__ import annotations

from flowspec_telemetry.report.html import render_html
from flowspec_telemetry.report.share import (
    SHARE_SCHEMA_VERSION,
    build_share_report,
    validate_share_report,
)

__all__ = ["SHARE_SCHEMA_VERSION", "build_share_report", "render_html", "validate_share_report"]
