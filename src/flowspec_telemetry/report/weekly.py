"""The weekly share report (format 2): one ISO week, the person as the unit of privacy.

This module is the one definition of share format "2": `build_weekly_report`
makes a report and `validate_weekly_report` checks one (`org ingest` uses the
same function). What makes it hold when a person shares every week:

- **A fixed period.** A report covers exactly one ISO week (Monday to Sunday,
  UTC) that is over, and only events recorded after the person agreed to
  share. The period printed is the week asked for, never derived from the
  events, and no time finer than the week is in the report.
- **The person is the unit.** Before noise, each table bounds what one person
  can add in a week (`BOUNDS`): at most `max_per_cell` per cell and at most
  `max_cells` non-zero cells (the largest ones). So adding or removing a
  person changes a table by at most max_per_cell x max_cells in L1 norm, and
  discrete Laplace noise of scale (max_per_cell x max_cells) / epsilon_t in
  every cell gives epsilon_t-differential privacy for the person's week; the
  tables' epsilons add up to the report's `epsilon` (basic composition).
- **Every cell, zeros included, noised, never suppressed.** Dropping small
  noised cells would keep only positive noise and bias every sum; instead
  the org sums all cells and applies its threshold (in contributors) after.
  Counts may therefore be negative.
- **Consistent noise.** A cell's noise is drawn from a stream seeded by
  HMAC-SHA256(project salt, week, table, cell), so making the report of a
  week again gives the same numbers and averaging copies learns nothing.
- **Identity by id.** `report_id` and `contributor` are keyed hashes of the
  week under the project's secret salt, with different labels: they look
  random, cannot be linked to the project or to another week without the
  salt, and a re-made report carries the same id (so `org ingest` refuses a
  second copy by id, and a second report of the same week by contributor).
"""

from __future__ import annotations

import hmac
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from itertools import product
from typing import Any, Final

from flowspec_telemetry._version import __version__
from flowspec_telemetry.core.errors import TelemetryError
from flowspec_telemetry.report import _dlaplace
from flowspec_telemetry.report.share import DIMENSION_KIND, check_catalog

__all__ = [
    "BOUNDS",
    "DEFAULT_EPSILON",
    "DEFAULT_MIN_CONTRIBUTORS",
    "MECHANISM",
    "SHARE_FORMAT",
    "UNIT",
    "WEEKLY_TABLES",
    "Bound",
    "WeekError",
    "bound_cells",
    "build_weekly_report",
    "parse_week",
    "table_scale",
    "tail_bound",
    "validate_weekly_report",
    "week_of",
    "week_ordinal",
]

SHARE_FORMAT: Final = "2"
MECHANISM: Final = "discrete-laplace"
UNIT: Final = "person-week"
DEFAULT_EPSILON: Final = Fraction(4)
EPSILON_MIN: Final = Fraction(1, 10)
EPSILON_MAX: Final = Fraction(10)
DEFAULT_MIN_CONTRIBUTORS: Final = 5
MIN_CONTRIBUTORS_RANGE: Final = (2, 1000)
SHARES: Final = 32  # each table gets share/32 of the report's epsilon
TAIL: Final = 50  # |noise| > 50 x scale has probability below 1e-21: refused as forged
MAX_REPORT_BYTES: Final = 8 * 1024 * 1024

_WEEK: Final = re.compile(r"^(\d{4})-W(\d{2})$")
_HEX32: Final = re.compile(r"^[0-9a-f]{32}$")
_GENERATOR: Final = re.compile(r"^flowspec-telemetry [0-9A-Za-z.+-]{1,32}$")
_TOP_KEYS: Final = frozenset(
    {"share_schema_version", "generator", "report_id", "contributor", "period", "privacy"}
    | {"catalog", "tables"}
)
_PRIVACY_KEYS: Final = frozenset({"unit", "mechanism", "epsilon", "min_contributors"})
_TABLE_KEYS: Final = frozenset(
    {"dimensions", "max_per_cell", "max_cells", "epsilon", "scale", "rows"}
)


# table -> its dimensions. As in format 1, except that handoffs are two
# one-cell totals: summed over 169 agent pairs, the noise of every pair would
# drown the click-through, the one figure question 4 asks for.
WEEKLY_TABLES: Final[Mapping[str, tuple[str, ...]]] = {
    "roles_selected_at_init": ("role",),
    "roles_selected_later": ("role",),
    "role_changes": ("from_role", "to_role"),
    "commands_started": ("role", "command"),
    "commands_completed": ("role", "command"),
    "commands_failed": ("role", "command"),
    "agent_invocations": ("role", "agent"),
    "handoffs_offered": (),
    "handoffs_clicked": (),
}


def domain(table: str, lists: Mapping[str, list[str]]) -> Iterable[tuple[str, ...]]:
    """Every cell of a table, in order: the product of its dimensions' catalog lists."""
    return product(*(lists[DIMENSION_KIND[d]] for d in WEEKLY_TABLES[table]))


def weekly_cells(
    cells: Mapping[str, Mapping[tuple[str, ...], int]],
) -> dict[str, Counter[tuple[str, ...]]]:
    """Format-1 cells (`share.count_events`) in the shape of the weekly tables."""
    out: dict[str, Counter[tuple[str, ...]]] = {name: Counter() for name in WEEKLY_TABLES}
    for name, counts in cells.items():
        if name not in out:
            continue
        for key, n in counts.items():
            out[name][key if WEEKLY_TABLES[name] else ()] += n
    return out


@dataclass(frozen=True, slots=True)
class Bound:
    """What one person may add to a table in one week, and the table's share of epsilon."""

    max_per_cell: int
    max_cells: int
    share: int

    @property
    def sensitivity(self) -> int:
        """The L1 sensitivity of the bounded table: one person changes it by at most this."""
        return self.max_per_cell * self.max_cells


# Chosen so the five answers stay useful for an org of a few hundred people:
# a person selects a role at init about once, so that table gets half of the
# epsilon (question 1); commands get the next largest shares (questions 2, 5).
BOUNDS: Final[Mapping[str, Bound]] = {
    "roles_selected_at_init": Bound(1, 1, 16),
    "roles_selected_later": Bound(1, 1, 1),
    "role_changes": Bound(1, 1, 1),
    "commands_started": Bound(3, 3, 5),
    "commands_completed": Bound(3, 3, 3),
    "commands_failed": Bound(1, 2, 1),
    "agent_invocations": Bound(3, 2, 3),
    "handoffs_offered": Bound(5, 1, 1),
    "handoffs_clicked": Bound(5, 1, 1),
}
assert sum(b.share for b in BOUNDS.values()) == SHARES  # noqa: S101 - a constant's invariant
assert set(BOUNDS) == set(WEEKLY_TABLES)  # noqa: S101


class WeekError(TelemetryError, ValueError):
    """A period that is not an ISO week (`YYYY-Www`), or one that cannot be shared."""


# ------------------------------------------------------------------ ISO weeks


def parse_week(text: str) -> tuple[date, date]:
    """The Monday and Sunday of ISO week `YYYY-Www`; raises WeekError."""
    match = _WEEK.match(text) if isinstance(text, str) else None
    if match is None:
        raise WeekError(
            f"{str(text)[:20]!r} is not an ISO week: write it as YYYY-Www, e.g. 2026-W48"
        )
    year, week = int(match[1]), int(match[2])
    try:
        monday = date.fromisocalendar(year, week, 1)
    except ValueError:
        raise WeekError(f"{text} is not an ISO week: {year} has no week {week}") from None
    return monday, monday + timedelta(days=6)


def week_of(day: date) -> str:
    """The ISO week a day belongs to, as `YYYY-Www`."""
    year, week, _ = day.isocalendar()
    return f"{year:04d}-W{week:02d}"


def week_ordinal(text: str) -> int:
    """A number that counts weeks (consecutive weeks differ by one)."""
    monday, _ = parse_week(text)
    return monday.toordinal() // 7


def last_finished_week(now: datetime | None = None) -> str:
    """The most recent ISO week that is over (UTC)."""
    today = (now or datetime.now(UTC)).date()
    return week_of(today - timedelta(days=7))


# ---------------------------------------------------------------- the numbers


def epsilon_value(value: float | str | Fraction) -> Fraction:
    """A report's epsilon as an exact fraction: 0.1 to 10, at most three decimals."""
    if isinstance(value, bool):
        raise ValueError("epsilon must be a number")
    if isinstance(value, Fraction):
        exact = value
    else:
        try:
            exact = Fraction(repr(value) if isinstance(value, float) else str(value))
        except (ValueError, ZeroDivisionError):
            raise ValueError("epsilon must be a number") from None
    if exact * 1000 != int(exact * 1000):
        raise ValueError("epsilon must have at most three decimals")
    if not EPSILON_MIN <= exact <= EPSILON_MAX:
        raise ValueError(
            f"epsilon must be between {float(EPSILON_MIN):g} and {float(EPSILON_MAX):g}"
        )
    return exact


def table_epsilon(table: str, epsilon: Fraction) -> Fraction:
    return epsilon * BOUNDS[table].share / SHARES


def table_scale(table: str, epsilon: Fraction) -> Fraction:
    """The noise scale of a table: its sensitivity over its epsilon."""
    return BOUNDS[table].sensitivity / table_epsilon(table, epsilon)


def tail_bound(table: str, scale: float) -> int:
    """The largest |noise| a valid report can carry (probability of more: below 1e-21)."""
    return math.ceil(TAIL * scale)


def bound_cells(counts: Mapping[tuple[str, ...], int], bound: Bound) -> dict[tuple[str, ...], int]:
    """One person's week of a table, bounded: each cell at most C, at most P non-zero cells.

    The P kept are the largest (ties: the first in cell order), so the bound
    costs as little of the answers as it can.
    """
    clamped = sorted(
        ((key, min(int(n), bound.max_per_cell)) for key, n in counts.items() if n > 0),
        key=lambda item: (-item[1], item[0]),
    )
    return dict(clamped[: bound.max_cells])


def _keyed(salt: bytes, label: str, *parts: str) -> bytes:
    message = "\x00".join(("flowspec-telemetry/share/2", label, *parts)).encode("utf-8")
    return hmac.digest(salt, message, "sha256")


def report_ids(salt: bytes, week: str) -> tuple[str, str]:
    """(report_id, contributor) of a week: keyed hashes, unlinkable without the salt."""
    return _keyed(salt, "report-id", week)[:16].hex(), _keyed(salt, "contributor", week)[:16].hex()


def cell_noise(salt: bytes, week: str, table: str, key: tuple[str, ...], scale: Fraction) -> int:
    """The noise of one cell: the same for the same (salt, week, cell) every time."""
    seed = _keyed(salt, "noise", week, table, *key)
    return _dlaplace.discrete_laplace(_dlaplace.KeyedBits(seed), scale)


def build_weekly_report(
    cells: Mapping[str, Mapping[tuple[str, ...], int]],
    lists: Mapping[str, list[str]],
    *,
    week: str,
    salt: bytes,
    epsilon: Fraction = DEFAULT_EPSILON,
    min_contributors: int = DEFAULT_MIN_CONTRIBUTORS,
) -> dict[str, Any]:
    """The weekly share report of one person's counted cells (see the module docstring)."""
    monday, sunday = parse_week(week)
    epsilon = epsilon_value(epsilon)
    low, high = MIN_CONTRIBUTORS_RANGE
    if not low <= min_contributors <= high:
        raise ValueError(f"k must be between {low} and {high}")
    report_id, contributor = report_ids(salt, week)
    tables: dict[str, Any] = {}
    for name, dims in WEEKLY_TABLES.items():
        bound = BOUNDS[name]
        counts = bound_cells(cells.get(name, {}), bound)
        scale = table_scale(name, epsilon)
        rows = [
            [*key, counts.get(key, 0) + cell_noise(salt, week, name, key, scale)]
            for key in domain(name, lists)
        ]
        tables[name] = {
            "dimensions": list(dims),
            "max_per_cell": bound.max_per_cell,
            "max_cells": bound.max_cells,
            "epsilon": float(table_epsilon(name, epsilon)),
            "scale": float(scale),
            "rows": rows,
        }
    return {
        "share_schema_version": SHARE_FORMAT,
        "generator": f"flowspec-telemetry {__version__}",
        "report_id": report_id,
        "contributor": contributor,
        "period": {"iso_week": week, "start": monday.isoformat(), "end": sunday.isoformat()},
        "privacy": {
            "unit": UNIT,
            "mechanism": MECHANISM,
            "epsilon": float(epsilon),
            "min_contributors": min_contributors,
        },
        "catalog": {kind: list(vals) for kind, vals in lists.items()},
        "tables": tables,
    }


# ----------------------------------------------------------------- validation


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return (_is_int(value) or isinstance(value, float)) and math.isfinite(value)


def _keys(data: Mapping[str, Any], allowed: frozenset[str], where: str) -> list[str]:
    errors = [
        f"{where}: unexpected key {k!r:.40}" for k in sorted(map(str, data)) if k not in allowed
    ]
    return errors + [f"{where}: missing key {k!r}" for k in sorted(allowed) if k not in data]


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=0.0)


def _check_period(period: Any, errors: list[str]) -> None:
    if not isinstance(period, dict) or _keys(
        period, frozenset({"iso_week", "start", "end"}), "period"
    ):
        errors.append("period must be an object with exactly iso_week, start and end")
        return
    try:
        monday, sunday = parse_week(period["iso_week"])
    except WeekError as exc:
        errors.append(f"period.iso_week: {exc}")
        return
    if period["start"] != monday.isoformat() or period["end"] != sunday.isoformat():
        errors.append(
            f"period: start and end must be the Monday and Sunday of {period['iso_week']}"
        )


def _check_privacy(privacy: Any, errors: list[str]) -> Fraction | None:
    if not isinstance(privacy, dict) or _keys(privacy, _PRIVACY_KEYS, "privacy"):
        errors.append("privacy must be an object with exactly " + ", ".join(sorted(_PRIVACY_KEYS)))
        return None
    if privacy["unit"] != UNIT or privacy["mechanism"] != MECHANISM:
        errors.append(f"privacy: unit must be {UNIT!r} and mechanism {MECHANISM!r}")
    k = privacy["min_contributors"]
    low, high = MIN_CONTRIBUTORS_RANGE
    if not _is_int(k) or not low <= k <= high:
        errors.append(f"privacy.min_contributors (k) must be an integer from {low} to {high}")
    eps = privacy["epsilon"]
    if not _is_number(eps):
        errors.append("privacy.epsilon must be a number")
        return None
    try:
        return epsilon_value(float(eps))
    except ValueError as exc:
        errors.append(f"privacy.{exc}")
        return None


def _check_table(
    name: str,
    *,
    table: Any,
    epsilon: Fraction | None,
    lists: Mapping[str, frozenset[str]],
    ordered: Mapping[str, list[str]],
    errors: list[str],
) -> None:
    where = f"tables.{name}"
    if not isinstance(table, dict) or _keys(table, _TABLE_KEYS, where):
        errors.append(f"{where} must be an object with exactly " + ", ".join(sorted(_TABLE_KEYS)))
        return
    dims = WEEKLY_TABLES[name]
    bound = BOUNDS[name]
    if table["dimensions"] != list(dims):
        errors.append(f"{where}.dimensions must be {list(dims)}")
        return
    if table["max_per_cell"] != bound.max_per_cell or table["max_cells"] != bound.max_cells:
        errors.append(
            f"{where}: the bound must be max_per_cell {bound.max_per_cell}, "
            f"max_cells {bound.max_cells} (this version's documented values)"
        )
        return
    if epsilon is None:
        return
    eps_t, scale = table["epsilon"], table["scale"]
    if not _is_number(eps_t) or not _close(eps_t, float(table_epsilon(name, epsilon))):
        errors.append(f"{where}.epsilon does not match the report's epsilon and the table's share")
        return
    if not _is_number(scale) or not _close(scale, float(table_scale(name, epsilon))):
        errors.append(
            f"{where}.scale does not match its bound and epsilon (the noise was not calibrated)"
        )
        return
    rows = table["rows"]
    expected = list(domain(name, ordered))
    if not isinstance(rows, list) or len(rows) != len(expected):
        errors.append(
            f"{where}.rows must list every cell of the catalog domain "
            f"({len(expected)}), zeros included"
        )
        return
    tail = tail_bound(name, float(scale))
    low, high = -tail, bound.max_per_cell + tail
    for i, (row, key) in enumerate(zip(rows, expected, strict=True)):
        if not isinstance(row, list) or len(row) != len(dims) + 1:
            errors.append(f"{where}.rows[{i}] must be [{', '.join(dims)}, count]")
            return
        if tuple(row[:-1]) != key:
            errors.append(
                f"{where}.rows[{i}] is not the expected cell (unknown, repeated or out of order)"
            )
            return
        count = row[-1]
        if not _is_int(count) or not low <= count <= high:
            errors.append(
                f"{where}.rows[{i}]: the count must be an integer from {low} to {high} "
                "(the bound plus the noise's tail)"
            )
            return


def validate_weekly_report(data: Any) -> list[str]:
    """Every reason `data` is not a valid weekly share report (empty when it is one)."""
    if not isinstance(data, dict):
        return ["a share report must be a JSON object"]
    errors = _keys(data, _TOP_KEYS, "report")
    if data.get("share_schema_version") != SHARE_FORMAT:
        return [*errors, f"share_schema_version must be {SHARE_FORMAT!r}"]
    if errors:
        return errors
    if not isinstance(data["generator"], str) or not _GENERATOR.match(data["generator"]):
        errors.append("generator must be 'flowspec-telemetry VERSION'")
    for key in ("report_id", "contributor"):
        if not isinstance(data[key], str) or not _HEX32.match(data[key]):
            errors.append(f"{key} must be 32 lowercase hex digits")
    _check_period(data["period"], errors)
    epsilon = _check_privacy(data["privacy"], errors)
    catalog = check_catalog(data["catalog"], errors)
    if errors:
        return errors
    ordered = {kind: list(data["catalog"][kind]) for kind in ("roles", "commands", "agents")}
    if any(ordered[kind] != sorted(ordered[kind]) for kind in ordered):
        return ["catalog lists must be sorted"]
    tables = data["tables"]
    if not isinstance(tables, dict):
        return ["tables must be an object"]
    errors += _keys(tables, frozenset(WEEKLY_TABLES), "tables")
    for name in WEEKLY_TABLES:
        if name in tables:
            _check_table(
                name,
                table=tables[name],
                epsilon=epsilon,
                lists=catalog,
                ordered=ordered,
                errors=errors,
            )
    return errors
