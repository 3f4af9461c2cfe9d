"""Team and org aggregation: share reports loaded into an analytics store.

Only share reports (`report --share`, validated by
`flowspec_telemetry.report.share.validate_share_report`) are ever loaded,
never raw events. The store is DuckDB (a local file, the default) or
ClickHouse (`clickhouse://host:port/db`); the schema (`schema`) and the
queries (`queries`) are written once, in SQL both engines accept, so both
give the same answers.

Nothing here is imported by the tracking path: the CLI imports these modules
only inside the `org` commands, and DuckDB or clickhouse-driver only when a
store is opened.
"""

from __future__ import annotations

__all__: list[str] = []  # a namespace of modules: import them by name
