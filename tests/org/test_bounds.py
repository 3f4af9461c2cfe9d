"""Bounds on every number a share report carries (issue 13.7).

A report that passed validation could still carry a count or a k no store can
hold (the tool itself wrote one with a huge `--k`): loading it failed the whole
batch, and on ClickHouse two counts of 2**63 - 1 summed to -2 (the cell
vanished) while DuckDB showed the true value. Now such a report is refused on
its own, the others load, and no sum can wrap: per-cell counts are at most
`MAX_CELL_COUNT` and a store holds at most `MAX_REPORTS` reports, whose
product stays below 2**63.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowspec_telemetry.org import ingest as ingest_module
from flowspec_telemetry.org.aggregate import cell_totals
from flowspec_telemetry.org.backends import StoreError, open_store, parse_target
from flowspec_telemetry.org.ingest import Accepted, check_report, ingest
from flowspec_telemetry.report.share import MAX_CELL_COUNT, MAX_K, validate_share_report

from ..conftest import run_cli
from .conftest import make_report

BIG = 2**63 - 1


def _first_row(report: dict[str, Any]) -> tuple[str, list[Any]]:
    """The first cell of the report (a table and its row), where a count is set."""
    name = next(n for n, t in report["tables"].items() if t["rows"])
    return name, report["tables"][name]["rows"][0]


def _with_count(seed: int, count: int, day: int = 1) -> dict[str, Any]:
    report = copy.deepcopy(make_report(seed, k=1, day=day))
    _first_row(report)[1][-1] = count
    return report


def _with_k(seed: int, k: int) -> dict[str, Any]:
    report = copy.deepcopy(make_report(seed, k=1))
    report["privacy"]["k"] = k
    for table in report["tables"].values():
        for row in table["rows"]:
            row[-1] = max(row[-1], k)
    return report


def test_out_of_bounds_reports_are_rejected_alone_and_the_batch_loads(tmp_path: Path) -> None:
    files = {
        "good-1.json": make_report(1),
        "huge-k.json": _with_k(2, 10**23),
        "huge-count.json": _with_count(3, BIG),
        "count-past-bound.json": _with_count(4, MAX_CELL_COUNT + 1),
        "good-2.json": make_report(5),
    }
    for name, report in files.items():
        (tmp_path / name).write_text(json.dumps(report))
    db = tmp_path / "org.duckdb"
    result = run_cli("org", "ingest", *(str(tmp_path / n) for n in files), "--db", str(db))
    assert "Loaded 2 share reports" in result.stdout, result.stderr
    assert result.returncode == 2
    rejected = result.stderr.strip().splitlines()
    assert len(rejected) == 3 and all("rejected" in line for line in rejected)
    assert "Traceback" not in result.stderr


def test_the_tool_never_writes_a_k_past_the_bound(consented: Path) -> None:
    result = run_cli("report", "--preview", "--k", str(10**23), cwd=consented)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1


numbers = st.integers(min_value=-(2**70), max_value=2**70) | st.floats(allow_nan=True)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["count", "k", "epsilon", "suppressed"]), numbers)
def test_validation_accepts_a_number_only_within_its_bound(where: str, value: Any) -> None:
    report = copy.deepcopy(make_report(7, k=1))
    privacy = report["privacy"]
    table_name, row = _first_row(report)
    if where == "count":
        row[-1] = value
    elif where == "k":
        privacy["k"] = value
    elif where == "epsilon":
        privacy["epsilon"], privacy["mechanism"] = value, "two-sided-geometric"
    else:
        report["tables"][table_name]["suppressed_cells"] = value
    if validate_share_report(report):
        return
    for table in report["tables"].values():
        for row in table["rows"]:
            assert 1 <= row[-1] <= MAX_CELL_COUNT
        assert 0 <= table["suppressed_cells"] <= 256 * 256
    assert 1 <= privacy["k"] <= MAX_K
    assert privacy["epsilon"] is None or 1e-6 <= privacy["epsilon"] <= 100


@pytest.mark.parametrize("engine", ["duckdb", "clickhouse"])
def test_sums_at_the_bound_are_exact_on_both_engines(
    tmp_path: Path, engine: str, request: pytest.FixtureRequest
) -> None:
    """The largest counts a report may carry sum exactly; on ClickHouse too."""
    url = str(tmp_path / "org.duckdb")
    if engine == "clickhouse":
        url = request.getfixturevalue("clickhouse_url")
    store = open_store(parse_target(url), read_only=False)
    reports = [_with_count(11, MAX_CELL_COUNT, day) for day in (1, 2, 3)]  # one cell, 3 weeks
    items = [check_report(f"r{i}", r) for i, r in enumerate(reports)]
    assert all(isinstance(i, Accepted) for i in items)
    ingest(store, items)  # type: ignore[arg-type]
    name, first = _first_row(reports[0])
    totals = {(t, a, b): n for t, a, b, n in cell_totals(store)}
    key = (name, first[0], first[1] if len(first) > 2 else "")
    assert totals[key] == 3 * MAX_CELL_COUNT
    assert all(n >= 0 for n in totals.values())
    store.close()


@pytest.mark.parametrize("engine", ["duckdb", "clickhouse"])
def test_a_store_refuses_more_reports_than_it_can_sum(
    tmp_path: Path, engine: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = str(tmp_path / "org.duckdb")
    if engine == "clickhouse":
        url = request.getfixturevalue("clickhouse_url")
    monkeypatch.setattr(ingest_module, "MAX_REPORTS", 3)
    store = open_store(parse_target(url), read_only=False)
    items = [check_report(f"r{i}", make_report(20 + i)) for i in range(4)]
    ingest(store, items[:2])  # type: ignore[arg-type]
    with pytest.raises(StoreError, match="start another store"):
        ingest(store, items[2:])  # type: ignore[arg-type]
    assert len(cell_totals(store)) > 0
    assert int(store.query("SELECT COUNT(*) FROM org_reports")[0][0]) == 2
    store.close()
