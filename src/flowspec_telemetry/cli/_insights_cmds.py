"""`insights` (answers as text or JSON) and `dashboard` (the same, as terminal panels).

Both read the whole history in one streaming pass (`insights.project_insights`).
Every value from the data goes through `render.safe`, so hostile strings are
shown, never obeyed. The dashboard is laid out for an 80-column terminal and
needs no colour: bars are block characters, and rich honours `NO_COLOR`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Final

import typer
from rich import box
from rich.cells import cell_len
from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from flowspec_telemetry.analysis.insights import project_insights
from flowspec_telemetry.analysis.rates import rate_figure
from flowspec_telemetry.cli._render import (
    fail,
    line,
    not_an_option,
    out,
    plural,
    print_json,
    project_or_fail,
    safe,
)
from flowspec_telemetry.history import selection

_SINCE = typer.Option(
    "--since",
    metavar="DATE",
    callback=not_an_option,
    help=f"Only events at or after: {selection.DATE_HELP}.",
)
_UNTIL = typer.Option(
    "--until",
    metavar="DATE",
    callback=not_an_option,
    help="Only events before this (a bare date includes that day).",
)
_BAR_WIDTH = 20
_SPARK = "▁▂▃▄▅▆▇█"


def _load(since: str | None, until: str | None) -> dict[str, Any]:
    try:
        lo, hi = selection.window(since, until)
    except selection.QueryError as exc:
        fail(str(exc))
    root = project_or_fail("nothing to analyse")
    return project_insights(root, since=lo, until=hi)


def insights_cmd(
    since: Annotated[str | None, _SINCE] = None,
    until: Annotated[str | None, _UNTIL] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the versioned JSON document.")
    ] = False,
) -> None:
    """Answer the five product questions.

    Roles, commands, security agents, handoffs and completion, with the figures.
    """
    data = _load(since, until)
    if as_json:
        print_json(data)
        return
    based = data["based_on"]
    line(
        f"Based on {plural(based['events'], 'event')}"
        + (
            f" from {safe(based['first'])[:10]} to {safe(based['last'])[:10]}"
            if based["first"]
            else ""
        )
        + (f"; {based['skipped_lines']} unreadable lines skipped" if based["skipped_lines"] else "")
        + ".",
        "bold",
    )
    print_answers(data)
    _skipped_note(based)


def print_answers(
    data: dict[str, Any], security: Callable[[dict[str, Any]], list[str]] | None = None
) -> None:
    """A sentence per product question, then its figures (also used by `org insights`)."""
    sections = (
        ("1. Which role is selected most at init?", "roles", _role_figures),
        ("2. Which commands are used most? (runs: command.started)", "commands", _command_figures),
        ("3. Do developers invoke security agents?", "security", security or _security_figures),
        ("4. Are handoffs clicked or ignored?", "handoffs", _handoff_figures),
        ("5. Do started commands complete?", "completion", _completion_figures),
    )
    for title, key, figures in sections:
        section = data[key]
        line("")
        line(title, "bold")
        line(f"   {safe(section['answer'], 400)}")
        for text in figures(section):
            line(f"   - {text}")


def _role_figures(section: dict[str, Any]) -> list[str]:
    out_lines = [f"{safe(r)}: {n} selected" for r, n in section["selected"].items()]
    out_lines += [
        f"changed {safe(c['from'])} -> {safe(c['to'])}: {c['count']}"
        for c in section["changes"][:5]
    ]
    return out_lines


def _command_figures(section: dict[str, Any]) -> list[str]:
    lines = [f"{safe(c['command'])}: {c['count']}" for c in section["top"]]
    for role, rows in section["per_role"].items():
        lines.append(
            f"role {safe(role)}: " + ", ".join(f"{safe(r['command'])} ({r['count']})" for r in rows)
        )
    return lines


def _security_figures(section: dict[str, Any]) -> list[str]:
    return [
        f"role {safe(role)}: sessions {rate_figure(v['session_share'])}, "
        f"invocations {rate_figure(v['invocation_share'])}"
        for role, v in section["per_role"].items()
    ]


def _handoff_figures(section: dict[str, Any]) -> list[str]:
    return [
        f"{safe(p['from'])} -> {safe(p['to'])}: {rate_figure(p['click_through'])}"
        for p in section["pairs"][:10]
    ]


def _completion_figures(section: dict[str, Any]) -> list[str]:
    lines = []
    for row in section["commands"]:
        d = row["duration_ms"]
        timing = (
            f", median {_ms(d['median'])}, p90 {_ms(d['p90'])}" if d["median"] is not None else ""
        )
        lines.append(
            f"{safe(row['command'])}: {rate_figure(row['completion_rate'])} completed, "
            f"{row['failed']} failed{timing}"
        )
    return lines


def _ms(value: int | None) -> str:
    if value is None:
        return "-"
    if value < 1000:
        return f"{value} ms"
    if value < 120_000:
        return f"{value / 1000:.1f} s"
    return f"{value / 60_000:.1f} min"


def _skipped_note(based: dict[str, Any]) -> None:
    unknown = based["unknown_event_types"]
    if unknown or based["future_schema_events"]:
        line("")
        parts = []
        if unknown:
            parts.append(
                f"{plural(sum(unknown.values()), 'event')} of types this version does not know"
            )
        if based["future_schema_events"]:
            parts.append(
                f"{plural(based['future_schema_events'], 'event')} from a newer schema "
                "(read as far as understood)"
            )
        line("Note: " + "; ".join(parts) + ".", "dim")


# ------------------------------------------------------------------ dashboard


def _bar(value: float, top: float, width: int = _BAR_WIDTH) -> str:
    if top <= 0:
        return ""
    cells = value / top * width
    full = int(cells)
    return "█" * full + ("▌" if cells - full >= 0.5 else "")


def _table(*columns: tuple[str, str]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, expand=True, pad_edge=False, show_edge=False)
    for name, justify in columns:
        table.add_column(name, justify=justify, overflow="ellipsis", no_wrap=True)  # type: ignore[arg-type]
    return table


# Columns that may give up room on a narrow terminal: bars are cut, a list of
# commands wraps between its entries and a handoff pair after its arrow.
# Every other column (role ids, counts, rates, durations) keeps its widest
# value whole, so `dashboard` at 60 columns never shows `d…` for `dev`.
_FLEX: Final = frozenset({"", "top commands", "from → to"})
_WRAPS: Final = frozenset({"from → to", "top commands"})


def _fit(body: Any) -> None:
    """Give each fixed column of the tables in `body` the width of its widest cell."""
    tables = [body] if isinstance(body, Table) else getattr(body, "renderables", [])
    for table in tables:
        if not isinstance(table, Table):
            continue
        for column in table.columns:
            header = str(column.header)
            if header in _WRAPS:
                column.no_wrap, column.overflow = False, "fold"
            if header in _FLEX:
                continue
            cells = [cell_len(str(c)) for c in column.cells]
            column.min_width = max([cell_len(header), *cells])


def _panel(title: str, answer: str, body: Any) -> Panel:
    _fit(body)
    return Panel(
        Group(Text(safe(answer, 300), style="italic"), body),
        title=Text(title, style="bold"),
        title_align="left",
        box=box.ROUNDED,
        padding=(0, 1),
    )


def dashboard_cmd(
    since: Annotated[str | None, _SINCE] = None,
    until: Annotated[str | None, _UNTIL] = None,
) -> None:
    """The insights as a terminal dashboard.

    Fits 80 columns and honours NO_COLOR.
    """
    data = _load(since, until)
    based = data["based_on"]
    period = (
        f"{safe(based['first'])[:10]} to {safe(based['last'])[:10]}"
        if based["first"]
        else "no events yet"
    )
    out.print(
        Panel(
            Text(
                f"{plural(based['events'], 'event')}, {period}"
                + (
                    f", {plural(based['skipped_lines'], 'line')} skipped"
                    if based["skipped_lines"]
                    else ""
                )
            ),
            title=Text("flowspec role usage", style="bold"),
            title_align="left",
            box=box.ROUNDED,
        )
    )
    for panel in (
        _roles_panel(data["roles"]),
        _commands_panel(data["commands"]),
        _security_panel(data["security"]),
        _handoffs_panel(data["handoffs"]),
        _completion_panel(data["completion"]),
        _activity_panel(data["activity"]),
    ):
        out.print(panel)


def _roles_panel(section: dict[str, Any]) -> Panel:
    table = _table(("role", "left"), ("at init", "right"), ("selected", "right"), ("", "left"))
    top = max(section["selected"].values(), default=0)
    for role, n in section["selected"].items():
        table.add_row(
            safe(role, 24), str(section["selected_at_init"].get(role, 0)), str(n), _bar(n, top)
        )
    return _panel("1 · Roles selected", section["answer"], table)


def _commands_panel(section: dict[str, Any]) -> Panel:
    table = _table(("command", "left"), ("runs", "right"), ("", "left"))
    top = section["top"][0]["count"] if section["top"] else 0
    for row in section["top"]:
        table.add_row(safe(row["command"], 28), str(row["count"]), _bar(row["count"], top))
    per_role = _table(("role", "left"), ("top commands", "left"))
    for role, rows in list(section["per_role"].items())[:8]:
        per_role.add_row(
            safe(role, 24), ", ".join(f"{safe(r['command'], 24)} {r['count']}" for r in rows[:3])
        )
    return _panel("2 · Top commands, by runs", section["answer"], Group(table, per_role))


def _security_panel(section: dict[str, Any]) -> Panel:
    table = _table(("role", "left"), ("sessions", "right"), ("invocations", "right"), ("", "left"))
    for role, v in section["per_role"].items():
        share = (
            v["session_share"]["value"]
            if v["session_share"]["value"] is not None
            else v["invocation_share"]["value"]
        )
        table.add_row(
            safe(role, 24),
            rate_figure(v["session_share"]),
            rate_figure(v["invocation_share"]),
            _bar(share or 0, 1.0, 12) if share is not None else "",
        )
    return _panel("3 · Security agents", section["answer"], table)


def _handoffs_panel(section: dict[str, Any]) -> Panel:
    table = _table(
        ("from → to", "left"), ("offered", "right"), ("clicked", "right"), ("rate", "right")
    )
    for pair in section["pairs"][:6]:
        table.add_row(
            f"{safe(pair['from'], 22)} → {safe(pair['to'], 22)}",
            str(pair["offered"]),
            str(pair["clicked"]),
            rate_figure(pair["click_through"]).split(" ")[0],
        )
    return _panel("4 · Handoffs", section["answer"], table)


def _completion_panel(section: dict[str, Any]) -> Panel:
    # Below 72 columns the six columns cannot all stay whole: p90 goes (median stays).
    wide = out.width >= 72
    columns = [
        ("command", "left"),
        ("started", "right"),
        ("done", "right"),
        ("failed", "right"),
        ("median", "right"),
    ]
    table = _table(*columns, *([("p90", "right")] if wide else []))
    for row in section["commands"][:8]:
        rate = row["completion_rate"]
        cells = [
            safe(row["command"], 24),
            str(row["started"]),
            f"{rate['value'] * 100:.0f}%" if rate["value"] is not None else "n/a",
            str(row["failed"]),
            _ms(row["duration_ms"]["median"]),
        ]
        table.add_row(*cells, *([_ms(row["duration_ms"]["p90"])] if wide else []))
    return _panel("5 · Completion", section["answer"], table)


def _activity_panel(section: dict[str, Any]) -> Panel:
    weeks = section["by_week"]
    if not weeks:
        return _panel("Activity", "No activity recorded yet.", Text(""))
    roles: dict[str, int] = {}
    for counter in weeks.values():
        for role, n in counter.items():
            roles[role] = roles.get(role, 0) + n
    names = sorted(roles, key=lambda r: -roles[r])[:6]
    keys = list(weeks)[-26:]
    table = _table(
        ("role", "left"), ("events", "right"), (f"per week ({keys[0]} … {keys[-1]})", "left")
    )
    for role in names:
        series = [weeks[k].get(role, 0) for k in keys]
        table.add_row(safe(role, 24), str(roles[role]), _spark(series))
    return _panel("Activity over time", f"{plural(len(weeks), 'week')} with activity.", table)


def _spark(series: list[int]) -> str:
    top = max(series, default=0)
    if top == 0:
        return ""
    return "".join(
        _SPARK[min(len(_SPARK) - 1, int(v / top * (len(_SPARK) - 1) + 0.5))] if v else " "
        for v in series
    )
