"""The collector, started for real on 127.0.0.1 (uvicorn), fed over HTTP."""

from __future__ import annotations

import json
import random
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from flowspec_telemetry.org.backends import open_store, parse_target
from flowspec_telemetry.org.collector import Collector
from flowspec_telemetry.report import weekly

from .conftest import LISTS, make_report
from .test_weekly import person_week

uvicorn = pytest.importorskip("uvicorn", reason="the collector tests need uvicorn")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Running:
    def __init__(self, db: str) -> None:
        self.app = Collector(parse_target(db))
        self.port = _free_port()
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=self.port, access_log=False, log_level="warning"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the collector did not start")
            time.sleep(0.05)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(20)


@pytest.fixture
def collector(tmp_path: Path) -> Iterator[Running]:
    running = Running(str(tmp_path / "collector.duckdb"))
    try:
        yield running
    finally:
        running.stop()


def post(url: str, body: bytes) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url + "/v1/reports", data=body, method="POST")  # noqa: S310
    request.add_header("content-type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - loopback
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _report(p: int, salt: bytes, week: str = "2026-W40") -> bytes:
    return json.dumps(
        weekly.build_weekly_report(person_week(p, 0), LISTS, week=week, salt=salt)
    ).encode()


def stored(running: Running) -> int:
    running.app.close()  # let this test read the file
    path = running.app.target.path
    if path is not None and not path.exists():
        return 0  # nothing was ever accepted: the store was never even created
    store = open_store(running.app.target, read_only=True)
    try:
        return int(store.query("SELECT COUNT(*) FROM org_weekly_reports")[0][0])
    finally:
        store.close()


def test_upload_retry_and_answers(collector: Running) -> None:
    assert get(collector.url + "/healthz") == (200, b"ok\n")
    body = _report(1, b"a" * 32)
    assert post(collector.url, body)[0] == 201
    status, reply = post(collector.url, body)  # a retry of the same bytes
    assert (status, reply["status"]) == (200, "already stored")
    status, data = get(collector.url + "/v1/insights")
    assert status == 200 and json.loads(data)["reports"] == 1
    status, page = get(collector.url + "/")
    assert status == 200 and b"<script" not in page and b"fewer than 5 contributors" in page
    assert b"Week by week" in page and b"2026-W40" in page
    assert get(collector.url + "/nope")[0] == 404
    assert stored(collector) == 1


def test_exactly_once_under_concurrent_uploads_and_retries(collector: Running) -> None:
    rng = random.Random(4)  # noqa: S311
    bodies = [_report(p, rng.randbytes(32)) for p in range(40)]
    jobs = [b for b in bodies for _ in range(3)]  # every report sent three times
    random.Random(1).shuffle(jobs)  # noqa: S311
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda b: post(collector.url, b)[0], jobs))
    assert statuses.count(201) == 40 and statuses.count(200) == 80
    assert stored(collector) == 40


@pytest.mark.parametrize(
    ("change", "status", "reason"),
    [
        (
            lambda d: d["tables"]["handoffs_offered"]["rows"][0].__setitem__(0, 10**9),
            400,
            "the count must be",
        ),
        (lambda d: d["privacy"].__setitem__("epsilon", 9.0), 400, "does not match"),
        (lambda d: d["period"].__setitem__("iso_week", "2026-13"), 400, "not an ISO week"),
        (lambda d: d.__setitem__("report_id", "1" * 32), 409, "a second report for 2026-W40"),
    ],
)
def test_forgeries_are_refused_and_nothing_is_stored(
    collector: Running, change: Any, status: int, reason: str
) -> None:
    good = _report(2, b"b" * 32)
    assert post(collector.url, good)[0] == 201
    data = json.loads(good)
    change(data)
    got, reply = post(collector.url, json.dumps(data).encode())
    assert got == status and reason in reply["reason"], reply
    assert "\n" not in reply["reason"]
    assert stored(collector) == 1


def test_older_format_garbage_and_size(collector: Running) -> None:
    status, reply = post(collector.url, json.dumps(make_report(1)).encode())
    assert status == 400 and "format '2'" in reply["reason"]
    assert post(collector.url, b"{nope")[0] == 400
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", collector.port, timeout=30)
    conn.putrequest("POST", "/v1/reports")
    conn.putheader("content-length", str(8 * 1024 * 1024 + 10))
    conn.endheaders()  # the body is never sent: the declared size is refused at once
    response = conn.getresponse()
    assert response.status == 413 and b"size cap" in response.read()
    conn.close()
    assert stored(collector) == 0


# ------------------------------------------------- the real console script


def _spawn(db: Path, port: int) -> Any:
    import subprocess

    from ..conftest import CONSOLE_SCRIPT

    proc = subprocess.Popen(
        [str(CONSOLE_SCRIPT), "collector", "serve", "--db", str(db), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if get(f"http://127.0.0.1:{port}/healthz")[0] == 200:
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("collector serve did not come up")


def test_serve_and_a_kill_mid_load_leaves_nothing_half_loaded(tmp_path: Path) -> None:
    import signal

    db = tmp_path / "c.duckdb"
    port = _free_port()
    proc = _spawn(db, port)
    url = f"http://127.0.0.1:{port}"
    rng = random.Random(8)  # noqa: S311
    bodies = [_report(p, rng.randbytes(32)) for p in range(60)]
    acked: list[int] = []

    def send(body: bytes) -> None:
        try:
            if post(url, body)[0] == 201:
                acked.append(1)
        except OSError:
            pass  # the server was killed under this request

    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(send, b) for b in bodies]
        while len(acked) < 10:
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        for f in futures:
            f.result()
    proc.wait(10)
    proc = _spawn(db, port)  # the store opens again after the kill
    try:
        status, data = get(url + "/v1/insights")
        assert status == 200
    finally:
        proc.terminate()
        # uvicorn shuts down gracefully, then re-raises SIGTERM (so the status says why)
        assert proc.wait(20) in (0, -signal.SIGTERM)
        assert b"Traceback" not in proc.stderr.read()
    store = open_store(parse_target(str(db)), read_only=True)
    try:
        reports = int(
            store.query(
                "SELECT COUNT(*) FROM org_weekly_reports WHERE load_id IN (SELECT load_id FROM org_loads)"
            )[0][0]
        )
        per_report = store.query(
            "SELECT report_id, COUNT(*) FROM org_weekly_cells GROUP BY report_id"
        )
    finally:
        store.close()
    assert len(acked) <= reports <= len(bodies)
    cells = len([c for t in weekly.WEEKLY_TABLES for c in weekly.domain(t, LISTS)])
    assert all(int(n) == cells for _, n in per_report)  # every stored report whole
    assert len(per_report) == reports  # and no cells of a report that did not commit
    assert json.loads(data)["reports"] == reports
