"""The HTML report: one self-contained file a maintainer would rather look at than read.

Inline CSS and inline SVG only: no script, no font, image or URL of any kind,
and a Content-Security-Policy that forbids loading anything, so the page works
offline and cannot call out even if a value slipped through. Every value from
the data goes through `text.esc`; role, command and agent names are data too
(a hashed or hostile value is shown inert, as text).

The page answers the product questions from the insights JSON
(`insights.project_insights`), in this order: headline figures, role usage,
commands (overall and per role), security-agent use, the handoff funnel,
completion rates with durations, activity over time, and a privacy footer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, Final

from flowspec_telemetry._version import __version__
from flowspec_telemetry.analysis.rates import why_no_value
from flowspec_telemetry.core.roles import Catalog
from flowspec_telemetry.report import _svg as svg
from flowspec_telemetry.report._style import CSS
from flowspec_telemetry.report._text import clean, count, duration, esc, num, pct

__all__ = [
    "CSP",
    "MAX_DAYS",
    "QUESTION_NAV",
    "Names",
    "commands_section",
    "completion_section",
    "handoffs_section",
    "headline",
    "page",
    "render_html",
    "roles_section",
    "security_section",
    "value_html",
]

CSP: Final = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; font-src 'none'; "
    "base-uri 'none'; form-action 'none'"
)
_NONE: Final = "(none)"
_HASH_TIP: Final = "a keyed hash of a value outside the catalog"
MAX_DAYS: Final = 62  # longer histories are charted per ISO week


class Names:
    """How catalog values are shown, and which colour each role gets."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.colors = {
            rid: svg.PALETTE[i % len(svg.PALETTE)] for i, rid in enumerate(catalog.roles)
        }

    def role_text(self, role: str) -> str:
        """Plain text for a role (escaped later by the caller)."""
        if role == _NONE:
            return "no role"
        found = self.catalog.roles.get(role)
        if found is None:
            return role
        # No icon: the catalog's are emoji, which show as empty boxes where no
        # emoji font is installed. The role's colour (chip, bar) marks it instead.
        return clean(found.display_name, 80)

    def role_html(self, role: str) -> str:
        if role == _NONE:
            return '<span class="muted">no role</span>'
        if role in self.catalog.roles:
            return (
                f'<span class="chip" style="--c:{self.color(role)}">{esc(self.role_text(role))}'
                f'<span class="rid">{esc(role)}</span></span>'
            )
        return value_html(role)

    def color(self, role: str) -> str:
        return self.colors.get(role, svg.OTHER)


def value_html(value: Any) -> str:
    """A command/agent/role value: catalog values plain, hashes marked, all escaped."""
    text = clean(value)
    if text == _NONE or not text:
        return '<span class="muted">none</span>'
    if text.startswith("hmac:"):
        return f'<code class="hashed" title="{_HASH_TIP}">{esc(text)}</code>'
    return f"<code>{esc(text)}</code>"


def _rate_cell(r: Mapping[str, Any], *, color: str = svg.PALETTE[1]) -> str:
    value = r.get("value")
    n, d = int(r.get("numerator", 0)), int(r.get("denominator", 0))
    label = f"{pct(value)} ({num(n)} of {num(d)})"
    why = why_no_value(r)
    figure = (
        f'<span class="nodata-text">{why}</span>'
        if value is None
        else f"<strong>{pct(value)}</strong>"
    )
    return (
        f'<div class="rate">{svg.meter(value, label=label, color=color)}{figure}'
        f'<span class="muted small">{num(n)} of {num(d)}</span></div>'
    )


def _card(title: str, value: str, sub: str) -> str:
    return (
        f'<div class="kpi"><div class="kpi-title">{title}</div>'
        f'<div class="kpi-value">{value}</div><div class="kpi-sub">{sub}</div></div>'
    )


_TABLE: Final = re.compile(r'<table class="tbl">.*?</table>', re.S)
_TH: Final = re.compile(r"<th[^>]*>(.*?)</th>", re.S)
_TR: Final = re.compile(r"<tr>(.*?)</tr>", re.S)


def _label_cells(body: str) -> str:
    """Give each table cell its column's header as `data-label`.

    On a phone the tables are laid out one row per block, each cell on its
    own line after its label (see `style.CSS`), so nothing is cut off or
    scrolled sideways. Only our own markup is rewritten: values are escaped,
    so they can hold no `<td`.
    """

    def table(match: re.Match[str]) -> str:
        html = match.group()
        head, sep, rest = html.partition("</thead>")
        labels = [re.sub(r"<[^>]+>", "", h) for h in _TH.findall(head)]

        def row(m: re.Match[str]) -> str:
            cells = m.group(1).split("<td")
            out = [cells[0]]
            for i, cell in enumerate(cells[1:]):
                label = labels[i] if i < len(labels) else ""
                out.append(f' data-label="{label}"{cell}' if label else cell)
            return "<tr>" + "<td".join(out) + "</tr>"

        return head + sep + _TR.sub(row, rest)

    return _TABLE.sub(table, body)


def _section(anchor: str, number: str, title: str, answer: str, body: str, *, based_on: int) -> str:
    return (
        f'<section id="{anchor}" class="card"><header><span class="qnum">{number}</span>'
        f"<h2>{title}</h2></header>"
        f'<p class="answer">{esc(answer, 400)}</p>{_label_cells(body)}'
        f'<p class="based">Based on {count(based_on, "event")}.</p></section>'
    )


def headline(data: Mapping[str, Any], names: Names) -> str:
    roles, completion, handoffs, security = (
        data["roles"],
        data["completion"],
        data["handoffs"],
        data["security"],
    )
    top = roles.get("most_selected_at_init")
    found = names.catalog.roles.get(top["role"]) if top else None
    top_html = esc(found.display_name if found else top["role"], 30) if top else "–"
    top_sub = f"{count(top['count'], 'selection')} at init" if top else "no clear leader yet"
    dev = security.get("developer")
    dev_share = dev["invocation_share"]["value"] if dev else None
    cards = [
        _card(
            "Events",
            num(data["based_on"]["events"]),
            "counted in cells at or above k" if "org" in data else "in this period",
        ),
        _card("Top role at init", top_html, top_sub),
        _card(
            "Commands completed",
            pct(completion["overall"]["value"]),
            f"{num(completion['overall']['numerator'])} of "
            f"{num(completion['overall']['denominator'])} started",
        ),
        _card(
            "Handoffs clicked",
            pct(handoffs["click_through"]["value"]),
            f"{num(handoffs['clicked'])} of {num(handoffs['offered'])} offered",
        ),
        _card(
            "Dev → security agents",
            pct(dev_share),
            "of developer agent invocations" if dev else "no developer invocations",
        ),
    ]
    return f'<div class="kpis">{"".join(cards)}</div>'


def roles_section(data: Mapping[str, Any], names: Names) -> str:
    roles = data["roles"]
    at_init = roles["selected_at_init"]
    bars = [
        svg.Bar(
            names.role_text(r),
            n,
            names.color(r),
            f" · {num(at_init.get(r, 0))} at init" if at_init.get(r) else "",
        )
        for r, n in list(roles["selected"].items())[:12]
    ]
    body = svg.hbars(bars, title="Role selections")
    changes = roles["changes"][:8]
    if changes:
        rows = "".join(
            f"<tr><td>{names.role_html(c['from'])}</td><td class='arrow'>→</td>"
            f"<td>{names.role_html(c['to'])}</td><td class='num'>{num(c['count'])}</td></tr>"
            for c in changes
        )
        body += (
            '<h3>Role changes</h3><div class="scroll"><table class="tbl"><thead><tr>'
            "<th>from</th><th></th>"
            f'<th>to</th><th class="num">times</th></tr></thead><tbody>{rows}</tbody></table></div>'
        )
    return _section(
        "roles",
        "1",
        "Which role is selected most?",
        roles["answer"],
        body,
        based_on=roles["based_on"],
    )


def commands_section(data: Mapping[str, Any], names: Names) -> str:
    commands = data["commands"]
    bars = [svg.Bar(c["command"], c["count"], svg.PALETTE[0]) for c in commands["top"]]
    # Runs (command.started), not every event naming a command as `stats` counts.
    # Nothing to chart: the answer already says so (no empty heading, no repeat).
    body = (
        "<h3>Top 5 commands, by runs</h3>" + svg.hbars(bars, title="Top 5 commands, by runs")
        if bars
        else ""
    )
    per_role = list(commands["per_role"].items())[:12]
    if per_role:
        blocks = []
        for role, rows in per_role:
            peak = max((r["count"] for r in rows), default=1) or 1
            items = "".join(
                f'<li><span class="cmd">{value_html(r["command"])}</span>'
                f'<span class="minibar"><span style="width:{r["count"] / peak * 100:.1f}%;'
                f'background:{names.color(role)}"></span></span>'
                f'<span class="num">{num(r["count"])}</span></li>'
                for r in rows
            )
            blocks.append(
                f'<div class="per-role"><h4>{names.role_html(role)}</h4><ol>{items}</ol></div>'
            )
        body += f'<h3>Per role</h3><div class="grid-roles">{"".join(blocks)}</div>'
    return _section(
        "commands",
        "2",
        "What are the top commands?",
        commands["answer"],
        body,
        based_on=commands["based_on"],
    )


def security_section(
    data: Mapping[str, Any],
    names: Names,
    *,
    sessions: bool = True,
    empty: str = "No agent invocation recorded yet.",
) -> str:
    """Security-agent use per role; `sessions=False` where no session ids exist (org level)."""
    security = data["security"]

    def session_cell(r: Mapping[str, Any]) -> str:
        return (
            f"<td>{_rate_cell(r['session_share'], color=svg.PALETTE[3])}</td>" if sessions else ""
        )

    rows = "".join(
        f"<tr><td>{names.role_html(role)}</td>{session_cell(r)}"
        f"<td>{_rate_cell(r['invocation_share'], color=svg.PALETTE[3])}</td></tr>"
        for role, r in list(security["per_role"].items())[:20]
    )
    agents = ", ".join(value_html(a) for a in security["security_agents"][:10]) or "none"
    session_head = "<th>sessions using a security agent</th>" if sessions else ""
    body = f'<p class="muted small">Security agents: {agents}.</p>' + (
        '<div class="scroll"><table class="tbl"><thead><tr><th>role</th>'
        f"{session_head}"
        f"<th>agent invocations that are security agents</th></tr></thead><tbody>{rows}"
        "</tbody></table></div>"
        if rows
        else f'<p class="empty">{esc(empty)}</p>'
    )
    return _section(
        "security",
        "3",
        "Do developers use security agents?",
        security["answer"],
        body,
        based_on=security["based_on"],
    )


def handoffs_section(data: Mapping[str, Any]) -> str:
    handoffs = data["handoffs"]
    # With no handoff at all the answer says so; the funnel would only repeat it.
    body = (
        svg.funnel(handoffs["offered"], handoffs["clicked"], title="Handoff funnel")
        if handoffs["offered"] or handoffs["clicked"]
        else ""
    )
    pairs = handoffs["pairs"][:12]
    if pairs:
        rows = "".join(
            f"<tr><td>{value_html(p['from'])}</td><td class='arrow'>→</td>"
            f"<td>{value_html(p['to'])}</td><td class='num'>{num(p['offered'])}</td>"
            f"<td class='num'>{num(p['clicked'])}</td>"
            f"<td>{_rate_cell(p['click_through'])}</td></tr>"
            for p in pairs
        )
        body += (
            '<div class="scroll"><table class="tbl"><thead><tr><th>from</th><th></th><th>to</th>'
            '<th class="num">offered</th><th class="num">clicked</th><th>click-through</th>'
            f"</tr></thead><tbody>{rows}</tbody></table></div>"
        )
    if handoffs["clicked_without_offer"]:
        body += (
            f'<p class="muted small">{num(handoffs["clicked_without_offer"])} clicks had no '
            "matching offer in this period.</p>"
        )
    return _section(
        "handoffs",
        "4",
        "Are handoffs clicked or ignored?",
        handoffs["answer"],
        body,
        based_on=handoffs["based_on"],
    )


def completion_section(
    data: Mapping[str, Any],
    *,
    durations: bool = True,
    empty: str = "No command has been started yet.",
) -> str:
    """Completion per command; `durations=False` where only counts exist (org level)."""
    completion = data["completion"]

    def timing(c: Mapping[str, Any]) -> str:
        if not durations:
            return ""
        return (
            f"<td class='num'>{duration(c['duration_ms']['median'])}</td>"
            f"<td class='num'>{duration(c['duration_ms']['p90'])}</td>"
        )

    rows = "".join(
        f"<tr><td>{value_html(c['command'])}</td><td class='num'>{num(c['started'])}</td>"
        f"<td class='num'>{num(c['completed'])}</td><td class='num'>{num(c['failed'])}</td>"
        f"<td>{_rate_cell(c['completion_rate'])}</td>{timing(c)}</tr>"
        for c in completion["commands"][:20]
    )
    heads = '<th class="num">median</th><th class="num">p90</th>' if durations else ""
    body = (
        '<div class="scroll"><table class="tbl"><thead><tr><th>command</th>'
        '<th class="num">started</th>'
        '<th class="num">completed</th><th class="num">failed</th><th>completion rate</th>'
        f"{heads}</tr></thead><tbody>{rows}</tbody></table></div>"
        if rows
        else f'<p class="empty">{esc(empty)}</p>'
        if empty != completion["answer"]
        else ""  # the answer says it already
    )
    return _section(
        "completion",
        "5",
        "Do commands that start also complete?",
        completion["answer"],
        body,
        based_on=completion["based_on"],
    )


def _all_days(days: list[str]) -> list[str] | None:
    """Every day from the first to the last (quiet days included); None if not dates."""
    if not days:
        return []
    try:
        first, last = date.fromisoformat(days[0]), date.fromisoformat(days[-1])
    except ValueError:
        return None
    if last.toordinal() - first.toordinal() > MAX_DAYS:
        return None
    return [date.fromordinal(d).isoformat() for d in range(first.toordinal(), last.toordinal() + 1)]


def _activity(data: Mapping[str, Any], names: Names) -> str:
    activity = data["activity"]
    by_day: Mapping[str, Mapping[str, int]] = activity["by_day"]
    per, table, labels = "day", by_day, _all_days(list(by_day))
    if labels is None or len(labels) > MAX_DAYS:
        per, table = "week", activity["by_week"]
        labels = list(table)
    totals: dict[str, int] = {}
    for counter in table.values():
        for role, n in counter.items():
            totals[role] = totals.get(role, 0) + n
    ranked = sorted(totals, key=lambda r: (-totals[r], r))
    shown = [r for r in ranked if r in names.catalog.roles][:7]
    rest = [r for r in ranked if r not in shown]
    series = [
        (names.role_text(r), names.color(r), [table.get(label, {}).get(r, 0) for label in labels])
        for r in shown
    ]
    if rest:
        series.append(
            (
                "other roles",
                svg.OTHER,
                [sum(table.get(label, {}).get(r, 0) for r in rest) for label in labels],
            )
        )
    # Two drawings of the same chart: the wide one for a desktop, a narrow one
    # (fewer date labels, text at a readable size) that CSS shows on a phone.
    chart = svg.columns(labels, series, title=f"Events per {per}, by role") + svg.columns(
        labels,
        series,
        title=f"Events per {per}, by role",
        width=400,
        height=300,
        max_labels=5,
        variant="narrow",
    )
    legend = "".join(
        f'<span class="key"><span class="swatch" style="background:{color}"></span>'
        f"{esc(name, 40)}</span>"
        for name, color, _ in series
    )
    body = f'<div class="legend">{legend}</div>{chart}'
    return _section(
        "activity",
        "↗",
        f"Activity over time (events per {per})",
        f"{count(activity['based_on'], 'event')} over {count(len(table), 'active ' + per)}.",
        body,
        based_on=activity["based_on"],
    )


def _were(n: int) -> str:
    return "was" if n == 1 else "were"


def _footer(data: Mapping[str, Any], period: tuple[str | None, str | None]) -> str:
    based = data["based_on"]
    first, last = period[0] or based["first"], period[1] or based["last"]
    span = (
        f"{esc((first or '–')[:10])} to {esc((last or '–')[:10])}" if first or last else "no events"
    )
    unknown = based.get("unknown_event_types") or {}
    extra = ""
    if unknown:
        extra += (
            f"<li>{count(sum(unknown.values()), 'event')} of types this version does not know "
            f"{_were(sum(unknown.values()))} counted but not analysed.</li>"
        )
    if based.get("future_schema_events"):
        extra += (
            f"<li>{count(based['future_schema_events'], 'event')} from a newer schema version "
            f"{_were(based['future_schema_events'])} read as far as understood.</li>"
        )
    return (
        '<footer class="card privacy"><h2>About this report</h2><ul>'
        f"<li>Based on <strong>{num(based['events'])}</strong> "
        f"{'event' if based['events'] == 1 else 'events'} from {span} (UTC); "
        f"<strong>{num(based['skipped_lines'])}</strong> unreadable "
        f"{'line was' if based['skipped_lines'] == 1 else 'lines were'} skipped.</li>"
        f"{extra}"
        "<li>Rates with fewer than "
        f"{num(based['min_denominator'])} cases in the denominator say <em>not enough data</em> "
        "instead of a misleading number.</li>"
        "<li>What was hashed: role, command and agent names that are in the project's role "
        "catalog are shown as they are. Anything else was stored only as a keyed hash and is "
        'shown as <code class="hashed">hmac:…</code>: an HMAC-SHA256 with this project\'s '
        "secret salt, which cannot be turned back into the value. Session ids are hashed too and "
        "are never shown.</li>"
        "<li>Never collected: prompts, file names or contents, paths, arguments, user or host "
        "names, e-mail or IP addresses, environment values.</li>"
        "<li>This file was made on this machine, loads nothing from the network and runs no "
        "script. It stays here unless you send it.</li>"
        f'</ul><p class="muted small">flowspec-telemetry {esc(__version__)} · insights version '
        f"{esc(data['insights_version'])}</p></footer>"
    )


def page(
    *,
    title: str,
    eyebrow: str,
    period_html: str,
    nav: Sequence[tuple[str, str]],
    main_html: str,
) -> str:
    """The page skeleton every report shares: CSP, viewport, style, top bar and navigation.

    `period_html` and `main_html` are HTML already escaped by the caller;
    `title`, `eyebrow` and the navigation labels are text (escaped here).
    """
    links = "".join(f'<a href="#{esc(anchor)}">{esc(label)}</a>' for anchor, label in nav)
    nav_html = f"<nav>{links}</nav>" if links else ""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{esc(title)} · flowspec-telemetry</title>"
        f"<style>{CSS}</style></head><body>"
        f'<header class="top"><div><p class="eyebrow">{esc(eyebrow)}</p>'
        f"<h1>{esc(title)}</h1>"
        f'<p class="period">{period_html}</p>'
        f"</div>{nav_html}</header><main>"
        f"{main_html}"
        "</main></body></html>\n"
    )


QUESTION_NAV: Final = (
    ("roles", "Roles"),
    ("commands", "Commands"),
    ("security", "Security"),
    ("handoffs", "Handoffs"),
    ("completion", "Completion"),
)
"""The anchors of the five question sections, in page order."""


def render_html(
    data: Mapping[str, Any],
    catalog: Catalog,
    *,
    generated_at: str,
    period: tuple[str | None, str | None] = (None, None),
    title: str = "Role usage report",
) -> str:
    """The whole report as one HTML document (a `str`; write it as UTF-8)."""
    names = Names(catalog)
    based = data["based_on"]
    first, last = period[0] or based["first"], period[1] or based["last"]
    span = (
        f"{esc((first or '')[:10])} – {esc((last or '')[:10])}"
        if first or last
        else "no events yet"
    )
    return page(
        title=title,
        eyebrow="flowspec-telemetry",
        period_html=f'{span} <span class="muted">· generated {esc(generated_at, 30)}</span>',
        nav=(*QUESTION_NAV, ("activity", "Activity")),
        main_html=(
            f"{headline(data, names)}"
            '<div class="two">'
            f"{roles_section(data, names)}{commands_section(data, names)}</div>"
            f"{security_section(data, names)}"
            f"{handoffs_section(data)}"
            f"{completion_section(data)}"
            f"{_activity(data, names)}"
            f"{_footer(data, period)}"
        ),
    )
