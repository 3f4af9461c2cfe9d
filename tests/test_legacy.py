"""History written by flowspec's real telemetry module keeps its meaning in every reader.

The lines come from flowspec 0.4.008's own module (tests/data/flowspec-legacy,
made by the script beside them); tests/host/test_legacy_live.py writes them
anew with the installed flowspec.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flowspec_telemetry.cli.app import app
from flowspec_telemetry.core.store import ReadStats, iter_events, tail_events
from flowspec_telemetry.core.tracker import Tracker
from flowspec_telemetry.history import reader

from .conftest import SHARED

LINES = SHARED / "flowspec-legacy" / "lines.jsonl"
# What must never come out of a reader: the unsalted host-name hashes flowspec
# wrote into `metadata`, and the free context its sanitizer let through.
NEVER_SHOWN = (
    "hostname_hash",
    "a9db44ecf5fc",  # sha256("build-host.example.internal")[:12]
    "b23a6a8439c0",  # sha256("unknown")[:12]
    "metadata",
    "task-123",
    "<email:",
    "<project:",
    "secret-project",
    "abc-123",
)


def install_legacy(root: Path) -> Path:
    folder = root / ".flowspec"
    folder.mkdir(exist_ok=True)
    target = folder / "telemetry.jsonl"
    shutil.copyfile(LINES, target)
    return target


def cli(root: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> str:
    monkeypatch.chdir(root)
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, (args, result.output)
    return result.stdout


def assert_clean(text: str) -> None:
    for needle in NEVER_SHOWN:
        assert needle not in text, needle


def test_every_line_is_read_as_the_schema_1_0_event_it_means(consented: Path) -> None:
    install_legacy(consented)
    stats = ReadStats()
    events = list(iter_events(consented, stats=stats))
    assert stats.skipped == 0 and len(events) == 44
    assert events == list(reader.iter_events(consented))  # both readers agree
    assert {e["schema_version"] for e in events} == {"1.0"}
    assert all(e["timestamp"].endswith("Z") and len(e["timestamp"]) == 24 for e in events)
    assert all("legacy_type" in e for e in events)
    assert_clean(json.dumps(events))
    by_legacy = {e["legacy_type"]: e for e in reversed(events)}  # the first of each type
    assert by_legacy["agent.started"]["event_type"] == "agent.invoked"
    assert by_legacy["agent.started"]["agent"] == "@backend-engineer"
    assert by_legacy["command.executed"]["event_type"] == "command.started"
    assert by_legacy["workflow.failed"]["event_type"] == "workflow.completed"
    assert by_legacy["workflow.failed"]["outcome"] == "failure"
    assert by_legacy["agent.progress"]["event_type"] == "agent.progress"
    assert by_legacy["handoff.completed"]["event_type"] == "handoff.completed"
    first_change = next(e for e in events if e["event_type"] == "role.changed")
    assert first_change["previous_role"] == "sec" and first_change["source"] == "config"
    handoff = next(e for e in events if e["event_type"] == "handoff.clicked")
    assert handoff["handoff"] == {"from_agent": "@pm-planner", "to_agent": "@software-architect"}
    # The whole-second time flowspec's isoformat() writes without a fraction.
    assert events[-2]["timestamp"] == "2025-10-01T09:00:00.000Z"
    assert [e["event_type"] for e in tail_events(consented, 2)] == [
        "role.selected",
        "agent.invoked",
    ]


def test_a_template_track_role_is_a_run_and_init_is_a_selection(consented: Path) -> None:
    install_legacy(consented)
    events = list(iter_events(consented))
    runs = [
        e
        for e in events
        if e.get("legacy_type") == "role.selected" and e["event_type"] == "command.started"
    ]
    assert [(e["role"], e["command"]) for e in runs] == [
        ("dev", "/flow:implement"), ("dev", "/flow:validate"), ("dev", "/flow:plan")
    ]  # fmt: skip
    selections = [e for e in events if e["event_type"] == "role.selected"]
    assert [(e["role"], e.get("source")) for e in selections] == [
        ("dev", "init"), ("sec", "config"), ("pm", "init"), ("arch", "init")
    ]  # fmt: skip


def test_insights_answer_every_question_from_legacy_history(
    consented: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_legacy(consented)
    out = cli(consented, monkeypatch, "insights", "--json")
    assert_clean(out)
    doc = json.loads(out)
    assert doc["based_on"]["skipped_lines"] == 0 and doc["based_on"]["events"] == 44
    # 1. roles: selections at init, and the changes with their previous role
    assert doc["roles"]["selected_at_init"] == {"dev": 1, "pm": 1, "arch": 1}
    changes = {(c["from"], c["to"]): c["count"] for c in doc["roles"]["changes"]}
    assert changes[("sec", "qa")] == 1 and changes[("qa", "dev")] == 1
    # 2. commands: template runs and command.executed count as runs
    top = {c["command"]: c["count"] for c in doc["commands"]["top"]}
    assert top == {"/flow:implement": 2, "/flow:plan": 2, "/flow:validate": 1, "/flow:specify": 1}
    assert doc["commands"]["answer"].startswith("Top commands: /flow:implement (2)")
    # 3. security agents: the bare `secure-by-design-engineer` counts
    assert doc["security"]["per_role"]["(none)"]["invocation_share"]["numerator"] == 1
    # 4. handoffs: the pairs from context.from_agent/to_agent
    pairs = {(p["from"], p["to"]): p["clicked"] for p in doc["handoffs"]["pairs"]}
    assert pairs[("@pm-planner", "@software-architect")] == 1
    assert pairs[("@backend-engineer", "@qa-engineer")] == 2
    # 5. completion: runs without an end are reported, never in a rate
    completion = doc["completion"]
    assert completion["runs_without_end"] == 6
    assert completion["overall"]["denominator"] == 0
    assert "6 runs recorded by flowspec's earlier telemetry" in completion["answer"]
    assert doc["based_on"]["unknown_event_types"] == {"agent.progress": 1, "handoff.completed": 1}


def test_completion_rates_stay_comparable_beside_new_events(consented: Path) -> None:
    install_legacy(consented)
    tracker = Tracker()
    for _ in range(5):
        inv = "inv_01JDQ7ZK3M8W4X2Y6B9C0D1E2F"
        tracker.track(
            "command.started", command="/flow:implement", invocation_id=inv, project_root=consented
        )
        tracker.track(
            "command.completed",
            command="/flow:implement",
            invocation_id=inv,
            project_root=consented,
        )
    from flowspec_telemetry.analysis.insights import compute_insights

    doc = compute_insights(iter_events(consented)).to_json()
    row = next(r for r in doc["completion"]["commands"] if r["command"] == "/flow:implement")
    assert row["started"] == 5 and row["completed"] == 5 and row["runs_without_end"] == 2
    assert row["completion_rate"]["value"] == 1.0  # the legacy runs do not drag it down


@pytest.mark.parametrize(
    "args",
    [
        ("view", "--json", "--limit", "0"),
        ("view", "--limit", "0"),
        ("stats", "--json"),
        ("stats",),
        ("dashboard",),
        ("export", "--format", "json", "--output", "-"),
        ("export", "--format", "jsonl", "--output", "-"),
        ("export", "--format", "csv", "--output", "-"),
    ],
)
def test_no_reader_shows_the_host_name_hash_or_free_context(
    consented: Path, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...]
) -> None:
    install_legacy(consented)
    out = cli(consented, monkeypatch, *args)
    assert out.strip()
    assert_clean(out)


def test_html_report_and_share_report_hold_no_host_name_hash(
    consented: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_legacy(consented)
    cli(consented, monkeypatch, "report", "--html", "r.html")
    html = (consented / "r.html").read_text()
    assert "/flow:implement" in html
    assert_clean(html)
    # The share tables (format 1, which the weekly format-2 report is built from):
    from flowspec_telemetry.report.share import project_share_report

    share = project_share_report(consented, k=1)
    assert_clean(json.dumps(share))
    # legacy runs have no end: they are kept out of the share report's command tables
    assert share["tables"]["commands_started"]["rows"] == []
    assert share["tables"]["agent_invocations"]["rows"]  # the rest is counted


def test_new_events_append_after_legacy_history(consented: Path) -> None:
    install_legacy(consented)
    assert Tracker().track("role.selected", role="qa", project_root=consented)
    events = list(iter_events(consented))
    assert len(events) == 45 and "legacy_type" not in events[-1]
