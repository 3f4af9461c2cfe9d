"""The org store's tables, defined once for DuckDB and ClickHouse.

Four tables, plain types only (String, Int64, Date) so that ClickHouse 18.16
(Debian's package) and current releases accept them, as does DuckDB:

- `org_loads`: one row per successful `ingest` (a batch of reports). It is
  written **last**; every query counts only rows whose `load_id` is in it.
  ClickHouse has no transactions, so a load that stopped half-way leaves rows
  no query sees, and a retry gets a new `load_id` (DuckDB also wraps each
  load in a transaction, so there it leaves nothing at all);
- `org_reports`: one row per report: its SHA-256 (of the canonical JSON, the
  duplicate key), generator, dates, k, epsilon and suppressed cells;
- `org_cells`: one row per published cell: table, up to two dimension values
  (`dim2` is empty for one-dimension tables) and the count;
- `org_catalog`: the catalog values each report ranges over (the security
  agents come from here).

The only dialect difference is the `ENGINE` clause, which ClickHouse needs and
DuckDB does not know, and the type names.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Literal

Dialect = Literal["duckdb", "clickhouse"]

STORE_VERSION: Final = "1"

# table -> ((column, logical type), ...); the logical types are ClickHouse's names
TABLES: Final[Mapping[str, tuple[tuple[str, str], ...]]] = {
    "org_loads": (
        ("load_id", "String"),
        ("store_version", "String"),
        ("loaded_on", "Date"),
        ("reports", "Int64"),
    ),
    "org_reports": (
        ("load_id", "String"),
        ("report_sha256", "String"),
        ("generator", "String"),
        ("generated_on", "Date"),
        ("period_start", "String"),  # "" when the report's period is null
        ("period_end", "String"),
        ("k", "Int64"),
        ("epsilon", "String"),  # "" without noise; the report's number as text otherwise
        ("suppressed_cells", "Int64"),
    ),
    "org_cells": (
        ("load_id", "String"),
        ("report_sha256", "String"),
        ("table_name", "String"),
        ("dim1", "String"),
        ("dim2", "String"),  # "" for one-dimension tables
        ("cell_count", "Int64"),
    ),
    "org_catalog": (
        ("load_id", "String"),
        ("report_sha256", "String"),
        ("kind", "String"),
        ("value", "String"),
    ),
    # Weekly share reports (format 2): see `org.weekly`.
    "org_weekly_reports": (
        ("load_id", "String"),
        ("report_id", "String"),
        ("contributor", "String"),  # the per-week keyed pseudonym
        ("iso_week", "String"),
        ("generator", "String"),
        ("epsilon", "Float64"),
        ("min_contributors", "Int64"),
        ("report_sha256", "String"),  # of the canonical JSON: tells a retry from a clash
    ),
    "org_weekly_tables": (
        ("load_id", "String"),
        ("report_id", "String"),
        ("iso_week", "String"),
        ("table_name", "String"),
        ("scale", "Float64"),  # the discrete Laplace scale the report declares for the table
    ),
    "org_weekly_cells": (
        ("load_id", "String"),
        ("report_id", "String"),
        ("iso_week", "String"),
        ("table_name", "String"),
        ("dim1", "String"),
        ("dim2", "String"),
        ("cell_count", "Int64"),  # noised: may be negative
    ),
    "org_weekly_catalog": (
        ("load_id", "String"),
        ("report_id", "String"),
        ("kind", "String"),
        ("value", "String"),
    ),
    # What the org published (for difference checks): not part of any load.
    "org_published": (
        ("publish_id", "String"),
        ("published_on", "Date"),
        ("table_name", "String"),
        ("weeks", "String"),  # comma-separated ISO weeks
        ("week_counts", "String"),  # week:reports,... at the time
    ),
}
# ClickHouse MergeTree sort keys (the columns the queries group or filter by)
_ORDER_BY: Final[Mapping[str, str]] = {
    "org_loads": "load_id",
    "org_reports": "report_sha256",
    "org_cells": "(table_name, dim1, dim2)",
    "org_catalog": "(kind, value)",
    "org_weekly_reports": "(iso_week, contributor)",
    "org_weekly_tables": "(iso_week, table_name)",
    "org_weekly_cells": "(iso_week, table_name, dim1, dim2)",
    "org_weekly_catalog": "(kind, value)",
    "org_published": "(table_name, published_on)",
}
_TYPES: Final[Mapping[Dialect, Mapping[str, str]]] = {
    "duckdb": {"String": "VARCHAR", "Int64": "BIGINT", "Date": "DATE", "Float64": "DOUBLE"},
    "clickhouse": {"String": "String", "Int64": "Int64", "Date": "Date", "Float64": "Float64"},
}


def columns(table: str) -> list[str]:
    """The column names of `table`, in order (every insert names them all)."""
    return [name for name, _ in TABLES[table]]


def sql_type(dialect: Dialect, kind: str) -> str:
    """The dialect's name for a logical column type."""
    return _TYPES[dialect][kind]


def create_statements(dialect: Dialect) -> list[str]:
    """`CREATE TABLE IF NOT EXISTS` for every table, in the dialect's types."""
    statements = []
    for table, cols in TABLES.items():
        body = ", ".join(f"{name} {_TYPES[dialect][kind]}" for name, kind in cols)
        engine = (
            f" ENGINE = MergeTree() ORDER BY {_ORDER_BY[table]}" if dialect == "clickhouse" else ""
        )
        statements.append(f"CREATE TABLE IF NOT EXISTS {table} ({body}){engine}")
    return statements
