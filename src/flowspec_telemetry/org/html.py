"""The org dashboard: the HTML report's page, fed with org insights.

It reuses `report.html`'s public page skeleton (`page`: CSP, style, top bar,
navigation) and its question sections (headline, roles, commands, security,
handoffs, completion) on the insights-shaped document of
`aggregate.org_insights`. The parts share reports cannot support are said
honestly: security agents per role without the session share, completion
rates without durations, and a "not available at org level" card that says why (instead of
an empty activity chart). The footer says what the page is based on: how
many reports, their period, k at org level and the suppressed cells.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flowspec_telemetry._version import __version__
from flowspec_telemetry.core.roles import DEFAULT_CATALOG
from flowspec_telemetry.report._text import count, esc, num
from flowspec_telemetry.report.html import (
    QUESTION_NAV,
    Names,
    commands_section,
    completion_section,
    handoffs_section,
    headline,
    page,
    roles_section,
    security_section,
)

__all__ = [
    "render_org_html",
]


def _security(data: Mapping[str, Any], names: Names) -> str:
    return security_section(
        data, names, sessions=False, empty="No agent invocation above k in the ingested reports."
    )


def _completion(data: Mapping[str, Any]) -> str:
    return completion_section(
        data, durations=False, empty="No command started above k in the ingested reports."
    )


def _not_available(data: Mapping[str, Any]) -> str:
    labels = {
        "activity": "Activity over time",
        "durations": "Median and p90 durations",
        "session_share": "Sessions using a security agent",
    }
    items = "".join(
        f"<li><strong>{esc(labels.get(key, key))}</strong>: not available, because "
        f"{esc(str(why).rstrip('.'), 400)}.</li>"
        for key, why in data["org"]["not_available"].items()
    )
    return (
        '<section id="not-available" class="card"><header><span class="qnum">–</span>'
        "<h2>Not available at org level</h2></header>"
        '<p class="answer">Share reports carry aggregate counts only, so some views of the '
        f"local report cannot be built from them.</p><ul>{items}</ul></section>"
    )


def _footer(data: Mapping[str, Any]) -> str:
    org = data["org"]
    period = org["period"]
    span = (
        f"{esc(period['start'] or '–')} to {esc(period['end'] or '–')}"
        if period["start"] or period["end"]
        else "no dated period"
    )
    ks = org["reports_k"]
    k_range = (
        f"{num(ks['min'])}" if ks["min"] == ks["max"] else f"{num(ks['min'])} to {num(ks['max'])}"
    )
    supp = org["suppressed_cells"]
    return (
        '<footer class="card privacy"><h2>About this report</h2><ul>'
        f"<li>Based on <strong>{num(org['reports'])}</strong> share "
        f"{'report' if org['reports'] == 1 else 'reports'} covering {span}: "
        f"<strong>{num(data['based_on']['events'])}</strong> "
        f"{'event' if data['based_on']['events'] == 1 else 'events'} counted in cells.</li>"
        f"<li>Each report left out its cells below its own k ({k_range}): "
        f"{count(supp['in_reports'], 'cell')} in all. Summed over the reports, every cell below "
        f"<strong>k = {num(org['k'])}</strong> was left out again at org level: "
        f"{count(supp['at_org_level'], 'cell')}.</li>"
        f"<li>{num(org['noised_reports'])} of the reports carry differential-privacy noise "
        "(their counts are not exact).</li>"
        "<li>Rates with fewer than "
        f"{num(data['based_on']['min_denominator'])} cases in the denominator say "
        "<em>not enough data</em> instead of a misleading number.</li>"
        "<li>Share reports hold only counts per role, command and agent of each project's "
        "catalog and the days their period covers: no events, ids, hashes, sessions or "
        "times.</li>"
        "<li>This file loads nothing from the network and runs no script.</li>"
        f'</ul><p class="muted small">flowspec-telemetry {esc(__version__)} · org version '
        f"{esc(org['org_version'])} · insights version {esc(data['insights_version'])}</p>"
        "</footer>"
    )


def render_org_html(
    data: Mapping[str, Any], *, generated_at: str, title: str = "Role usage across the org"
) -> str:
    """The org dashboard as one HTML document (a `str`; write it as UTF-8)."""
    names = Names(DEFAULT_CATALOG)
    period = data["org"]["period"]
    span = (
        f"{esc(period['start'] or '')} – {esc(period['end'] or '')}"
        if period["start"] or period["end"]
        else "no reports yet"
    )
    return page(
        title=title,
        eyebrow="flowspec-telemetry · org",
        period_html=(
            f'{span} <span class="muted">· {count(data["org"]["reports"], "report")}'
            f" · generated {esc(generated_at, 30)}</span>"
        ),
        nav=(*QUESTION_NAV, ("not-available", "Not available")),
        main_html=(
            f"{headline(data, names)}"
            '<div class="two">'
            f"{roles_section(data, names)}{commands_section(data, names)}</div>"
            f"{_security(data, names)}"
            f"{handoffs_section(data)}"
            f"{_completion(data)}"
            f"{_not_available(data)}"
            f"{_footer(data)}"
        ),
    )
