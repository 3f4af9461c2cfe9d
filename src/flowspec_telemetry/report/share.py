"""The share report: aggregate counts meant to leave the machine, defined once.

This module is the one definition of the share report's schema (version
`SHARE_SCHEMA_VERSION`): `build_share_report` makes it and
`validate_share_report` checks one (an org-level ingest uses the same
function). A share report holds only:

- counts per **catalog value** (roles, commands, agents of the project's role
  catalog); hashed, free or missing values are dropped, never counted;
- the period as dates (`YYYY-MM-DD`), and the day it was made: nothing finer;
- no ids (event, session, invocation, project), no hashes, no totals.

Every event is counted in at most one cell of the whole report (the tables
partition disjoint sets of events), and no total or marginal is published,
so a suppressed cell cannot be recovered by subtracting published cells from
a total. A table lists every cell of its catalog domain (roles x commands,
...), data or not; a cell whose count is below `k` is left out and counted
in `suppressed_cells`, so a left-out cell may be 0 or anything below k.

With `epsilon`, each cell of every domain (zeros included, so which cells
exist does not depend on the data) gets two-sided geometric noise before the
k threshold is applied. Since one event changes one cell by one, the L1
sensitivity is 1 and the report is epsilon-differentially private per event
(see the README for what that means for a person).
"""

from __future__ import annotations

import math
import random
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from itertools import product
from pathlib import Path
from typing import Any, Final

from flowspec_telemetry._version import __version__
from flowspec_telemetry.analysis.question_roles import question_roles
from flowspec_telemetry.core.names import FLOWSPEC, ToolNames
from flowspec_telemetry.core.roles import Catalog, load_catalog
from flowspec_telemetry.core.store import ReadStats
from flowspec_telemetry.history.reader import Window, iter_events
from flowspec_telemetry.report import _noise as noise

__all__ = [
    "DEFAULT_K",
    "DIMENSION_KIND",
    "MAX_CATALOG",
    "SENSITIVITY",
    "SHARE_SCHEMA_VERSION",
    "TABLES",
    "build_share_report",
    "catalog_lists",
    "check_catalog",
    "count_events",
    "domain",
    "project_share_report",
    "validate_share_report",
    "window_days",
]

SHARE_SCHEMA_VERSION: Final = "1"
DEFAULT_K: Final = 5
SENSITIVITY: Final = 1
MAX_CATALOG: Final = 256
# Bounds on every number a share report carries (issue 13.7). A report outside
# them is refused on its own at ingest (the others still load), and the tool
# never writes one. With at most `MAX_CELL_COUNT` per cell and at most
# `org.ingest.MAX_REPORTS` reports in a store, no sum over a cell can pass
# 2**63 - 1: ClickHouse's Int64 sums cannot wrap.
MAX_K: Final = 1_000_000
MAX_CELL_COUNT: Final = 2**31 - 1  # 2.1 billion events of one kind: far beyond any person

# table name -> its dimensions; each dimension draws its values from a catalog list
TABLES: Final[Mapping[str, tuple[str, ...]]] = {
    "roles_selected_at_init": ("role",),
    "roles_selected_later": ("role",),
    "role_changes": ("from_role", "to_role"),
    "commands_started": ("role", "command"),
    "commands_completed": ("role", "command"),
    "commands_failed": ("role", "command"),
    "agent_invocations": ("role", "agent"),
    "handoffs_offered": ("from_agent", "to_agent"),
    "handoffs_clicked": ("from_agent", "to_agent"),
}
DIMENSION_KIND: Final[Mapping[str, str]] = {
    "role": "roles",
    "from_role": "roles",
    "to_role": "roles",
    "command": "commands",
    "agent": "agents",
    "from_agent": "agents",
    "to_agent": "agents",
}
_PATTERNS: Final[Mapping[str, re.Pattern[str]]] = {
    "roles": re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"),
    "agents": re.compile(r"^@[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"),
    "commands": re.compile(r"^/[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"),
}
_DATE: Final = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TOP_KEYS: Final = frozenset(
    {"share_schema_version", "generator", "generated_on", "period", "privacy", "catalog", "tables"}
)
_PRIVACY_KEYS: Final = frozenset(
    {"k", "epsilon", "mechanism", "sensitivity", "unit", "suppressed_cells"}
)
_CATALOG_KEYS: Final = frozenset({"roles", "commands", "agents", "security_agents"})
_GENERATOR: Final = re.compile(r"^flowspec-telemetry [0-9A-Za-z.+-]{1,32}$")


# ------------------------------------------------------------------- counting


def catalog_lists(catalog: Catalog, names: ToolNames = FLOWSPEC) -> dict[str, list[str]]:
    """The catalog values a report may name: only those that fit the schema's patterns."""
    lists = {
        "roles": sorted(catalog.known_roles),
        "commands": sorted(catalog.known_commands),
        "agents": sorted(catalog.known_agents),
    }
    lists = {kind: [v for v in vals if _PATTERNS[kind].match(v)] for kind, vals in lists.items()}
    security = question_roles(catalog, names).security_agents
    lists["security_agents"] = sorted(security & set(lists["agents"]))
    return {kind: vals[:MAX_CATALOG] for kind, vals in lists.items()}


def count_events(
    events: Iterable[dict[str, Any]], lists: Mapping[str, list[str]]
) -> tuple[dict[str, Counter[tuple[str, ...]]], str | None, str | None]:
    """Cells per table (catalog values only), and the first and last day seen."""
    roles, commands, agents = (frozenset(lists[k]) for k in ("roles", "commands", "agents"))
    cells: dict[str, Counter[tuple[str, ...]]] = {name: Counter() for name in TABLES}
    first: str | None = None
    last: str | None = None
    for event in events:
        ts = event.get("timestamp")
        if isinstance(ts, str) and _DATE.match(ts[:10]):
            day = ts[:10]
            first = day if first is None or day < first else first
            last = day if last is None or day > last else last
        etype = event.get("event_type")
        role = event.get("role")
        if etype == "role.selected" and role in roles:
            source = event.get("source")
            table = "roles_selected_at_init" if source == "init" else "roles_selected_later"
            cells[table][(role,)] += 1
        elif etype == "role.changed":
            previous = event.get("previous_role")
            if role in roles and previous in roles:
                cells["role_changes"][(previous, role)] += 1
        elif etype in ("command.started", "command.completed", "command.failed"):
            if event.get("legacy_type") is not None:
                continue  # a run without a recorded end (flowspec's earlier API): no rate
            command = event.get("command")
            if role in roles and command in commands:
                cells["commands_" + etype.split(".")[1]][(role, command)] += 1
        elif etype == "agent.invoked":
            agent = event.get("agent")
            if role in roles and agent in agents:
                cells["agent_invocations"][(role, agent)] += 1
        elif etype in ("handoff.offered", "handoff.clicked"):
            handoff = event.get("handoff")
            if isinstance(handoff, dict):
                pair = (handoff.get("from_agent"), handoff.get("to_agent"))
                if pair[0] in agents and pair[1] in agents:
                    cells["handoffs_" + etype.split(".")[1]][pair] += 1  # type: ignore[index]
    return cells, first, last


def domain(table: str, lists: Mapping[str, list[str]]) -> Iterable[tuple[str, ...]]:
    return product(*(lists[DIMENSION_KIND[d]] for d in TABLES[table]))


def build_share_report(
    cells: Mapping[str, Mapping[tuple[str, ...], int]],
    lists: Mapping[str, list[str]],
    *,
    period: tuple[str | None, str | None],
    k: int = DEFAULT_K,
    epsilon: float | None = None,
    rng: random.Random | None = None,
    today: date | None = None,
) -> dict[str, Any]:
    """The share report of counted cells: noise (with `epsilon`), then k suppression."""
    if not 1 <= k <= MAX_K:
        raise ValueError(f"k must be from 1 to {MAX_K:,}")
    if epsilon is not None:
        noise.alpha(epsilon, SENSITIVITY)  # validates
        rng = rng if rng is not None else random.SystemRandom()
    tables: dict[str, Any] = {}
    suppressed_total = 0
    for name, dims in TABLES.items():
        counts = cells.get(name, {})
        rows: list[list[Any]] = []
        suppressed = 0
        for key in domain(name, lists):
            value = counts.get(key, 0)
            if epsilon is not None:
                value += noise.two_sided_geometric(epsilon, SENSITIVITY, rng)
            if value < k:
                suppressed += 1
            else:
                rows.append([*key, value])
        rows.sort(key=lambda r: (-r[-1], r[:-1]))
        tables[name] = {"dimensions": list(dims), "rows": rows, "suppressed_cells": suppressed}
        suppressed_total += suppressed
    return {
        "share_schema_version": SHARE_SCHEMA_VERSION,
        "generator": f"flowspec-telemetry {__version__}",
        "generated_on": (today or datetime.now(UTC).date()).isoformat(),
        "period": {"start": period[0], "end": period[1]},
        "privacy": {
            "k": k,
            "epsilon": epsilon,
            "mechanism": noise.MECHANISM if epsilon is not None else "none",
            "sensitivity": SENSITIVITY,
            "unit": "event",
            "suppressed_cells": suppressed_total,
        },
        "catalog": {kind: list(vals) for kind, vals in lists.items()},
        "tables": tables,
    }


def window_days(since: str | None, until: str | None) -> tuple[str | None, str | None]:
    """A `[since, until)` timestamp window as the first and last day it covers."""
    start = since[:10] if since else None
    end = None
    if until:
        moment = datetime.fromisoformat(until.replace("Z", "+00:00"))
        end = (moment - timedelta(milliseconds=1)).date().isoformat()
    return start, end


def project_share_report(
    root: Path,
    names: ToolNames = FLOWSPEC,
    *,
    since: str | None = None,
    until: str | None = None,
    k: int = DEFAULT_K,
    epsilon: float | None = None,
    rng: random.Random | None = None,
) -> dict[str, Any]:
    """The share report of the project at `root` (archives included), within the window."""
    lists = catalog_lists(load_catalog(root, names), names)
    events = iter_events(root, names, ReadStats(), Window(since, until))
    cells, first, last = count_events(events, lists)
    lo, hi = window_days(since, until)
    return build_share_report(
        cells, lists, period=(lo or first, hi or last), k=k, epsilon=epsilon, rng=rng
    )


# ----------------------------------------------------------------- validation


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_date(value: Any, where: str, errors: list[str], *, nullable: bool = False) -> None:
    if value is None and nullable:
        return
    if not isinstance(value, str) or not _DATE.match(value):
        errors.append(f"{where} must be a date YYYY-MM-DD")
        return
    try:
        date.fromisoformat(value)
    except ValueError:
        errors.append(f"{where} is not a real date")


def _check_keys(data: Mapping[str, Any], allowed: frozenset[str], where: str) -> list[str]:
    errors = [
        f"{where}: unexpected key {k!r:.40}" for k in sorted(map(str, data)) if k not in allowed
    ]
    errors += [f"{where}: missing key {k!r}" for k in sorted(allowed) if k not in data]
    return errors


def check_catalog(catalog: Any, errors: list[str]) -> dict[str, frozenset[str]]:
    found: dict[str, frozenset[str]] = {k: frozenset() for k in _CATALOG_KEYS}
    if not isinstance(catalog, dict):
        errors.append("catalog must be an object")
        return found
    errors += _check_keys(catalog, _CATALOG_KEYS, "catalog")
    for kind in sorted(_CATALOG_KEYS & set(catalog)):
        values = catalog[kind]
        pattern = _PATTERNS["agents" if kind == "security_agents" else kind]
        if not isinstance(values, list) or len(values) > MAX_CATALOG:
            errors.append(f"catalog.{kind} must be a list of at most {MAX_CATALOG} names")
            continue
        if not all(isinstance(v, str) and pattern.match(v) for v in values):
            errors.append(f"catalog.{kind} holds a value that is not a catalog name")
            continue
        if len(set(values)) != len(values):
            errors.append(f"catalog.{kind} repeats a name")
        found[kind] = frozenset(values)
    if not found["security_agents"] <= found["agents"]:
        errors.append("catalog.security_agents names an agent missing from catalog.agents")
    return found


def _check_table(
    name: str, table: Any, k: int, catalog: Mapping[str, frozenset[str]], errors: list[str]
) -> int:
    """Errors of one table; returns its suppressed cell count (0 when invalid)."""
    where = f"tables.{name}"
    if not isinstance(table, dict):
        errors.append(f"{where} must be an object")
        return 0
    bad = _check_keys(table, frozenset({"dimensions", "rows", "suppressed_cells"}), where)
    if bad:
        errors += bad
        return 0
    dims = TABLES[name]
    if table["dimensions"] != list(dims):
        errors.append(f"{where}.dimensions must be {list(dims)}")
        return 0
    domain = math.prod(len(catalog[DIMENSION_KIND[d]]) for d in dims)
    rows = table["rows"]
    if not isinstance(rows, list):
        errors.append(f"{where}.rows must be a list")
        return 0
    seen: set[tuple[str, ...]] = set()
    for i, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != len(dims) + 1:
            errors.append(f"{where}.rows[{i}] must be [{', '.join(dims)}, count]")
            continue
        *key, count = row
        for dim, value in zip(dims, key, strict=True):
            if not isinstance(value, str) or value not in catalog[DIMENSION_KIND[dim]]:
                errors.append(f"{where}.rows[{i}]: {dim} is not a value of the report's catalog")
        if not _is_int(count) or not k <= count <= MAX_CELL_COUNT:
            errors.append(
                f"{where}.rows[{i}]: the count must be an integer of at least k ({k}) "
                f"and at most {MAX_CELL_COUNT:,}"
            )
        if tuple(map(str, key)) in seen:
            errors.append(f"{where}.rows[{i}] repeats a cell")
        seen.add(tuple(map(str, key)))
    suppressed = table["suppressed_cells"]
    if not _is_int(suppressed) or suppressed < 0:
        errors.append(f"{where}.suppressed_cells must be a non-negative integer")
        return 0
    if len(rows) + suppressed != domain:
        errors.append(
            f"{where}: rows plus suppressed cells ({len(rows)} + {suppressed}) must equal "
            f"the catalog domain ({domain})"
        )
    return int(suppressed)


def validate_share_report(data: Any) -> list[str]:
    """Every reason `data` is not a valid share report (empty when it is one).

    Rejects anything beyond aggregate counts per catalog value: unknown keys,
    hashes or free values, ids, timestamps finer than a day, counts below k,
    and tables that do not account for every cell of their catalog domain.
    """
    if not isinstance(data, dict):
        return ["a share report must be a JSON object"]
    errors = _check_keys(data, _TOP_KEYS, "report")
    if data.get("share_schema_version") != SHARE_SCHEMA_VERSION:
        errors.append(f"share_schema_version must be {SHARE_SCHEMA_VERSION!r}")
        return errors
    generator = data.get("generator")
    if not isinstance(generator, str) or not _GENERATOR.match(generator):
        errors.append("generator must be 'flowspec-telemetry VERSION'")
    _check_date(data.get("generated_on"), "generated_on", errors)
    period = data.get("period")
    if isinstance(period, dict) and not _check_keys(period, frozenset({"start", "end"}), "period"):
        _check_date(period["start"], "period.start", errors, nullable=True)
        _check_date(period["end"], "period.end", errors, nullable=True)
        start, end = period["start"], period["end"]
        if isinstance(start, str) and isinstance(end, str) and end < start:
            errors.append("period.end is before period.start")
    else:
        errors.append("period must be an object with exactly start and end")
    privacy = data.get("privacy")
    k = DEFAULT_K
    if isinstance(privacy, dict) and not _check_keys(privacy, _PRIVACY_KEYS, "privacy"):
        k_ok = _is_int(privacy["k"]) and 1 <= privacy["k"] <= MAX_K
        k = privacy["k"] if k_ok else k
        if not k_ok:
            errors.append(f"privacy.k must be an integer from 1 to {MAX_K:,}")
        eps = privacy["epsilon"]
        if eps is None:
            if privacy["mechanism"] != "none":
                errors.append("privacy.mechanism must be 'none' without epsilon")
        elif (
            isinstance(eps, bool)
            or not isinstance(eps, int | float)
            or noise.epsilon_problem(eps) is not None
        ):
            errors.append(
                f"privacy.epsilon must be null or a number from {noise.EPSILON_MIN:g} "
                f"to {noise.EPSILON_MAX:g}"
            )
        elif privacy["mechanism"] != noise.MECHANISM:
            errors.append(f"privacy.mechanism must be {noise.MECHANISM!r} with epsilon")
        if privacy["sensitivity"] != SENSITIVITY or privacy["unit"] != "event":
            errors.append(f"privacy.sensitivity must be {SENSITIVITY} and privacy.unit 'event'")
    else:
        errors.append("privacy must be an object with " + ", ".join(sorted(_PRIVACY_KEYS)))
        privacy = None
    catalog = check_catalog(data.get("catalog"), errors)
    tables = data.get("tables")
    if not isinstance(tables, dict):
        errors.append("tables must be an object")
        return errors
    errors += _check_keys(tables, frozenset(TABLES), "tables")
    suppressed = sum(
        _check_table(name, tables[name], k, catalog, errors) for name in TABLES if name in tables
    )
    if privacy is not None and privacy["suppressed_cells"] != suppressed:
        errors.append("privacy.suppressed_cells must be the sum of the tables' suppressed cells")
    return errors


# Older names, kept for callers written before format 2 shared these helpers.
_catalog_lists = catalog_lists
_domain = domain
_check_catalog = check_catalog
