"""The org store: ingest, duplicates, atomic loads, k at org level, DuckDB = ClickHouse."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from flowspec_telemetry.org import _queries as queries
from flowspec_telemetry.org._schema import TABLES, create_statements
from flowspec_telemetry.org.aggregate import org_insights
from flowspec_telemetry.org.backends import Store, StoreError, open_store, parse_target
from flowspec_telemetry.org.ingest import Accepted, check_report, ingest, read_report

from .conftest import LISTS, make_report, write_reports


def accepted(*reports: dict[str, Any]) -> list[Accepted]:
    items = [check_report(f"r{i}", r) for i, r in enumerate(reports)]
    assert all(isinstance(i, Accepted) for i in items), items
    return items  # type: ignore[return-value]


def duck(tmp_path: Path, *, read_only: bool = False) -> Store:
    return open_store(parse_target(str(tmp_path / "org.duckdb")), read_only=read_only)


def counts(store: Store) -> dict[str, int]:
    return {t: int(store.query(queries.row_count(t))[0][0]) for t in TABLES}


def report_with(cells: dict[str, dict[tuple[str, ...], int]], *, k: int) -> dict[str, Any]:
    from datetime import date

    from flowspec_telemetry.report.share import build_share_report

    return build_share_report(
        cells, LISTS, period=("2026-11-01", "2026-11-07"), k=k, today=date(2026, 11, 27)
    )


def test_schema_has_one_definition_and_a_small_dialect_switch() -> None:
    duck_sql, ch_sql = create_statements("duckdb"), create_statements("clickhouse")
    assert len(duck_sql) == len(ch_sql) == len(TABLES)
    assert all("ENGINE" not in s for s in duck_sql)
    assert all("ENGINE = MergeTree() ORDER BY" in s for s in ch_sql)
    assert all("VARCHAR" in s for s in duck_sql)
    assert all(
        "BIGINT" in s or "DOUBLE" in s
        for s in duck_sql
        if "catalog" not in s and "published" not in s
    )


def test_parse_target() -> None:
    assert parse_target("org.duckdb").dialect == "duckdb"
    t = parse_target("clickhouse://u:secret@127.0.0.1:9100/team")
    assert (t.host, t.port, t.database, t.user, t.password) == (
        "127.0.0.1",
        9100,
        "team",
        "u",
        "secret",
    )
    assert "secret" not in t.label
    assert parse_target("clickhouse://127.0.0.1").port == 9000
    for bad in (
        "postgres://x/y",
        "clickhouse:///db",
        "clickhouse://h:port/db",
        "clickhouse://h/bad-name;",
    ):
        with pytest.raises(StoreError) as info:
            parse_target(bad)
        assert info.value.usage


def test_k_applied_again_at_org_level_on_summed_cells(tmp_path: Path) -> None:
    a = report_with(
        {
            "commands_started": {("dev", "/flow:implement"): 3, ("dev", "/flow:plan"): 2},
            "commands_completed": {("dev", "/flow:implement"): 3},
            "agent_invocations": {
                ("dev", "@secure-by-design-engineer"): 4,
                ("dev", "@backend-engineer"): 4,
            },
        },
        k=1,
    )
    b = report_with(
        {
            "commands_started": {("dev", "/flow:implement"): 4},
            "commands_completed": {("dev", "/flow:implement"): 3},
            "agent_invocations": {
                ("dev", "@secure-by-design-engineer"): 4,
                ("dev", "@backend-engineer"): 8,
            },
        },
        k=1,
    )
    store = duck(tmp_path)
    ingest(store, accepted(a, b))
    data = org_insights(store, k=5)
    assert data["commands"]["top"] == [
        {"command": "/flow:implement", "count": 7}
    ]  # /flow:plan: 2 < 5
    assert data["completion"]["commands"][0]["completion_rate"]["value"] == round(6 / 7, 4)
    dev = data["security"]["developer"]
    assert dev["invocation_share"]["numerator"] == 8
    assert dev["invocation_share"]["denominator"] == 20
    assert dev["session_share"] is None
    assert "not available" in data["security"]["answer"]
    org = data["org"]
    assert org["reports"] == 2
    assert org["suppressed_cells"]["at_org_level"] == 1
    assert org["period"] == {"start": "2026-11-01", "end": "2026-11-07"}
    assert set(org["not_available"]) == {"activity", "durations", "session_share"}
    assert data["activity"]["available"] is False
    # a higher org k hides more
    assert org_insights(store, k=8)["commands"]["top"] == []
    store.close()


def test_duplicates_by_canonical_content(tmp_path: Path) -> None:
    rep = make_report(1)
    store = duck(tmp_path)
    assert len(ingest(store, accepted(rep)).loaded) == 1
    before = counts(store)
    reordered = json.loads(json.dumps(rep, indent=4, sort_keys=True))
    again = ingest(store, accepted(reordered, make_report(2), make_report(2)))
    assert [r.reason.split(":")[0] for r in again.rejected] == ["duplicate", "duplicate"]
    assert len(again.loaded) == 1
    assert counts(store)["org_reports"] == before["org_reports"] + 1
    store.close()


def test_a_failed_load_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = duck(tmp_path)
    ingest(store, accepted(make_report(1)))
    before = counts(store)
    real = type(store).insert

    def failing(self: Any, table: str, rows: Any) -> None:
        if table == "org_reports":
            raise StoreError("disk full")
        real(self, table, rows)

    monkeypatch.setattr(type(store), "insert", failing)
    with pytest.raises(StoreError):
        ingest(store, accepted(make_report(2), make_report(3)))
    assert counts(store) == before  # the transaction was rolled back
    store.close()


def test_reader_rejections(tmp_path: Path) -> None:
    good = write_reports(tmp_path, range(1))[0]
    assert isinstance(read_report(good), Accepted)
    cases = {
        "notjson.json": (b"{nope", "not valid JSON"),
        "dupkey.json": (b'{"a": 1, "a": 2}', "repeats a key"),
        "nan.json": (b'{"a": NaN}', "not a JSON number"),
        "latin1.json": (b'{"a": "\xe9"}', "not UTF-8"),
        "list.json": (b"[1, 2]", "no JSON object"),
        "noversion.json": (b"{}", "no share_schema_version"),
        "v9.json": (
            json.dumps({**json.loads(good.read_text()), "share_schema_version": "9"}).encode(),
            "unsupported share_schema_version",
        ),
        "v2.json": (
            json.dumps({**json.loads(good.read_text()), "share_schema_version": "2"}).encode(),
            "not a valid weekly share report",
        ),
    }
    for name, (blob, reason) in cases.items():
        (tmp_path / name).write_bytes(blob)
        result = read_report(tmp_path / name)
        assert not isinstance(result, Accepted)
        assert reason in result.reason, (name, result.reason)
    for extra in (
        {"project_id": "hmac:3f1c0a9b7d2e4f60"},
        {"sha256": "0" * 64},
        {"event_id": "evt_1"},
    ):
        data = {**json.loads(good.read_text()), **extra}
        result = check_report("x", data)
        assert not isinstance(result, Accepted) and "unexpected key" in result.reason
    hashed = json.loads(good.read_text())
    hashed["catalog"]["roles"].append("hmac:3f1c0a9b7d2e4f60")
    assert not isinstance(check_report("x", hashed), Accepted)
    result = read_report(tmp_path)  # a folder
    assert not isinstance(result, Accepted) and "cannot read" in result.reason


def test_the_tracking_path_never_imports_the_engines(tmp_path: Path) -> None:
    code = (
        "import sys, flowspec_telemetry, flowspec_telemetry.cli.fast, flowspec_telemetry.cli.app\n"
        "from flowspec_telemetry import track\n"
        "track('role.selected', role='dev')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('duckdb', 'clickhouse_driver')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    assert out.stdout.strip() == "[]"


# ---------------------------------------------------------------- ClickHouse


def test_clickhouse_and_duckdb_give_identical_answers(tmp_path: Path, clickhouse_url: str) -> None:
    reports = [make_report(seed, k=1 + seed % 3, day=1 + seed % 20) for seed in range(12)]
    reports[3] = copy.deepcopy(reports[3])
    reports[3]["privacy"]["epsilon"] = 1.0
    reports[3]["privacy"]["mechanism"] = "two-sided-geometric"
    items = accepted(*reports)
    d = duck(tmp_path)
    c = open_store(parse_target(clickhouse_url), read_only=False)
    for store in (d, c):
        result = ingest(store, items)
        assert len(result.loaded) == 12
        again = ingest(store, items[:2])
        assert len(again.rejected) == 2
    for k in (1, 5, 20):
        assert org_insights(d, k=k) == org_insights(c, k=k)
    assert counts(d) == counts(c)
    assert org_insights(c)["org"]["noised_reports"] == 1
    d.close()
    c.close()


def test_clickhouse_half_done_load_is_never_counted(
    clickhouse_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = open_store(parse_target(clickhouse_url), read_only=False)
    ingest(store, accepted(make_report(1)))
    before = org_insights(store)
    real = type(store).insert

    def dying(self: Any, table: str, rows: Any) -> None:
        if table == "org_loads":
            raise StoreError("connection lost")
        real(self, table, rows)

    monkeypatch.setattr(type(store), "insert", dying)
    with pytest.raises(StoreError):
        ingest(store, accepted(make_report(2)))
    monkeypatch.undo()
    assert counts(store)["org_cells"] > 0
    assert org_insights(store) == before  # the orphan rows are invisible
    retry = ingest(store, accepted(make_report(2)))  # not taken for a duplicate
    assert len(retry.loaded) == 1
    assert org_insights(store)["org"]["reports"] == 2
    store.close()
