"""Org insights: the product questions answered over every ingested share report.

The store sums each cell (table x dimension values) over all reports
(`queries.CELL_TOTALS`); a summed cell below `k` is suppressed again here,
at org level, and counted in `org.suppressed_cells.at_org_level`. The kept
cells are folded into the same `Insights` accumulator the local `insights`
command uses, so the JSON has the same shape and the same answers, with an
`org` section added:

- `reports`, `k`, `reports_k` (the smallest and largest k the reports used),
  `noised_reports`, `suppressed_cells` (in the reports, and at org level);
- `not_available`: what share reports cannot support, and why (activity over
  time, durations, the share of sessions using a security agent). Those
  fields are empty or null in the insights sections.

Rows from the store are normalised (NULL vs 0 vs "") and sorted before
folding, so DuckDB and ClickHouse give identical documents.
"""

from __future__ import annotations

from typing import Any, Final

from flowspec_telemetry.analysis.insights import Insights
from flowspec_telemetry.analysis.rates import MIN_DENOMINATOR, rate_phrase
from flowspec_telemetry.org import _queries as queries
from flowspec_telemetry.org.backends import Store
from flowspec_telemetry.report.share import DEFAULT_K

__all__ = [
    "NOT_AVAILABLE",
    "ORG_VERSION",
    "cell_totals",
    "org_insights",
]

ORG_VERSION: Final = "1"
NOT_AVAILABLE: Final = {
    "activity": "share reports hold only the first and last day of their period, "
    "not events per day or week",
    "durations": "share reports hold counts only, not command durations",
    "session_share": "share reports hold no session ids, so sessions cannot be counted",
}
_EVENT_TYPE: Final = {
    "roles_selected_at_init": "role.selected",
    "roles_selected_later": "role.selected",
    "role_changes": "role.changed",
    "commands_started": "command.started",
    "commands_completed": "command.completed",
    "commands_failed": "command.failed",
    "agent_invocations": "agent.invoked",
    "handoffs_offered": "handoff.offered",
    "handoffs_clicked": "handoff.clicked",
}


def _int(value: Any) -> int:
    return int(value) if value is not None else 0


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def cell_totals(store: Store) -> list[tuple[str, str, str, int]]:
    """Every cell summed over all committed reports, sorted (engine-independent order)."""
    return sorted(
        (str(t), str(a), str(b), _int(n)) for t, a, b, n in store.query(queries.CELL_TOTALS)
    )


def _fold(acc: Insights, table: str, a: str, b: str, n: int) -> None:
    """One summed cell of a share-report table, counted as the events it stands for."""
    event_type = _EVENT_TYPE.get(table, table)  # a table of a later schema: counted as unknown
    if table in ("role_changes", "handoffs_offered", "handoffs_clicked"):
        acc.add_counts(event_type, n, pair=(a, b))
    elif table in ("roles_selected_at_init", "roles_selected_later"):
        acc.add_counts(event_type, n, role=a, at_init=table == "roles_selected_at_init")
    else:  # commands_* and agent_invocations: (role, command or agent)
        acc.add_counts(event_type, n, role=a, value=b)


def org_insights(
    store: Store, *, k: int = DEFAULT_K, min_denominator: int = MIN_DENOMINATOR
) -> dict[str, Any]:
    """The insights document of every report in the store, k applied again at org level."""
    if k < 1:
        raise ValueError("k must be at least 1")
    reports, suppressed_in_reports, k_min, k_max = store.query(queries.REPORT_TOTALS)[0]
    noised = _int(store.query(queries.NOISED_REPORTS)[0][0])
    start = _text(store.query(queries.PERIOD_START)[0][0])
    end = _text(store.query(queries.PERIOD_END)[0][0])
    security = sorted(str(r[0]) for r in store.query(queries.SECURITY_AGENTS))
    acc = Insights(security_agents=frozenset(security))
    at_org_level = 0
    for table, a, b, n in cell_totals(store):
        if n < k:
            at_org_level += 1
            continue
        _fold(acc, table, a, b, n)
    acc.set_period(start, end)
    data = acc.to_json(min_denominator=min_denominator)
    _org_security(data["security"])
    for row in data["completion"]["commands"]:
        row["duration_ms"]["available"] = False
    data["activity"] = {
        "based_on": 0,
        "available": False,
        "why": NOT_AVAILABLE["activity"],
        "by_day": {},
        "by_week": {},
    }
    data["org"] = {
        "org_version": ORG_VERSION,
        "reports": _int(reports),
        "k": k,
        "reports_k": {"min": _int(k_min) or None, "max": _int(k_max) or None},
        "noised_reports": noised,
        "suppressed_cells": {
            "in_reports": _int(suppressed_in_reports),
            "at_org_level": at_org_level,
        },
        "period": {"start": start, "end": end},
        "not_available": dict(NOT_AVAILABLE),
    }
    _note_suppression(data, k, _int(suppressed_in_reports) + at_org_level, noised)
    return data


def _note_suppression(data: dict[str, Any], k: int, suppressed: int, noised: int) -> None:
    """Say in every answer that small cells are left out (a 0 may be a suppressed count)."""
    notes = []
    if suppressed:
        notes.append(
            f"{suppressed} {'cell' if suppressed == 1 else 'cells'} below k "
            f"{'was' if suppressed == 1 else 'were'} left out, "
            "so a 0 or a missing value may be a small count"
        )
    if noised:
        notes.append(
            f"{noised} {'report carries' if noised == 1 else 'reports carry'} noise (ε-DP), "
            "so counts are approximate"
        )
    if not notes:
        return
    for key in ("roles", "commands", "security", "handoffs", "completion"):
        data[key]["answer"] = f"{data[key]['answer']} ({'; '.join(notes)}.)"


def _org_security(section: dict[str, Any]) -> None:
    """Sessions are not in share reports: the session share is null, the answer says why."""
    for shares in section["per_role"].values():
        shares["session_share"] = None
    dev = section["developer"]
    if dev is None:
        section["answer"] = (
            "No agent invocation by the developer role in the ingested reports (above k)."
        )
        return
    used = "Yes" if dev["invocation_share"]["numerator"] else "Not so far"
    section["answer"] = (
        f"{used}: of developer agent invocations, {rate_phrase(dev['invocation_share'])} "
        f"are security agents (the share of sessions is not available at org level)."
    )
