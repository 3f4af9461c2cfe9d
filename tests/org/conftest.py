"""Fixtures of the org tests: share reports, and one real ClickHouse server per session.

The server is Debian's `clickhouse-server` started on free loopback ports
with its own folder (`clickhouse_server.start`); it is stopped at the end of
the session, also after failures. Tests that need it skip, saying why, only
when it is not installed or cannot start (or clickhouse-driver is missing).
DuckDB tests never need it.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from flowspec_telemetry.core.roles import DEFAULT_CATALOG
from flowspec_telemetry.report.share import TABLES, _catalog_lists, _domain, build_share_report

from . import clickhouse_server

LISTS = _catalog_lists(DEFAULT_CATALOG)
_COUNTS = (0, 0, 0, 1, 2, 3, 5, 6, 9, 20)


def make_report(seed: int, *, k: int = 5, day: int = 1) -> dict[str, Any]:
    """A valid share report with random counts (seeded, so tests are reproducible)."""
    rng = random.Random(seed)  # noqa: S311 - test data, not cryptography
    cells = {t: {key: rng.choice(_COUNTS) for key in _domain(t, LISTS)} for t in TABLES}
    return build_share_report(
        cells,
        LISTS,
        period=(f"2026-10-{day:02d}", f"2026-10-{day + 6:02d}"),
        k=k,
        today=date(2026, 11, 27),
    )


def write_reports(folder: Path, seeds: range, **kw: Any) -> list[Path]:
    paths = []
    for seed in seeds:
        path = folder / f"share-{seed}.json"
        path.write_text(json.dumps(make_report(seed, **kw), indent=2))
        paths.append(path)
    return paths


@pytest.fixture(scope="session")
def clickhouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[clickhouse_server.Server]:
    """One ClickHouse server for the whole session (127.0.0.1, free ports, own folder).

    tests/cli/test_org.py imports this fixture too; `shared` starts the server once.
    """
    pytest.importorskip("clickhouse_driver", reason="ClickHouse tests need clickhouse-driver")
    try:
        server = clickhouse_server.shared(tmp_path_factory.getbasetemp() / "clickhouse")
    except clickhouse_server.ServerUnavailableError as exc:
        pytest.skip(f"ClickHouse tests skipped: {exc}")
    try:
        yield server
    finally:
        clickhouse_server.stop_shared()


@pytest.fixture
def clickhouse_url(clickhouse: clickhouse_server.Server) -> str:
    """A fresh database name on the session's server (created by the first ingest)."""
    return clickhouse.url(f"t_{uuid.uuid4().hex[:12]}")
