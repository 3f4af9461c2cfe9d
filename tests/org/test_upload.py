"""Uploading weekly share reports to a real collector (started on 127.0.0.1).

The weeks are the last two finished ISO weeks before today (real time: the
upload step and the CLI run on the clock), so these tests hold on any day.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from flowspec_telemetry.consent._share import share_decision
from flowspec_telemetry.core import consent_rules
from flowspec_telemetry.core.events import dumps_line
from flowspec_telemetry.core.ledger import read_ledger
from flowspec_telemetry.core.privacy import load_or_create_salt
from flowspec_telemetry.report import upload, weekly

from ..conftest import CONSOLE_SCRIPT, run_cli
from .test_collector import Running, start, stored_reports

URL_ENV = "FLOWSPEC_TELEMETRY_COLLECTOR_URL"


def finished_weeks(n: int) -> list[str]:
    """The last `n` finished ISO weeks, oldest first."""
    today = datetime.now(UTC).date()
    monday = today - timedelta(days=today.weekday())
    return [weekly.week_of(monday - timedelta(days=7 * k)) for k in range(n, 0, -1)]


def share_project(root: Path, *, days_ago: int | None = None) -> Path:
    """A project that agreed to record and to share; events in the last 2 finished weeks.

    It agreed to share at the start of the first of them, or `days_ago` days ago.
    """
    folder = root / ".flowspec"
    folder.mkdir(mode=0o700, exist_ok=True)
    load_or_create_salt(folder)
    path = consent_rules.project_config_path(root)
    consent_rules.write_record(path, consent_rules.new_record("yes"))
    data = json.loads(path.read_text())
    if days_ago is None:
        since = f"{weekly.parse_week(finished_weeks(2)[0])[0].isoformat()}T00:00:00Z"
    else:
        since = (datetime.now(UTC) - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")
    data["share"] = {"answer": "yes", "decided_at": since, "notice_version": 1}
    path.write_text(json.dumps(data))
    lines = []
    for n, week in enumerate(finished_weeks(2)):
        monday, _ = weekly.parse_week(week)
        for i in range(30 + n):
            lines.append(
                dumps_line(
                    {
                        "schema_version": "1.0",
                        "event_id": f"evt_{n:02d}{i:024d}",
                        "timestamp": f"{monday.isoformat()}T10:{i % 60:02d}:00.000Z",
                        "event_type": ("command.started", "command.completed")[i % 2],
                        "role": "dev",
                        "command": "/flow:implement",
                        "invocation_id": f"inv_{n}{i // 2:025d}",
                        "project_id": "hmac:3f1c0a9b7d2e4f60",
                    }
                )
            )
    (folder / "telemetry.jsonl").write_bytes(b"".join(lines))
    return root


def _since(root: Path) -> str | None:
    decision = share_decision(root)
    return decision.share_since if decision.mode == "share" else None


@pytest.fixture
def collector(tmp_path: Path) -> Iterator[Running]:
    running = start(str(tmp_path / "org.duckdb"))
    yield running
    running.stop()


def test_the_collector_url_must_be_https_or_loopback() -> None:
    assert upload.url_problem("https://telemetry.example.org") is None
    assert upload.url_problem("http://127.0.0.1:8737") is None
    assert upload.url_problem("http://localhost:1/") is None
    assert "https" in (upload.url_problem("http://telemetry.example.org") or "")
    assert "password" in (upload.url_problem("https://u:p@example.org") or "")
    assert upload.url_problem("ftp://example.org") is not None
    assert upload.url_problem("file:///etc/passwd") is not None


def test_each_finished_week_is_uploaded_once_with_the_bytes_the_person_saw(
    project: Path, collector: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    share_project(project)
    monkeypatch.setenv(URL_ENV, collector.url)
    weeks = finished_weeks(2)
    preview = run_cli("report", "--share", "p.json", "--preview", "--week", weeks[-1], cwd=project)
    assert preview.returncode == 0, preview.stderr
    done = run_cli("upload", cwd=project)
    assert done.returncode == 0, done.stderr
    assert f"{weeks[-1]}: accepted: counted from the next load on (HTTP 202)" in done.stdout
    uploads = upload.read_uploads(project)
    by_week = {u["iso_week"]: u for u in uploads}
    assert {w: by_week[w]["http_status"] for w in weeks} == dict.fromkeys(weeks, 202)
    assert by_week[weeks[-1]]["sha256"] == hashlib.sha256(preview.stdout.encode()).hexdigest()
    assert by_week[weeks[-1]]["collector"] == collector.url
    # The share itself is in the ledger (view --shared shows it), once per week.
    assert sorted(e["iso_week"] for e in read_ledger(project)) == weeks
    assert stored_reports(collector.url) == 2
    again = run_cli("upload", cwd=project)
    assert again.returncode == 0
    assert "Nothing to upload" in again.stdout
    assert stored_reports(collector.url) == 2
    shared = run_cli("view", "--shared", cwd=project)
    assert "uploaded" in shared.stdout


def test_a_collector_that_is_down_loses_nothing_and_is_tried_again(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    share_project(project)
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    monkeypatch.setenv(URL_ENV, closed)
    first = upload.run_upload(project, share_since=_since(project))
    assert [r.status for r in first] == [0, 0]
    assert all(r.reason.startswith("not sent") for r in first)
    running = start(str(tmp_path / "later.duckdb"))
    try:
        monkeypatch.setenv(URL_ENV, running.url)
        later = upload.run_upload(project, share_since=_since(project))
        assert [r.status for r in later] == [202, 202]
        # The same reports, from the kept copies: one SHA-256 per week across both tries.
        assert [r.sha256 for r in later] == [r.sha256 for r in first]
        assert stored_reports(running.url) == 2
    finally:
        running.stop()


def test_a_week_older_than_21_days_is_dropped_not_sent(project: Path) -> None:
    share_project(project, days_ago=60)
    due, dropped = upload.due_weeks(
        project, upload.FLOWSPEC, (datetime.now(UTC) - timedelta(days=60)).isoformat()
    )
    assert due == finished_weeks(len(due))
    assert dropped
    for week in dropped:
        monday, _ = weekly.parse_week(week)
        assert (datetime.now(UTC).date() - (monday + timedelta(days=7))).days > 21


def test_debug_shows_what_would_be_sent_and_sends_nothing(
    project: Path, collector: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    share_project(project)
    monkeypatch.setenv(URL_ENV, collector.url)
    monkeypatch.setenv("FLOWSPEC_TELEMETRY_DEBUG", "1")
    done = run_cli("upload", cwd=project)
    assert done.returncode == 0, done.stderr
    assert "would upload" in done.stdout
    assert '"report_id"' in done.stdout  # the exact report text
    assert stored_reports(collector.url) == 0
    assert upload.read_uploads(project) == []


def test_no_upload_without_share_mode_or_collector(
    project: Path, collector: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    share_project(project)
    cfg = consent_rules.project_config_path(project)
    data = json.loads(cfg.read_text())
    data["share"]["answer"] = "no"
    cfg.write_text(json.dumps(data))
    monkeypatch.setenv(URL_ENV, collector.url)
    assert upload.run_upload(project, share_since=_since(project)) == []
    monkeypatch.delenv(URL_ENV)
    nothing = run_cli("upload", cwd=project)
    assert nothing.returncode == 0
    assert "No collector is set" in nothing.stdout
    monkeypatch.setenv(URL_ENV, "http://telemetry.example.org")
    refused = run_cli("upload", cwd=project)
    assert refused.returncode == 2
    assert len(refused.stderr.strip().splitlines()) == 1
    assert stored_reports(collector.url) == 0


def _silent_server() -> tuple[socket.socket, str]:
    """Accepts connections and never answers: a collector that hangs."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []

    def hold() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            held.append(conn)

    threading.Thread(target=hold, daemon=True).start()
    return server, f"http://127.0.0.1:{server.getsockname()[1]}"


def test_a_host_command_does_not_wait_for_a_hanging_collector(project: Path) -> None:
    share_project(project)
    server, url = _silent_server()
    env = {**os.environ, URL_ENV: url, "FLOWSPEC_TELEMETRY_ENABLED": "1"}
    try:
        started = time.monotonic()
        done = subprocess.run(
            [str(CONSOLE_SCRIPT), "status"],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        took = time.monotonic() - started
        assert done.returncode == 0, done.stderr
        assert took < upload.TIMEOUT_S / 2  # the upload step waits alone, detached
        stamp = json.loads((project / ".flowspec" / "telemetry-upload.json").read_text())
        assert stamp["last_started"] == datetime.now(UTC).date().isoformat()
        # Once a day: a second command starts no second step.
        before = stamp
        subprocess.run(
            [str(CONSOLE_SCRIPT), "status"], cwd=project, env=env, capture_output=True, check=False
        )
        assert json.loads((project / ".flowspec" / "telemetry-upload.json").read_text()) == before
    finally:
        server.close()
