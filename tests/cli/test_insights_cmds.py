"""`insights` and `dashboard` through the real console script."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from flowspec_telemetry.core.events import dumps_line

from ..conftest import run_cli
from ..test_insights import known_dataset

HOSTILE = (
    "\x1b]8;;http://evil\x07<script>alert(1)</script>\x1b[31m\u202eRED=cmd|' /C calc'!A0"
    + "x" * 100_000
)


@pytest.fixture
def history(consented: Path) -> Path:
    folder = consented / ".flowspec"
    folder.mkdir(exist_ok=True)
    lines = b"".join(dumps_line(e) for e in known_dataset())
    (folder / "telemetry.jsonl").write_bytes(lines + b"{torn line\n")
    return consented


def test_insights_text_answers_each_question(history: Path) -> None:
    result = run_cli("insights", cwd=history / ".flowspec")
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "Based on 54 events" in text and "1 unreadable lines skipped" in text
    assert "'dev' is selected most at init (2 of 3)" in text
    assert "Top commands: /flow:implement (10), /flow:plan (6), /flow:validate (1)" in text
    assert "developer sessions using a security agent: 40% (4 of 10)" in text
    assert "click-through 50% (3 of 6)" in text
    assert "/flow:implement: 80% (8/10) completed, 1 failed, median 400 ms, p90 800 ms" in text
    assert "/flow:validate: not enough data (0/1) completed" in text


def test_insights_json_is_the_versioned_document(history: Path) -> None:
    result = run_cli("insights", "--json", "--since", "2026-11-03", cwd=history)
    data = json.loads(result.stdout)
    assert data["insights_version"] == "1"
    assert data["commands"]["top"][0] == {"command": "/flow:implement", "count": 10}
    assert data["roles"]["selected"] == {}  # selections were on 2026-11-02


def test_dashboard_fits_80_columns_without_colour(history: Path) -> None:
    result = run_cli(
        "dashboard", cwd=history, env={"COLUMNS": "80", "NO_COLOR": "1", "TERM": "xterm-256color"}
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert max(len(x) for x in lines) <= 80
    assert "\x1b" not in result.stdout
    for title in (
        "Roles selected",
        "Top commands",
        "Security agents",
        "Handoffs",
        "Completion",
        "Activity over time",
    ):
        assert title in result.stdout
    assert "█" in result.stdout  # the bars need no colour


def test_dashboard_in_colour_when_forced(history: Path) -> None:
    result = run_cli("dashboard", cwd=history, env={"COLUMNS": "80", "FORCE_COLOR": "1"})
    assert "\x1b[" in result.stdout


def test_hostile_values_are_shown_not_obeyed(consented: Path) -> None:
    folder = consented / ".flowspec"
    folder.mkdir(exist_ok=True)
    events = [
        {"schema_version": "1.0", "event_type": t, "timestamp": "2026-11-02T10:00:00.000Z", "role": HOSTILE,
         "command": HOSTILE, "agent": HOSTILE, "handoff": {"from_agent": HOSTILE, "to_agent": HOSTILE},
         "session_id": HOSTILE}
        for t in ("command.started", "agent.invoked", "handoff.offered", "command.completed", "role.selected", HOSTILE)
    ]  # fmt: skip
    (folder / "telemetry.jsonl").write_bytes(b"".join(dumps_line(e) for e in events))
    for command in (["insights"], ["dashboard"], ["insights", "--json"]):
        result = run_cli(*command, cwd=consented, env={"COLUMNS": "80"})
        assert result.returncode == 0, result.stderr
        for bad in ("\x1b", "\x07", "\u202e"):
            assert bad not in result.stdout
        assert len(result.stdout) < 20_000


def test_empty_history_and_no_project(consented: Path, tmp_path: Path) -> None:
    result = run_cli("insights", cwd=consented)
    assert result.returncode == 0
    assert (
        "Based on 0 events" in result.stdout and "No command has been started yet." in result.stdout
    )
    assert run_cli("dashboard", cwd=consented).returncode == 0
    outside = run_cli("insights", cwd=tmp_path)
    assert outside.returncode == 1 and "not in a flowspec project" in outside.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["--since", "yesterday-ish"],
        ["--until", "2026-13-45"],
        ["--since", "2026-11-05", "--until", "2026-11-01"],
    ],
)
def test_bad_dates_are_usage_errors(history: Path, args: list[str]) -> None:
    for command in ("insights", "dashboard"):
        result = run_cli(command, *args, cwd=history)
        assert result.returncode == 2
        assert result.stderr.count("\n") == 1 and re.match(
            r"^flowspec-telemetry: error: ", result.stderr
        )
