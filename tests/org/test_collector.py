"""The collector, started for real (`flowspec-telemetry collector serve`) on 127.0.0.1.

Uploads go through the standard library's HTTP client, as the upload step's do.
Each test gets its own server and store; ClickHouse tests use the session's
real server (see conftest).
"""

from __future__ import annotations

import copy
import hashlib
import http.client
import json
import os
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from flowspec_telemetry.org.answers import reports_counted
from flowspec_telemetry.org.backends import open_store, parse_target
from flowspec_telemetry.report import weekly

from ..conftest import CONSOLE_SCRIPT
from ..report._chromium import CHROMIUM, Browser, problems
from ..report.test_html_layout_browser import _OVERFLOWING as OVERFLOWING
from . import clickhouse_server
from .conftest import LISTS
from .conftest import make_report as older_format_report
from .test_weekly import FORGERIES, person_week


@dataclass
class Running:
    url: str
    process: subprocess.Popen[str]
    db: str

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=30)


def start(db: str, *extra: str) -> Running:
    process = subprocess.Popen(
        [str(CONSOLE_SCRIPT), "collector", "serve", "--db", db, "--port", "0", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert process.stdout is not None
    first = process.stdout.readline()  # "Collector listening on http://127.0.0.1:PORT (...)"
    if "listening on" not in first:
        process.kill()
        _, err = process.communicate(timeout=10)
        raise AssertionError(f"collector did not start: {first!r} {err!r}")
    url = first.split("listening on ", 1)[1].split(" ", 1)[0]
    return Running(url, process, db)


@pytest.fixture
def collector(tmp_path: Path) -> Iterator[Running]:
    running = start(str(tmp_path / "org.duckdb"))
    yield running
    running.stop()


def post(url: str, body: bytes, ctype: str = "application/json") -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(  # noqa: S310 - loopback http only
        url + "/v1/reports", data=body, method="POST", headers={"Content-Type": ctype}
    )
    try:
        with urllib.request.urlopen(request, timeout=180) as response:  # noqa: S310 - loopback
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def get(url: str, path: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url + path, timeout=30) as response:  # noqa: S310 - loopback
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


WEEK = "2026-W40"
_BASE: dict[str, Any] = {}


def make_report(seed: int) -> dict[str, Any]:
    """A valid weekly report of person `seed`: one real report, then its own id and pseudonym.

    Building a report draws keyed noise for every cell (~12 ms); the tests need
    thousands, so each person's report is the real one of a template person with
    a fresh random-looking id and contributor pseudonym (both 32 hex, as the
    builder makes them), which the validator cannot and need not tell apart.
    """
    if not _BASE:
        _BASE.update(
            weekly.build_weekly_report(person_week(1, 1), LISTS, week=WEEK, salt=b"t" * 32)
        )
    report = copy.deepcopy(_BASE)
    report["report_id"] = hashlib.sha256(f"id {seed}".encode()).hexdigest()[:32]
    report["contributor"] = hashlib.sha256(f"person {seed}".encode()).hexdigest()[:32]
    return report


def report_bytes(seed: int) -> bytes:
    return (json.dumps(make_report(seed), indent=2, sort_keys=True) + "\n").encode()


def stored_reports(url: str) -> int:
    status, body = get(url, "/v1/insights")
    assert status == 200
    return reports_counted(json.loads(body))


def test_a_report_is_stored_once_and_a_retry_is_answered_as_stored(collector: Running) -> None:
    body = report_bytes(1)
    assert post(collector.url, body) == (
        202,
        {"status": "accepted", "reason": "accepted: counted from the next load on"},
    )
    assert post(collector.url, body) == (200, {"status": "duplicate", "reason": "already stored"})
    assert stored_reports(collector.url) == 1


def test_bad_uploads_get_a_one_line_reason_and_store_nothing(collector: Running) -> None:
    cases: list[tuple[bytes, str, int, str]] = [
        (b"{}", "application/json", 400, "no share_schema_version"),
        (b"not json", "application/json", 400, "not valid JSON"),
        (report_bytes(3), "text/plain", 415, "application/json"),
    ]
    for name, (change, reason) in sorted(FORGERIES.items()):
        forged = make_report(hash(name) % 10**6)
        change(forged)
        cases.append((json.dumps(forged).encode(), "application/json", 400, reason))
    for body, ctype, expected, reason in cases:
        status, answer = post(collector.url, body, ctype)
        assert status == expected, answer
        assert answer["status"] == "rejected"
        assert reason in answer["reason"]
        assert "\n" not in answer["reason"]
        assert 0 < len(answer["reason"]) < 500
    assert stored_reports(collector.url) == 0


def test_older_format_reports_go_through_org_ingest_not_the_collector(collector: Running) -> None:
    status, answer = post(collector.url, json.dumps(older_format_report(1)).encode())
    assert (status, answer["status"]) == (400, "rejected")
    assert "format '2'" in answer["reason"]
    assert stored_reports(collector.url) == 0


def test_a_reused_id_or_a_second_report_of_a_week_is_refused(collector: Running) -> None:
    first = make_report(7)
    assert post(collector.url, json.dumps(first).encode())[0] == 202
    same_person = make_report(8)
    same_person["contributor"] = first["contributor"]
    status, answer = post(collector.url, json.dumps(same_person).encode())
    assert (status, answer["status"]) == (409, "rejected")
    assert "same contributor" in answer["reason"]
    other_content = make_report(9)
    other_content["report_id"] = first["report_id"]
    status, answer = post(collector.url, json.dumps(other_content).encode())
    assert (status, answer["reason"]) == (409, "another report with this id is stored")
    status, answer = post(collector.url, json.dumps(first).encode())  # an honest retry
    assert (status, answer["status"]) == (200, "duplicate")
    assert stored_reports(collector.url) == 1


def test_an_oversized_upload_is_refused_before_its_body_is_read(collector: Running) -> None:
    host, port = collector.url.removeprefix("http://").rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    connection.putrequest("POST", "/v1/reports")
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Content-Length", str(64 * 2**20))
    connection.endheaders()  # and no body: the answer must not wait for one
    response = connection.getresponse()
    assert response.status == 413
    assert json.loads(response.read())["reason"].startswith("larger than")
    connection.close()
    assert stored_reports(collector.url) == 0


def test_routes_methods_and_health(collector: Running) -> None:
    assert get(collector.url, "/healthz") == (200, b"ok\n")
    status, _ = get(collector.url, "/nope")
    assert status == 404
    status, body = get(collector.url, "/v1/reports")
    assert status == 405
    assert b"POST" in body
    status, page = get(collector.url, "/")
    assert status == 200
    assert b"<script" not in page.lower()


def test_no_access_log_and_no_client_address_kept(tmp_path: Path) -> None:
    running = start(str(tmp_path / "org.duckdb"))
    try:
        post(running.url, report_bytes(4))
        get(running.url, "/")
    finally:
        running.stop()
    out, err = running.process.communicate(timeout=10)
    assert "127.0.0.1:" not in out.replace(running.url, "") + err
    store_bytes = (tmp_path / "org.duckdb").read_bytes()
    assert b"127.0.0.1" not in store_bytes


def _upload_all(url: str, seeds: list[int], *, retries: int) -> list[int]:
    statuses = []
    for seed in seeds:
        body = report_bytes(seed)
        for _ in range(1 + (retries if seed % 10 == 0 else 0)):  # every tenth is sent again
            status, _ = post(url, body)
            statuses.append(status)
    return statuses


def _concurrent_uploads(url: str, clients: int, per_client: int) -> list[int]:
    seeds = [[c * per_client + i for i in range(per_client)] for c in range(clients)]
    with ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(lambda s: _upload_all(url, s, retries=2), seeds))
    return [s for r in results for s in r]


@pytest.mark.slow
def test_concurrent_clients_with_retries_store_each_report_exactly_once(
    collector: Running,
) -> None:
    clients, per_client = 8, 1000
    statuses = _concurrent_uploads(collector.url, clients, per_client)
    assert statuses.count(202) == clients * per_client
    assert set(statuses) == {200, 202}
    assert stored_reports(collector.url) == clients * per_client


def test_a_killed_collector_leaves_nothing_half_loaded(tmp_path: Path) -> None:
    db = str(tmp_path / "org.duckdb")
    running = start(db)
    acknowledged: list[int] = []
    stop = threading.Event()

    def upload() -> None:
        seed = 0
        while not stop.is_set():
            try:
                status, _ = post(running.url, report_bytes(seed))
            except OSError:
                return
            if status == 202:
                acknowledged.append(seed)
            seed += 1

    worker = threading.Thread(target=upload)
    worker.start()
    time.sleep(1.5)
    running.stop(signal.SIGKILL)
    stop.set()
    worker.join(timeout=30)
    again = start(db)
    try:
        data = json.loads(get(again.url, "/v1/insights")[1])
        stored = reports_counted(data)
        # Every acknowledged report is there, and at most the one in flight besides.
        assert len(acknowledged) <= stored <= len(acknowledged) + 1
        # Re-sending everything stores only what is missing: nothing was half-loaded.
        for seed in range(len(acknowledged) + 1):
            status, _ = post(again.url, report_bytes(seed))
            assert status in (200, 202)
        assert stored_reports(again.url) == len(acknowledged) + 1
    finally:
        again.stop()
    store = open_store(parse_target(db), read_only=True)
    try:
        per_report = store.query(
            "SELECT report_id, COUNT(*) FROM org_weekly_cells "
            "WHERE load_id IN (SELECT load_id FROM org_loads) GROUP BY report_id"
        )
    finally:
        store.close()
    cells = sum(len(list(weekly.domain(t, LISTS))) for t in weekly.WEEKLY_TABLES)
    assert len(per_report) == len(acknowledged) + 1
    assert all(int(n) == cells for _, n in per_report)  # every stored report whole


def test_the_same_reports_through_clickhouse(
    clickhouse: clickhouse_server.Server, tmp_path: Path
) -> None:
    running = start(clickhouse.url("collector_test"), "--spool", str(tmp_path / "ch.spool"))
    try:
        statuses = _concurrent_uploads(running.url, 4, 25)
        assert statuses.count(202) == 100
        assert stored_reports(running.url) == 100
    finally:
        running.stop()


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (scripts/test installs it)")
def test_the_dashboard_served_by_the_collector_in_chromium(tmp_path: Path) -> None:
    running = start(str(tmp_path / "org.duckdb"), "--k", "5")
    browser = Browser(loopback=True)
    try:
        for seed in range(3):  # three people: below k, so every figure is withheld
            assert post(running.url, report_bytes(seed))[0] == 202
        events = browser.load(running.url + "/")
        assert problems(events) == []
        assert browser.evaluate("document.querySelectorAll('script').length") == 0
        text = browser.evaluate("document.body.innerText")
        assert "fewer than 5 contributors (3)" in text
        assert "nothing recorded" not in text.lower()
        for seed in range(3, 12):  # twelve people in all: the answers are shown, with intervals
            assert post(running.url, report_bytes(seed))[0] == 202
        browser.load(running.url + "/")
        text = browser.evaluate("document.body.innerText")
        assert "Based on 12 weekly share reports" in text
        assert "95 % interval" in text and "Roles selected at init" in text
        assert "Week by week" in text and WEEK in text
        browser.call(  # and on a phone: nothing cut off, no sideways scrolling
            "Emulation.setDeviceMetricsOverride",
            {"width": 390, "height": 900, "deviceScaleFactor": 1, "mobile": True},
        )
        browser.load(running.url + "/")
        layout = browser.evaluate(OVERFLOWING)
        assert layout["bad"] == []
        assert layout["page"] <= layout["viewport"]
    finally:
        browser.close()
        running.stop()
