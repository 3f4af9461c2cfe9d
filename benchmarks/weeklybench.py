"""Share format 2 (weekly, person-level DP) next to format 1, in the same run.

    python weeklybench.py WORKDIR [EVENTS] [REPORTS] [BATCH]

Run by `run.py --only weekly` under the measured interpreter (with the `org`
and `clickhouse` extras). Prints one JSON object. Steps, each timed:

1. a project with EVENTS events over 7 days (eventgen, as the reader
   benchmarks); the report of the ISO week that holds most of them, made
   by format 1 (`project_share_report` for that week, best of 2) and by
   format 2 (`sharing.prepare_week`, best of 2): both read the whole history;
2. REPORTS report files of each format: format 1 as `orgbench.generate`
   does; format 2 from 20 reports built by the real builder (exact sampler),
   each file a copy with a fresh report id and contributor (valid, distinct);
3. read and check all files of each format, then per engine (DuckDB, and a
   throwaway ClickHouse on loopback): ingest in batches of BATCH, and the
   org answers over all of them (format 1 `org_insights`, format 2
   `weekly_insights`; best of 3).
"""

from __future__ import annotations

import json
import random
import secrets
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flowspec_telemetry.core import consent_rules
from flowspec_telemetry.core.privacy import load_or_create_salt
from flowspec_telemetry.core.roles import DEFAULT_CATALOG
from flowspec_telemetry.org.aggregate import org_insights
from flowspec_telemetry.org.backends import StoreError, open_store, parse_target
from flowspec_telemetry.org.ingest import Accepted, ingest, read_report
from flowspec_telemetry.org.weekly import weekly_insights
from flowspec_telemetry.report import sharing, weekly
from flowspec_telemetry.report.share import catalog_lists, project_share_report

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import eventgen  # noqa: E402
import orgbench  # noqa: E402


def _best(fn: Callable[[], Any], reps: int) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(reps):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def generation(work: Path, events: int) -> dict[str, Any]:
    root = work / "project"
    folder = root / ".flowspec"
    folder.mkdir(parents=True, exist_ok=True)
    (root / "flowspec_workflow.yml").write_text("")
    consent_rules.write_record(
        consent_rules.project_config_path(root), consent_rules.new_record("yes")
    )
    load_or_create_salt(folder)
    with (folder / "telemetry.jsonl").open("w", encoding="ascii") as fh:
        fh.writelines(eventgen.iter_lines(events, days=7))
    days: Counter[str] = Counter()
    with (folder / "telemetry.jsonl").open("rb") as fh:
        for raw in fh:
            at = raw.find(b'"timestamp":"')
            days[raw[at + 13 : at + 23].decode()] += 1
    weeks: Counter[str] = Counter()
    for day, n in days.items():
        weeks[weekly.week_of(datetime.fromisoformat(day).date())] += n
    week, in_week = weeks.most_common(1)[0]
    monday, _ = weekly.parse_week(week)
    since = f"{monday.isoformat()}T00:00:00.000Z"
    until = f"{(monday + timedelta(days=7)).isoformat()}T00:00:00.000Z"
    later = datetime.combine(monday + timedelta(days=8), datetime.min.time(), UTC)
    v1_s, _ = _best(lambda: project_share_report(root, since=since, until=until, epsilon=1.0), 2)
    v2_s, prepared = _best(
        lambda: sharing.prepare_week(
            root, week=week, share_since="2000-01-01T00:00:00Z", now=later
        ),
        2,
    )
    return {
        "events": events,
        "week": week,
        "events_in_week": in_week,
        "format1_s": v1_s,
        "format2_s": v2_s,
        "format2_cells": sum(len(t["rows"]) for t in prepared.report["tables"].values()),
    }


def weekly_files(folder: Path, n: int) -> list[Path]:
    rng = random.Random(7)  # noqa: S311 - benchmark data, not cryptography
    lists = catalog_lists(DEFAULT_CATALOG)
    bases = []
    for b in range(20):
        cells: dict[str, Counter[tuple[str, ...]]] = {t: Counter() for t in weekly.WEEKLY_TABLES}
        cells["commands_started"][("dev", "/flow:implement")] = rng.randint(0, 3)
        cells["roles_selected_at_init"][(rng.choice(lists["roles"]),)] = 1
        bases.append(
            weekly.build_weekly_report(
                cells, lists, week=f"2026-W{40 + b % 8:02d}", salt=rng.randbytes(32)
            )
        )
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        report = dict(bases[i % len(bases)])
        report["report_id"], report["contributor"] = secrets.token_hex(16), secrets.token_hex(16)
        path = folder / f"weekly-{i:05d}.json"
        path.write_text(json.dumps(report))
        paths.append(path)
    return paths


def engine(
    db: str, items: list[Accepted], batch: int, answer: Callable[[Any], Any]
) -> dict[str, Any]:
    store = open_store(parse_target(db), read_only=False)
    start = time.perf_counter()
    cells = 0
    for i in range(0, len(items), batch):
        cells += ingest(store, items[i : i + batch]).cells
    ingest_s = time.perf_counter() - start
    insights_s, _ = _best(lambda: answer(store), 3)
    store.close()
    return {
        "status": "ok",
        "cells": cells,
        "ingest_s": ingest_s,
        "reports_per_s": len(items) / ingest_s,
        "insights_s": insights_s,
    }


def main(argv: list[str]) -> int:
    work = Path(argv[1])
    events = int(argv[2]) if len(argv) > 2 else 1_000_000
    n = int(argv[3]) if len(argv) > 3 else 10_000
    batch = int(argv[4]) if len(argv) > 4 else 1_000
    out: dict[str, Any] = {"n": n, "batch": batch, "generation": generation(work, events)}
    formats: dict[str, Any] = {}
    makers: dict[str, Callable[[], list[Path]]] = {
        "format1": lambda: orgbench.generate(work / "v1", n),
        "format2": lambda: weekly_files(work / "v2", n),
    }
    answers: dict[str, Callable[[Any], Any]] = {
        "format1": org_insights,
        "format2": weekly_insights,
    }
    for name, make in makers.items():
        answer = answers[name]
        start = time.perf_counter()
        paths = make()
        entry: dict[str, Any] = {"files_s": time.perf_counter() - start}
        start = time.perf_counter()
        items = [r for r in map(read_report, paths) if isinstance(r, Accepted)]
        entry["read_validate_s"] = time.perf_counter() - start
        if len(items) != n:
            raise SystemExit(f"{name}: only {len(items)} of {n} reports are valid")
        try:
            entry["duckdb"] = engine(str(work / f"{name}.duckdb"), items, batch, answer)
        except StoreError as exc:
            entry["duckdb"] = {"status": f"n/a ({exc})"}
        server_mod = orgbench._server_module()
        server = None
        try:
            server = server_mod.start(work / f"clickhouse-{name}")
            entry["clickhouse"] = engine(server.url(name), items, batch, answer)
        except (server_mod.ServerUnavailableError, StoreError, RuntimeError) as exc:
            entry["clickhouse"] = {"status": f"n/a ({str(exc)[:120]})"}
        finally:
            if server is not None:
                server.stop()
        formats[name] = entry
    out["formats"] = formats
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
