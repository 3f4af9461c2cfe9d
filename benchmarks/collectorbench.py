"""The collector and the upload trigger: throughput, POST latency, cost to a host command.

    python collectorbench.py WORKDIR [N] [CLIENTS]

Run by `run.py --only collector` under the measured interpreter (which needs
the `collector`, `org` and `clickhouse` extras). Prints one JSON object:

1. per engine (DuckDB; ClickHouse on a throwaway local server where it can
   start): a real `collector serve` on 127.0.0.1, then CLIENTS threads, each
   with its own keep-alive connection, POST N weekly reports in all (one real
   report of a template person, each copy with its own report id and
   contributor pseudonym, as tests/org/test_collector.py makes them). Reported:
   uploads per second until the last answer, p50/p99 of one POST, and the time
   until `/v1/insights` counts all N (the last load included).
2. the cost the upload trigger adds to a host command: `status` run as a real
   process in a share-mode project, (a) with no collector set, (b) with one set
   and today's stamp present (the daily check only), (c) with one set and no
   stamp (the day an upload starts: the detached step is spawned). Medians of
   several runs; the collector URL points at a closed port, so the spawned
   step finds nothing to talk to and ends.
"""

from __future__ import annotations

import copy
import hashlib
import http.client
import importlib.util
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from flowspec_telemetry.core import consent_rules
from flowspec_telemetry.core.privacy import load_or_create_salt
from flowspec_telemetry.core.roles import DEFAULT_CATALOG
from flowspec_telemetry.report import weekly
from flowspec_telemetry.report.share import catalog_lists

REPO = Path(__file__).resolve().parent.parent
SCRIPT = Path(sys.executable).with_name("flowspec-telemetry")
WEEK = "2026-W40"


def _server_module() -> ModuleType:
    path = REPO / "tests" / "org" / "clickhouse_server.py"
    spec = importlib.util.spec_from_file_location("clickhouse_server", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["clickhouse_server"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def reports(n: int) -> list[bytes]:
    lists = catalog_lists(DEFAULT_CATALOG)
    cells: dict[str, dict[tuple[str, ...], int]] = {t: {} for t in weekly.WEEKLY_TABLES}
    cells["roles_selected_at_init"][("dev",)] = 1
    cells["commands_started"][("dev", "/flow:implement")] = 3
    cells["commands_completed"][("dev", "/flow:implement")] = 2
    cells["handoffs_offered"][()] = 4
    base = weekly.build_weekly_report(cells, lists, week=WEEK, salt=b"b" * 32)
    out = []
    for i in range(n):
        report = copy.deepcopy(base)
        report["report_id"] = hashlib.sha256(f"id {i}".encode()).hexdigest()[:32]
        report["contributor"] = hashlib.sha256(f"person {i}".encode()).hexdigest()[:32]
        out.append(json.dumps(report, sort_keys=True).encode())
    return out


def start(db: str, spool: Path) -> tuple[subprocess.Popen[str], str, int]:
    proc = subprocess.Popen(
        [str(SCRIPT), "collector", "serve", "--db", db, "--port", "0", "--spool", str(spool)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()
    if "listening on" not in first:
        proc.kill()
        raise RuntimeError(f"collector did not start: {first!r} {proc.communicate()[1][-300:]!r}")
    url = first.split("listening on ", 1)[1].split(" ", 1)[0]
    host, port = url.removeprefix("http://").rsplit(":", 1)
    return proc, host, int(port)


def upload_all(host: str, port: int, bodies: list[bytes], clients: int) -> dict[str, Any]:
    latencies: list[float] = []
    statuses: list[int] = []
    lock = threading.Lock()
    chunks = [bodies[c::clients] for c in range(clients)]

    def client(chunk: list[bytes]) -> None:
        conn = http.client.HTTPConnection(host, port, timeout=300)
        mine, codes = [], []
        for body in chunk:
            t = time.perf_counter()
            conn.request(
                "POST", "/v1/reports", body=body, headers={"Content-Type": "application/json"}
            )
            response = conn.getresponse()
            response.read()
            mine.append(time.perf_counter() - t)
            codes.append(response.status)
        conn.close()
        with lock:
            latencies.extend(mine)
            statuses.extend(codes)

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(c,)) for c in chunks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    answered = time.perf_counter() - started
    conn = http.client.HTTPConnection(host, port, timeout=300)
    conn.request("GET", "/v1/insights")
    data = json.loads(conn.getresponse().read())
    loaded = time.perf_counter() - started
    conn.close()
    latencies.sort()
    return {
        "status": "ok",
        "n": len(bodies),
        "clients": clients,
        "accepted": statuses.count(202),
        "stored": int(data["reports"]),
        "uploads_per_s": len(bodies) / answered,
        "all_loaded_s": loaded,
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
    }


def engine_run(db: str, spool: Path, bodies: list[bytes], clients: int) -> dict[str, Any]:
    proc, host, port = start(db, spool)
    try:
        return upload_all(host, port, bodies, clients)
    finally:
        proc.terminate()
        proc.wait(60)


def share_project(root: Path) -> Path:
    folder = root / ".flowspec"
    folder.mkdir(parents=True, mode=0o700, exist_ok=True)
    load_or_create_salt(folder)
    path = consent_rules.project_config_path(root)
    consent_rules.write_record(path, consent_rules.new_record("yes"))
    data = json.loads(path.read_text())
    data["share"] = {"answer": "yes", "decided_at": "2026-10-01T00:00:00Z", "notice_version": 1}
    path.write_text(json.dumps(data))
    return root


def _time_status(root: Path, env: dict[str, str]) -> float:
    t = time.perf_counter()
    subprocess.run([str(SCRIPT), "status"], cwd=root, env=env, capture_output=True, check=False)
    return time.perf_counter() - t


def trigger_cost(work: Path, reps: int) -> dict[str, Any]:
    root = share_project(work / "share-project")
    stamp = root / ".flowspec" / "telemetry-upload.json"
    with socket.socket() as probe:  # a port nobody listens on: the spawned step ends at once
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    base = {k: v for k, v in os.environ.items() if k != "FLOWSPEC_TELEMETRY_COLLECTOR_URL"}
    with_url = {**base, "FLOWSPEC_TELEMETRY_COLLECTOR_URL": closed}
    cases: dict[str, list[float]] = {"no collector": [], "checked, not due": [], "spawns": []}
    _time_status(root, base)  # warm the page cache and the catalog cache
    for _ in range(reps):
        cases["no collector"].append(_time_status(root, base))
        stamp.unlink(missing_ok=True)
        cases["spawns"].append(_time_status(root, with_url))
        cases["checked, not due"].append(_time_status(root, with_url))
    medians = {name: statistics.median(v) * 1000 for name, v in cases.items()}
    return {
        "status": "ok",
        "reps": reps,
        "ms": medians,
        "added_by_spawn_ms": medians["spawns"] - medians["checked, not due"],
        "added_by_check_ms": medians["checked, not due"] - medians["no collector"],
    }


def main() -> None:
    work = Path(sys.argv[1])
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 8000
    clients = int(sys.argv[3]) if len(sys.argv) > 3 else 8
    bodies = reports(n)
    out: dict[str, Any] = {"n": n, "clients": clients, "report_bytes": len(bodies[0])}
    out["duckdb"] = engine_run(str(work / "collector.duckdb"), work / "duck.spool", bodies, clients)
    server_mod = _server_module()
    try:
        server = server_mod.start(work / "clickhouse")
    except Exception as exc:  # no server on this machine: say why
        out["clickhouse"] = {"status": f"n/a ({str(exc)[:120]})"}
    else:
        try:
            out["clickhouse"] = engine_run(
                server.url("collector_bench"), work / "ch.spool", bodies, clients
            )
        finally:
            server.stop()
    out["trigger"] = trigger_cost(work, 15)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
