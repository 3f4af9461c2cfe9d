"""The org answers of a store, whichever share format it holds, and the page that shows them.

One place decides: weekly reports (format 2) when the store has any, answered
per ISO week with contributor thresholds and difference checks; otherwise the
older format's sums. `org insights`, `org report` and the collector all ask here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flowspec_telemetry.org.backends import Store

__all__ = ["answers", "is_weekly", "render_page", "reports_counted"]


def answers(
    store: Store,
    *,
    k: int,
    weeks: Sequence[str] | None = None,
    weekly_only: bool = False,
    week_by_week: bool = False,
) -> dict[str, Any]:
    """The insights document of the store (answering weekly reports records what it published).

    `weekly_only` (the collector, which takes weekly reports only) answers the
    weekly way even before the first report arrives; `week_by_week` adds each
    week answered on its own (`per_week`, for the dashboard pages).
    """
    from flowspec_telemetry.org.aggregate import org_insights
    from flowspec_telemetry.org.weekly import has_weekly_reports, per_week, weekly_insights

    store.create_schema()  # adds the weekly tables to a store made by an older version
    if weekly_only or has_weekly_reports(store):
        data = weekly_insights(store, k=k, weeks=weeks)
        if week_by_week:
            data["per_week"] = per_week(store, k=k)
        return data
    if weeks is not None:
        raise ValueError(
            "--weeks needs weekly share reports (format 2); this store has only older ones"
        )
    data = org_insights(store, k=k)
    data["org"]["share_format"] = "1 (older format: k per report, epsilon per event)"
    return data


def is_weekly(data: Mapping[str, Any]) -> bool:
    """Whether `answers` came from weekly reports (format 2)."""
    return data.get("share_format") == "2"


def reports_counted(data: Mapping[str, Any]) -> int:
    """How many share reports the answers are based on."""
    return int(data["reports"] if is_weekly(data) else data["org"]["reports"])


def render_page(data: Mapping[str, Any], *, generated_at: str) -> str:
    """The org dashboard page for `answers`' document."""
    if is_weekly(data):
        from flowspec_telemetry.org.weekly_html import render_weekly_html

        return render_weekly_html(data, generated_at=generated_at, weeks=data.get("per_week", ()))
    from flowspec_telemetry.org.html import render_org_html

    return render_org_html(data, generated_at=generated_at)
