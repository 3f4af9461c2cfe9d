"""Every query the org commands run, in SQL that DuckDB and ClickHouse 18.16 both accept.

Plain `SELECT ... WHERE ... GROUP BY` with `SUM`, `COUNT`, `MIN`, `MAX` and
`IN (subquery)`; no dialect switch. Only rows of committed loads count
(`VISIBLE`, see `schema`). Where the engines differ in an edge case (the sum
or minimum of no rows: NULL in DuckDB, 0 or "" in ClickHouse), the caller
normalises. Rows come back sorted by the caller, never trusted to an engine's
collation, so both engines give identical answers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

VISIBLE: Final = "load_id IN (SELECT load_id FROM org_loads)"

CELL_TOTALS: Final = (
    "SELECT table_name, dim1, dim2, SUM(cell_count) AS total FROM org_cells "
    f"WHERE {VISIBLE} GROUP BY table_name, dim1, dim2"
)
REPORT_TOTALS: Final = (
    f"SELECT COUNT(*), SUM(suppressed_cells), MIN(k), MAX(k) FROM org_reports WHERE {VISIBLE}"
)
# Reports of both formats held by the store (the bound of `ingest.MAX_REPORTS`).
REPORT_COUNTS: Final = (
    f"SELECT COUNT(*) FROM org_reports WHERE {VISIBLE}",
    f"SELECT COUNT(*) FROM org_weekly_reports WHERE {VISIBLE}",
)
NOISED_REPORTS: Final = f"SELECT COUNT(*) FROM org_reports WHERE {VISIBLE} AND epsilon != ''"
PERIOD_START: Final = (
    f"SELECT MIN(period_start) FROM org_reports WHERE {VISIBLE} AND period_start != ''"
)
PERIOD_END: Final = f"SELECT MAX(period_end) FROM org_reports WHERE {VISIBLE} AND period_end != ''"
SECURITY_AGENTS: Final = (
    f"SELECT DISTINCT value FROM org_catalog WHERE {VISIBLE} AND kind = 'security_agents'"
)
LOADS: Final = "SELECT COUNT(*) FROM org_loads"

_SHA256: Final = re.compile(r"^[0-9a-f]{64}$")


def known_reports(hashes: Iterable[str]) -> str:
    """Which of `hashes` (SHA-256 hex, checked here) are already loaded.

    The hashes are written into the SQL as literals: they are 64 hex digits
    (anything else raises), so this needs no engine-specific parameter style.
    """
    values = list(hashes)
    for value in values:
        if not _SHA256.match(value):
            raise ValueError("not a SHA-256 hex digest")
    literals = ", ".join(f"'{v}'" for v in values) or "''"
    return (
        f"SELECT report_sha256 FROM org_reports WHERE {VISIBLE} AND report_sha256 IN ({literals})"
    )


def row_count(table: str) -> str:
    """All rows of one of the store's tables, committed or not (for checks and tests)."""
    from flowspec_telemetry.org._schema import TABLES

    if table not in TABLES:
        raise ValueError(f"unknown table {table!r}")
    return f"SELECT COUNT(*) FROM {table}"
