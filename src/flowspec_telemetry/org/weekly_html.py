"""The org dashboard of weekly share reports: estimates, intervals and what was held back.

The same page rules as the local report (`report.html`): one file, inline
CSS, no script, a Content-Security-Policy that loads nothing, every value
escaped. Each question shows its answer sentence, then a table of estimates
with their 95 % intervals; a figure whose interval holds zero says so, and a
withheld table says why ("fewer than k contributors", or held back by a
difference check). The footer says how many reports, which weeks, k, and the
older-format reports that are not counted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from flowspec_telemetry._version import __version__
from flowspec_telemetry.report._text import esc, num
from flowspec_telemetry.report.html import page

__all__ = ["render_weekly_html"]


def _interval(e: Mapping[str, Any]) -> str:
    if e.get("cannot_tell_from_zero"):
        return f"cannot be told apart from zero ({num(e['low'])} to {num(e['high'])})"
    return f"{num(e['low'])} to {num(e['high'])}"


def _rows(head: Iterable[str], rows: Iterable[Iterable[str]]) -> str:
    th = "".join(f"<th>{h}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    table = f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"
    return f'<div class="table-wrap">{table}</div>'


def _rate(rate: Mapping[str, Any] | None) -> str:
    if not rate or rate.get("value") is None:
        return esc((rate or {}).get("why", "not enough data"))
    return f"{rate['value'] * 100:.0f} % ({rate['low'] * 100:.0f} to {rate['high'] * 100:.0f} %)"


def _section(anchor: str, number: int, title: str, answer: str, body: str) -> str:
    return (
        f'<section id="{anchor}" class="card"><header><span class="qnum">{number}</span>'
        f'<h2>{title}</h2></header><p class="answer">{esc(answer, 2000)}</p>{body}</section>'
    )


def _weeks(weeks: Iterable[Mapping[str, Any]]) -> str:
    rows = []
    for w in weeks:
        figure = (
            "withheld: " + "; ".join(esc(why, 200) for why in w["withheld"].values())
            if {"roles_selected_at_init", "commands_started"} <= set(w["withheld"])
            else esc(w["roles"], 300) + "<br>" + esc(w["commands"], 400)
        )
        rows.append((esc(w["week"]), num(w["contributors"]), figure))
    return _rows(("week", "contributors", "answers of that week (95 % intervals)"), rows)


def render_weekly_html(
    data: Mapping[str, Any],
    *,
    generated_at: str,
    weeks: Iterable[Mapping[str, Any]] = (),
) -> str:
    """The page (a `str`; write it as UTF-8); `weeks` adds the week-by-week table."""
    weekly_rows = list(weeks)
    span_weeks = data["weeks"]
    span = (
        f"{esc(span_weeks[0])} – {esc(span_weeks[-1])}" if span_weeks else "no weekly reports yet"
    )
    roles = data["roles"]
    init = _rows(
        ("role", "estimate", "95 % interval"),
        ((esc(r["role"]), num(r["estimate"]), _interval(r)) for r in roles["at_init"]),
    )
    commands = data["commands"]
    top = _rows(
        ("command", "started (estimate)", "95 % interval"),
        ((esc(c["command"]), num(c["estimate"]), _interval(c)) for c in commands["top"]),
    )
    security = data["security"]
    sec = _rows(
        ("role", "share of agent invocations to security agents"),
        ((esc(role), _rate(rate)) for role, rate in security["per_role"].items()),
    )
    handoffs = data["handoffs"]
    hand = _rows(
        ("offered", "clicked", "click-through"),
        [
            (
                _interval(handoffs["offered"]) if handoffs.get("offered") else "withheld",
                _interval(handoffs["clicked"]) if handoffs.get("clicked") else "withheld",
                _rate(handoffs.get("click_through")),
            )
        ],
    )
    completion = data["completion"]
    comp = _rows(
        ("command", "completed / started"),
        ((esc(r["command"]), _rate(r["completion_rate"])) for r in completion["commands"]),
    )
    held = data["held_back"]
    held_rows = _rows(
        ("table", "why"), ((esc(name), esc(why, 300)) for name, why in held["tables"].items())
    )
    legacy = data["legacy_reports"]
    footer = (
        f'<footer class="foot"><p>Based on {num(data["reports"])} weekly share reports '
        f"({span}); a figure needs at least {num(data['k'])} contributors; every cell carries "
        f"discrete Laplace noise, so figures are estimates with {esc(data['interval'])} "
        f"intervals. Held back: {num(held['cells'])} cells.</p>"
        + (
            f"<p>Not counted: {num(legacy['count'])} reports of the older share format "
            f"({esc(legacy['why'])}).</p>"
            if legacy["count"]
            else ""
        )
        + f"<p>flowspec-telemetry {esc(__version__)}</p></footer>"
    )
    return page(
        title="Role usage across the org",
        eyebrow="flowspec-telemetry · org · weekly",
        period_html=(
            f'{span} <span class="muted">· {num(data["reports"])} reports · '
            f"generated {esc(generated_at, 30)}</span>"
        ),
        nav=(),
        main_html=_section("roles", 1, "Roles selected at init", roles["answer"], init)
        + _section("commands", 2, "Top commands", commands["answer"], top)
        + _section("security", 3, "Security agents", security["answer"], sec)
        + _section("handoffs", 4, "Handoffs", handoffs["answer"], hand)
        + _section("completion", 5, "Completion", completion["answer"], comp)
        + (
            '<section id="weeks" class="card"><header><h2>Week by week</h2></header>'
            f"{_weeks(weekly_rows)}</section>"
            if weekly_rows
            else ""
        )
        + (
            f'<section id="held-back" class="card"><header><h2>Held back</h2></header>{held_rows}'
            "</section>"
            if held["tables"]
            else ""
        )
        + footer,
    )
