"""Histories written by flowspec's earlier telemetry module keep working after an upgrade."""

from __future__ import annotations

import json
from pathlib import Path

from flowspec_telemetry import iter_events, tail_events
from flowspec_telemetry.analysis.stats import compute_stats
from flowspec_telemetry.core.store import ReadStats
from flowspec_telemetry.core.tracker import Tracker

LEGACY = [
    {"event_type": "role.selected", "timestamp": "2025-10-01T09:00:00.000000+00:00", "role": "dev",
     "agent": None, "command": None, "project_id": "a1b2c3d4e5f6", "context": {"source": "init"},
     "metadata": {}},
    {"event_type": "agent.invoked", "timestamp": "2025-10-01T09:05:00.000000+00:00", "role": "dev",
     "agent": "@backend-engineer", "command": "/flow:implement", "project_id": "a1b2c3d4e5f6",
     "context": {}, "metadata": {"user": "0123456789ab"}},
    {"event_type": "handoff.clicked", "timestamp": "2025-10-01T09:09:00.000000+00:00", "role": "9f8e7d6c5b4a",
     "agent": "@pm-planner", "command": None, "project_id": "a1b2c3d4e5f6", "context": {},
     "metadata": {"from": "@pm-planner", "to": "@software-architect"}},
]  # fmt: skip


def write_legacy(consented: Path) -> None:
    folder = consented / ".flowspec"
    folder.mkdir(exist_ok=True)
    (folder / "telemetry.jsonl").write_text("".join(json.dumps(e) + "\n" for e in LEGACY))


def test_legacy_lines_read_as_schema_zero_by_every_reader(consented: Path) -> None:
    write_legacy(consented)
    stats = ReadStats()
    events = list(iter_events(consented, stats=stats))
    assert stats.skipped == 0
    assert [e["schema_version"] for e in events] == ["0", "0", "0"]
    assert events[1]["metadata"] == {"user": "0123456789ab"}
    assert [e["event_type"] for e in tail_events(consented, 2)] == [
        "agent.invoked",
        "handoff.clicked",
    ]
    totals = compute_stats(iter(events), stats)
    assert totals.total == 3 and totals.by_role["dev"] == 2


def test_new_events_append_after_legacy_history(consented: Path) -> None:
    write_legacy(consented)
    assert Tracker().track("role.selected", role="qa", project_root=consented)
    events = list(iter_events(consented))
    assert [e["schema_version"] for e in events] == ["0", "0", "0", "1.0"]


def test_every_cli_reader_reads_legacy_history(consented: Path, tmp_path: Path) -> None:
    from .conftest import run_cli

    write_legacy(consented)
    view = run_cli("view", "--json", cwd=consented)
    assert view.returncode == 0, view.stderr
    assert [json.loads(x)["schema_version"] for x in view.stdout.splitlines()] == ["0", "0", "0"]
    stats = json.loads(run_cli("stats", "--json", cwd=consented).stdout)
    assert stats["total"] == 3
    assert stats["skipped_lines"] == 0
    out = tmp_path / "legacy.csv"
    assert run_cli("export", "--format", "csv", "--output", str(out), cwd=consented).returncode == 0
    assert out.read_text().count("\n") == 4  # header + 3 events
    insights = json.loads(run_cli("insights", "--json", cwd=consented).stdout)
    assert insights["roles"]["most_selected_at_init"] == {"role": "dev", "count": 1}
    assert insights["handoffs"]["clicked"] == 1
