"""Org aggregation: ingest N share reports and answer org insights, DuckDB vs ClickHouse.

    python orgbench.py WORKDIR [N] [BATCH]

Run by `run.py --only org` under the measured interpreter (which needs the
`org` and `clickhouse` extras). Prints one JSON object. Steps, each timed:

1. generate N valid share reports as files (20 reports built by
   `build_share_report`, then each file a copy with every count raised by a
   different amount, so all N differ and stay valid);
2. read and check all N files (`read_report`: parse, validate, SHA-256);
3. per engine: ingest in batches of BATCH reports (one load per batch), then
   `org_insights` over all N (best of 3), then the CLI end to end on a fresh
   store: one `org ingest` of all N files (a single batch) and one
   `org insights --json`.

ClickHouse is a throwaway local server (tests/org/clickhouse_server.py) on
free loopback ports; where it cannot start, its results are `n/a` with why.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

from flowspec_telemetry.core.roles import DEFAULT_CATALOG
from flowspec_telemetry.org.aggregate import org_insights
from flowspec_telemetry.org.backends import StoreError, open_store, parse_target
from flowspec_telemetry.org.ingest import Accepted, ingest, read_report
from flowspec_telemetry.report.share import TABLES, _catalog_lists, _domain, build_share_report

REPO = Path(__file__).resolve().parent.parent
SCRIPT = Path(sys.executable).with_name("flowspec-telemetry")


def _server_module() -> ModuleType:
    path = REPO / "tests" / "org" / "clickhouse_server.py"
    spec = importlib.util.spec_from_file_location("clickhouse_server", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["clickhouse_server"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def generate(folder: Path, n: int) -> list[Path]:
    import random

    rng = random.Random(7)  # noqa: S311 - benchmark data, not cryptography
    lists = _catalog_lists(DEFAULT_CATALOG)
    choices = (0, 0, 0, 1, 3, 6, 9, 20, 40)
    bases = [
        build_share_report(
            {t: {key: rng.choice(choices) for key in _domain(t, lists)} for t in TABLES},
            lists,
            period=(f"2026-10-{1 + b:02d}", f"2026-10-{8 + b:02d}"),
            today=date(2026, 11, 27),
        )
        for b in range(20)
    ]
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        base = bases[i % len(bases)]
        bump = i // len(bases)
        report = {
            **base,
            "tables": {
                name: {**table, "rows": [[*row[:-1], row[-1] + bump] for row in table["rows"]]}
                for name, table in base["tables"].items()
            },
        }
        path = folder / f"share-{i:05d}.json"
        path.write_text(json.dumps(report))
        paths.append(path)
    return paths


def _timed_cli(*args: str) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:2])} failed: {proc.stderr.strip()[:200]}")
    return seconds, proc.stdout


def engine(
    db: str, cli_db: str, items: list[Accepted], paths: list[Path], batch: int
) -> dict[str, Any]:
    store = open_store(parse_target(db), read_only=False)
    cells = 0
    start = time.perf_counter()
    for i in range(0, len(items), batch):
        cells += ingest(store, items[i : i + batch]).cells
    ingest_s = time.perf_counter() - start
    times = []
    answer: dict[str, Any] = {}
    for _ in range(3):
        start = time.perf_counter()
        answer = org_insights(store)
        times.append(time.perf_counter() - start)
    store.close()
    cli_ingest_s, _ = _timed_cli("org", "ingest", *map(str, paths), "--db", cli_db)
    cli_insights_s, out = _timed_cli("org", "insights", "--json", "--db", cli_db)
    same = json.loads(out) == answer
    return {
        "status": "ok",
        "reports": answer["org"]["reports"],
        "cells": cells,
        "ingest_s": ingest_s,
        "reports_per_s": len(items) / ingest_s,
        "insights_s": min(times),
        "cli_ingest_s": cli_ingest_s,
        "cli_insights_s": cli_insights_s,
        "cli_matches_library": same,
        "answer": answer,
    }


def main(argv: list[str]) -> int:
    work = Path(argv[1])
    n = int(argv[2]) if len(argv) > 2 else 10_000
    batch = int(argv[3]) if len(argv) > 3 else 1_000
    out: dict[str, Any] = {"n": n, "batch": batch}
    start = time.perf_counter()
    paths = generate(work / "reports", n)
    out["generate_s"] = time.perf_counter() - start
    start = time.perf_counter()
    items = [r for r in map(read_report, paths) if isinstance(r, Accepted)]
    out["read_validate_s"] = time.perf_counter() - start
    if len(items) != n:
        raise SystemExit(f"only {len(items)} of {n} generated reports are valid")
    try:
        out["duckdb"] = engine(
            str(work / "bench.duckdb"), str(work / "cli.duckdb"), items, paths, batch
        )
    except (StoreError, RuntimeError) as exc:
        out["duckdb"] = {"status": f"n/a ({exc})"}
    server_mod = _server_module()
    server = None
    try:
        server = server_mod.start(work / "clickhouse")
        out["clickhouse"] = engine(server.url("bench"), server.url("cli"), items, paths, batch)
        out["clickhouse"]["server"] = "Debian clickhouse-server on 127.0.0.1"
    except (server_mod.ServerUnavailableError, StoreError, RuntimeError) as exc:
        out["clickhouse"] = {"status": f"n/a ({str(exc)[:120]})"}
    finally:
        if server is not None:
            server.stop()
    answers = [out[e].pop("answer", None) for e in ("duckdb", "clickhouse")]
    out["identical_answers"] = None if None in answers else answers[0] == answers[1]
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
