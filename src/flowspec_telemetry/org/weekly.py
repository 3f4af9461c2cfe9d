"""Weekly share reports (format 2) in the org store: load them, sum them, answer with intervals.

Loading (`weekly_rows`, `weekly_conflicts`): a report is refused when its
`report_id` is already in the store (or earlier in the same call), or when
the store already holds a report of the same ISO week from the same
`contributor` (the per-week pseudonym): one person, one report a week. Two
people with identical counts have different ids and pseudonyms, so both count.

Answering (`weekly_insights`): for the weeks asked (all by default), every
noised cell of every report is summed (no cell is ever dropped per report,
so the sums are unbiased), and the threshold is applied after summing, on
**contributors**: a table's figure is withheld when fewer than k people
stand behind it (the most reports any one week of the span holds for the
table: a person sends at most one report a week, so at least that many
different people contributed). Every shown figure is an estimate with a 95 %
interval from the noise each report declares (the sum of the reports'
discrete Laplace variances; the normal approximation from 30 reports on,
Chebyshev's bound, valid for any distribution, below), and a figure whose
interval holds zero "cannot be told apart from zero".

Difference checks: the store keeps every figure it published
(`org_published`: table, weeks, the reports per week then). A new figure is
held back when, next to one already published for an overlapping span, it
would isolate fewer than k contributors (the reports in one but not the
other, week by week), and the answer says how many cells were held back and why.
"""

from __future__ import annotations

import math
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from flowspec_telemetry.org.backends import Store
from flowspec_telemetry.report._dlaplace import variance
from flowspec_telemetry.report.weekly import WEEKLY_TABLES, week_ordinal

__all__ = [
    "ORG_WEEKLY_VERSION",
    "has_weekly_reports",
    "per_week",
    "weekly_conflicts",
    "weekly_insights",
    "weekly_rows",
]

ORG_WEEKLY_VERSION: Final = "2"
Z95: Final = 1.959964
CHEBYSHEV95: Final = math.sqrt(1 / 0.05)
NORMAL_FROM: Final = 30
_LOOKUP_CHUNK: Final = 500
VISIBLE: Final = "load_id IN (SELECT load_id FROM org_loads)"


def _literals(values: Iterable[str]) -> str:
    """Hex ids / ISO weeks as SQL literals (checked by the validator: no quote can occur)."""
    items = list(values)
    for value in items:
        if not value.replace("-", "").replace("W", "").isalnum():
            raise ValueError("not an id or a week")
    return ", ".join(f"'{v}'" for v in items) or "''"


# ---------------------------------------------------------------------- loading


def weekly_rows(
    load_id: str, report: Mapping[str, Any], sha256: str
) -> dict[str, list[tuple[Any, ...]]]:
    """The store rows of one validated weekly report, per table."""
    rid = report["report_id"]
    week = report["period"]["iso_week"]
    rows: dict[str, list[tuple[Any, ...]]] = {
        "org_weekly_reports": [
            (
                load_id,
                rid,
                report["contributor"],
                week,
                report["generator"],
                float(report["privacy"]["epsilon"]),
                int(report["privacy"]["min_contributors"]),
                sha256,
            )
        ],
        "org_weekly_tables": [],
        "org_weekly_cells": [],
        "org_weekly_catalog": [
            (load_id, rid, kind, value)
            for kind, values in sorted(report["catalog"].items())
            for value in values
        ],
    }
    for name in WEEKLY_TABLES:
        table = report["tables"][name]
        rows["org_weekly_tables"].append((load_id, rid, week, name, float(table["scale"])))
        for row in table["rows"]:
            *dims, count = row
            first = dims[0] if dims else ""
            second = dims[1] if len(dims) > 1 else ""
            rows["org_weekly_cells"].append((load_id, rid, week, name, first, second, int(count)))
    return rows


def weekly_conflicts(
    store: Store, reports: Sequence[tuple[str, Mapping[str, Any]]]
) -> dict[str, str]:
    """name -> why it is refused: a reused id, or a second report of a week by one contributor."""
    ids = [r["report_id"] for _, r in reports]
    contributors = sorted({r["contributor"] for _, r in reports})
    known_ids: set[str] = set()
    known_pairs: set[tuple[str, str]] = set()
    if store.has_schema():
        for i in range(0, len(ids), _LOOKUP_CHUNK):
            sql = (
                f"SELECT report_id FROM org_weekly_reports WHERE {VISIBLE} "
                f"AND report_id IN ({_literals(ids[i : i + _LOOKUP_CHUNK])})"
            )
            known_ids.update(str(r[0]) for r in store.query(sql))
        for i in range(0, len(contributors), _LOOKUP_CHUNK):
            sql = (
                f"SELECT contributor, iso_week FROM org_weekly_reports WHERE {VISIBLE} "
                f"AND contributor IN ({_literals(contributors[i : i + _LOOKUP_CHUNK])})"
            )
            known_pairs.update((str(c), str(w)) for c, w in store.query(sql))
    refused: dict[str, str] = {}
    seen_ids: dict[str, str] = {}
    seen_pairs: dict[tuple[str, str], str] = {}
    for name, report in reports:
        rid = report["report_id"]
        pair = (report["contributor"], report["period"]["iso_week"])
        if rid in known_ids:
            refused[name] = f"duplicate: report id {rid[:12]}… is already ingested"
        elif rid in seen_ids:
            refused[name] = f"duplicate: the same report id as {seen_ids[rid]:.200}"
        elif pair in known_pairs:
            refused[name] = (
                f"a second report for {pair[1]} from the same contributor: "
                "one report per person and week is ingested"
            )
        elif pair in seen_pairs:
            refused[name] = (
                f"a second report for {pair[1]} from the same contributor "
                f"as {seen_pairs[pair]:.200}"
            )
        else:
            seen_ids[rid] = name
            seen_pairs[pair] = name
    return refused


# -------------------------------------------------------------------- answering


@dataclass(frozen=True, slots=True)
class Estimate:
    """A noised sum with its 95 % interval."""

    value: int
    sd: float
    z: float

    @property
    def half(self) -> float:
        return self.z * self.sd

    @property
    def low(self) -> float:
        return self.value - self.half

    @property
    def high(self) -> float:
        return self.value + self.half

    @property
    def above_zero(self) -> bool:
        """Whether the whole interval is above 0."""
        return self.low > 0

    @property
    def zero(self) -> bool:
        """Whether the interval holds 0: the figure cannot be told apart from zero."""
        return self.low <= 0 <= self.high

    def to_json(self) -> dict[str, Any]:
        return {
            "estimate": self.value,
            "low": round(self.low, 1),
            "high": round(self.high, 1),
            "cannot_tell_from_zero": self.zero,
        }

    def text(self) -> str:
        span = f"95 % interval {self.low:.0f} to {self.high:.0f}"
        if self.zero:
            return f"cannot be told apart from zero (estimate {self.value}, {span})"
        return f"about {self.value} ({span})"


def _plus(items: Sequence[Estimate]) -> Estimate:
    return Estimate(
        sum(e.value for e in items),
        math.sqrt(sum(e.sd**2 for e in items)),
        items[0].z if items else Z95,
    )


def _ratio(num: Estimate, rest: Estimate | None, den: Estimate | None) -> dict[str, Any]:
    """num / (num + rest), or num / den, with a delta-method 95 % interval.

    The value is null when the base cannot be told apart from zero.
    """
    if rest is not None:
        base = Estimate(num.value + rest.value, math.sqrt(num.sd**2 + rest.sd**2), num.z)
    else:
        assert den is not None  # noqa: S101
        base = den
    out: dict[str, Any] = {"numerator": num.to_json(), "denominator": base.to_json(), "value": None}
    if base.low <= 0:
        out["why"] = "not enough data: the base cannot be told apart from zero"
        return out
    r = num.value / base.value
    if rest is not None:
        var = (rest.value**2 * num.sd**2 + num.value**2 * rest.sd**2) / base.value**4
    else:
        var = (num.sd**2 + r**2 * base.sd**2) / base.value**2
    half = num.z * math.sqrt(var)
    out.update(
        value=round(r, 4), low=round(max(0.0, r - half), 4), high=round(min(1.0, r + half), 4)
    )
    if r > 1 or r < 0:
        out["why"] = "the noised numerator is outside its base"
    return out


def _pct(rate: dict[str, Any]) -> str:
    if rate["value"] is None:
        return str(rate.get("why", "not enough data"))
    low, high = rate["low"] * 100, rate["high"] * 100
    return f"{rate['value'] * 100:.0f} % (95 % interval {low:.0f} to {high:.0f} %)"


def has_weekly_reports(store: Store) -> bool:
    """Whether the store holds any committed weekly report."""
    rows = store.query(f"SELECT COUNT(*) FROM org_weekly_reports WHERE {VISIBLE}")
    return bool(rows and rows[0][0])


def _all_weeks(store: Store) -> list[str]:
    rows = store.query(f"SELECT DISTINCT iso_week FROM org_weekly_reports WHERE {VISIBLE}")
    return sorted((str(r[0]) for r in rows), key=week_ordinal)


def _table_counts(
    store: Store, weeks: Sequence[str]
) -> dict[str, dict[str, list[tuple[float, int]]]]:
    """table -> week -> [(scale, reports)] over the weeks asked."""
    sql = (
        "SELECT iso_week, table_name, scale, COUNT(*) FROM org_weekly_tables "
        f"WHERE {VISIBLE} AND iso_week IN ({_literals(weeks)}) "
        "GROUP BY iso_week, table_name, scale"
    )
    out: dict[str, dict[str, list[tuple[float, int]]]] = defaultdict(lambda: defaultdict(list))
    for week, table, scale, n in store.query(sql):
        out[str(table)][str(week)].append((float(scale), int(n)))
    return out


def _published(store: Store) -> dict[str, list[tuple[str, dict[str, int]]]]:
    out: dict[str, list[tuple[str, dict[str, int]]]] = defaultdict(list)
    for table, counts, day in store.query(
        "SELECT table_name, week_counts, published_on FROM org_published"
    ):
        parsed = {}
        for part in str(counts).split(","):
            if ":" in part:
                week, n = part.split(":", 1)
                parsed[week] = int(n)
        out[str(table)].append((str(day), parsed))
    return out


def _isolated(now: Mapping[str, int], then: Mapping[str, int]) -> int:
    """Reports in one figure and not the other, week by week (reports are only ever added)."""
    return sum(abs(now.get(w, 0) - then.get(w, 0)) for w in set(now) | set(then))


def _judge(
    name: str,
    counts: Mapping[str, list[tuple[float, int]]],
    cells: Sequence[tuple[str, str, int]],
    published: Sequence[tuple[str, dict[str, int]]],
    k: int,
) -> tuple[dict[str, Any], dict[str, int], dict[tuple[str, str], Estimate] | None]:
    """One table's figure: shown (with estimates) or withheld, and why."""
    per_week = {w: sum(n for _, n in v) for w, v in counts.items()}
    reports = sum(per_week.values())
    contributors = max(per_week.values(), default=0)
    var = sum(variance(s) * n for v in counts.values() for s, n in v)
    entry: dict[str, Any] = {"contributors": contributors, "reports": reports, "cells": len(cells)}
    reason = None
    if contributors < k:
        reason = f"fewer than {k} contributors ({contributors})"
    else:
        for day, then in published:
            diff = _isolated(per_week, then)
            if 0 < diff < k:
                reason = (
                    f"held back: next to the figure published on {day} it would isolate "
                    f"{diff} contributor{'s' if diff != 1 else ''} (fewer than {k})"
                )
                break
    if reason is not None:
        entry.update(status="withheld", why=reason)
        return entry, per_week, None
    sd = math.sqrt(var)
    z = Z95 if reports >= NORMAL_FROM else CHEBYSHEV95
    estimates = {(a, b): Estimate(n, sd, z) for a, b, n in cells}
    entry.update(
        status="shown",
        interval="95 %",
        noise_sd=round(sd, 2),
        z=round(z, 3),
        estimates=[
            [a, b, e.value, round(e.low, 1), round(e.high, 1)] for (a, b), e in estimates.items()
        ],
    )
    return entry, per_week, estimates


def weekly_insights(
    store: Store,
    *,
    k: int = 5,
    weeks: Sequence[str] | None = None,
    publish: bool = True,
    today: str | None = None,
) -> dict[str, Any]:
    """The org answers over the weekly reports of `weeks` (all weeks by default)."""
    present = _all_weeks(store)
    chosen = [w for w in present if weeks is None or w in set(weeks)]
    kmax_rows = store.query(
        f"SELECT MAX(min_contributors), COUNT(*) FROM org_weekly_reports WHERE {VISIBLE} "
        f"AND iso_week IN ({_literals(chosen)})"
    )
    k_reports = int(kmax_rows[0][0] or 0) if kmax_rows else 0
    n_reports = int(kmax_rows[0][1] or 0) if kmax_rows else 0
    k_eff = max(k, k_reports)
    counts = _table_counts(store, chosen)
    published = _published(store)
    sums: dict[tuple[str, str, str], int] = {}
    if chosen:
        for table, a, b, n in store.query(
            "SELECT table_name, dim1, dim2, SUM(cell_count) FROM org_weekly_cells "
            f"WHERE {VISIBLE} AND iso_week IN ({_literals(chosen)}) "
            "GROUP BY table_name, dim1, dim2"
        ):
            sums[(str(table), str(a), str(b))] = int(n or 0)
    cells_of: dict[str, list[tuple[str, str, int]]] = defaultdict(list)
    for (table, a, b), n in sorted(sums.items()):
        cells_of[table].append((a, b, n))
    tables: dict[str, Any] = {}
    estimates: dict[str, dict[tuple[str, str], Estimate]] = {}
    to_publish: list[tuple[str, dict[str, int]]] = []
    for name in WEEKLY_TABLES:
        entry, per_week, est = _judge(
            name, counts.get(name, {}), cells_of.get(name, []), published.get(name, []), k_eff
        )
        tables[name] = entry
        if est is not None:
            estimates[name] = est
            if not any(then == per_week for _, then in published.get(name, [])):
                to_publish.append((name, per_week))
    held_cells = sum(t["cells"] for t in tables.values() if t["status"] != "shown")
    if publish and to_publish:
        day = today or datetime.now(UTC).date().isoformat()
        store.insert(
            "org_published",
            [
                (
                    uuid.uuid4().hex,
                    day,
                    name,
                    ",".join(sorted(per_week, key=week_ordinal)),
                    ",".join(f"{w}:{n}" for w, n in sorted(per_week.items())),
                )
                for name, per_week in to_publish
            ],
        )
    security = sorted(
        str(r[0])
        for r in store.query(
            f"SELECT DISTINCT value FROM org_weekly_catalog WHERE {VISIBLE} "
            "AND kind = 'security_agents'"
        )
    )
    legacy = int(store.query(f"SELECT COUNT(*) FROM org_reports WHERE {VISIBLE}")[0][0] or 0)
    answers = _answers(estimates, tables, frozenset(security))
    return {
        "org_version": ORG_WEEKLY_VERSION,
        "share_format": "2",
        "weeks": chosen,
        "reports": n_reports,
        "k": k_eff,
        "interval": "95 %",
        "held_back": {
            "cells": held_cells,
            "tables": {n: t["why"] for n, t in tables.items() if t["status"] != "shown"},
        },
        "legacy_reports": {
            "count": legacy,
            "counted": False,
            "why": "share format 1 reports dropped small cells per report and their epsilon was "
            "per event, so their counts would bias these sums",
        },
        **answers,
        "tables": tables,
    }


def per_week(store: Store, *, k: int = 5) -> list[dict[str, Any]]:
    """The headline of each week on its own: contributors, and each answer or why it is withheld.

    Each week is answered like any span (thresholds and difference checks
    included, and recorded as published), so a dashboard can show the
    answers week by week with the contributors behind each figure.
    """
    out = []
    for week in _all_weeks(store):
        data = weekly_insights(store, k=k, weeks=[week])
        tables = data["tables"]
        out.append(
            {
                "week": week,
                "contributors": max((t["contributors"] for t in tables.values()), default=0),
                "k": data["k"],
                "withheld": data["held_back"]["tables"],
                **{key: data[key]["answer"] for key in ("roles", "commands", "security")},
                "handoffs": data["handoffs"]["answer"],
                "completion": data["completion"]["answer"],
            }
        )
    return out


# --------------------------------------------------------------------- answers

Estimates = Mapping[str, Mapping[tuple[str, str], Estimate]]


def _withheld(tables: Mapping[str, Any], *names: str) -> str | None:
    for name in names:
        if tables[name]["status"] != "shown":
            return f"Withheld: {tables[name]['why']} in {name}."
    return None


def _ranked(items: Iterable[tuple[str, Estimate]]) -> list[tuple[str, Estimate]]:
    return sorted(items, key=lambda kv: (-kv[1].value, kv[0]))


def _roles_answer(est: Estimates, tables: Mapping[str, Any]) -> dict[str, Any]:
    """Question 1: the role selected most at init, and whether it is clearly ahead."""
    why = _withheld(tables, "roles_selected_at_init")
    if why:
        return {"answer": why, "at_init": [], "leader": None, "clearly_ahead": False}
    cells = _ranked((a, e) for (a, _), e in est["roles_selected_at_init"].items())
    at_init = [{"role": role, **e.to_json()} for role, e in cells]
    if not cells or not cells[0][1].above_zero:
        return {
            "answer": "No role selection at init can be told apart from zero yet.",
            "at_init": at_init,
            "leader": None,
            "clearly_ahead": False,
        }
    role, top = cells[0]
    clear = True
    answer = f"{role} is selected most at init: {top.text()}"
    if len(cells) > 1:
        other, second = cells[1]
        gap = top.value - second.value
        clear = gap - top.z * math.sqrt(top.sd**2 + second.sd**2) > 0
        if not clear:
            answer += f"; it cannot be told apart from {other} ({second.text()})"
    return {"answer": answer + ".", "at_init": at_init, "leader": role, "clearly_ahead": clear}


def _commands_answer(est: Estimates, tables: Mapping[str, Any]) -> dict[str, Any]:
    """Question 2: the top 5 commands started, overall and per role."""
    why = _withheld(tables, "commands_started")
    if why:
        return {"answer": why, "top": [], "per_role": {}}
    by_cmd: dict[str, list[Estimate]] = defaultdict(list)
    by_role: dict[str, list[tuple[str, Estimate]]] = defaultdict(list)
    for (role, cmd), e in est["commands_started"].items():
        by_cmd[cmd].append(e)
        by_role[role].append((cmd, e))
    shown = [(c, e) for c, e in _ranked((c, _plus(v)) for c, v in by_cmd.items()) if e.above_zero]
    per_role = {
        role: [{"command": c, **e.to_json()} for c, e in _ranked(v) if e.above_zero][:5]
        for role, v in sorted(by_role.items())
    }
    answer = (
        "Top commands (started; only counts clearly above zero): "
        + "; ".join(f"{c} {e.text()}" for c, e in shown[:5])
        + "."
        if shown
        else "No command count is clearly above zero yet."
    )
    top = [{"command": c, **e.to_json()} for c, e in shown[:5]]
    return {"answer": answer, "top": top, "per_role": per_role}


def _security_answer(
    est: Estimates, tables: Mapping[str, Any], security: frozenset[str]
) -> dict[str, Any]:
    """Question 3: the share of each role's agent invocations that go to security agents."""
    why = _withheld(tables, "agent_invocations")
    if why:
        return {"answer": why, "per_role": {}, "developer": None}
    cells = est["agent_invocations"]
    shares: dict[str, Any] = {}
    for role in sorted({r for r, _ in cells}):
        sec = [e for (r, agent), e in cells.items() if r == role and agent in security]
        rest = [e for (r, agent), e in cells.items() if r == role and agent not in security]
        if sec and rest:
            shares[role] = _ratio(_plus(sec), _plus(rest), None)
    dev = shares.get("dev")
    if dev is None:
        answer = "The reports have no developer agent invocations to compare."
    elif dev["value"] is None:
        answer = f"Security agents among developer agent invocations: {_pct(dev)}."
    else:
        answer = f"Of developer agent invocations, {_pct(dev)} are security agents."
    return {"answer": answer, "per_role": shares, "developer": dev}


def _handoffs_answer(est: Estimates, tables: Mapping[str, Any]) -> dict[str, Any]:
    """Question 4: handoffs clicked / offered."""
    why = _withheld(tables, "handoffs_offered", "handoffs_clicked")
    if why:
        return {"answer": why, "offered": None, "clicked": None, "click_through": None}
    offered = _plus(list(est["handoffs_offered"].values()))
    clicked = _plus(list(est["handoffs_clicked"].values()))
    rate = _ratio(clicked, None, offered)
    return {
        "answer": f"Handoffs offered: {offered.text()}; clicked: {clicked.text()}; "
        f"click-through {_pct(rate)}.",
        "offered": offered.to_json(),
        "clicked": clicked.to_json(),
        "click_through": rate,
    }


def _completion_answer(est: Estimates, tables: Mapping[str, Any]) -> dict[str, Any]:
    """Question 5: completed / started per command."""
    why = _withheld(tables, "commands_started", "commands_completed")
    if why:
        return {"answer": why, "commands": []}
    started: dict[str, list[Estimate]] = defaultdict(list)
    done: dict[str, list[Estimate]] = defaultdict(list)
    for (_, cmd), e in est["commands_started"].items():
        started[cmd].append(e)
    for (_, cmd), e in est["commands_completed"].items():
        done[cmd].append(e)
    rows: list[dict[str, Any]] = []
    for cmd in sorted(started):
        completed = _plus(done[cmd]) if done.get(cmd) else Estimate(0, 0.0, Z95)
        rows.append(
            {"command": cmd, "completion_rate": _ratio(completed, None, _plus(started[cmd]))}
        )
    shown = [r for r in rows if r["completion_rate"]["value"] is not None]
    answer = (
        "Completion (completed / started): "
        + "; ".join(f"{r['command']} {_pct(r['completion_rate'])}" for r in shown)
        + "."
        if shown
        else "No command has a started count clearly above zero yet."
    )
    return {"answer": answer, "commands": rows}


def _answers(est: Estimates, tables: Mapping[str, Any], security: frozenset[str]) -> dict[str, Any]:
    return {
        "roles": _roles_answer(est, tables),
        "commands": _commands_answer(est, tables),
        "security": _security_answer(est, tables, security),
        "handoffs": _handoffs_answer(est, tables),
        "completion": _completion_answer(est, tables),
    }
