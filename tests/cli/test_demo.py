"""`flowspec-telemetry demo`: the README's first command."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from flowspec_telemetry import iter_events
from flowspec_telemetry.core.store import ReadStats

from ..conftest import run_cli


def test_demo_builds_a_project_with_a_multi_day_history(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    result = run_cli("demo", str(folder))
    assert result.returncode == 0, result.stderr
    stats = ReadStats()
    events = list(iter_events(folder, stats=stats))
    assert stats.skipped == 0
    assert len(events) > 1000
    assert f"with {len(events)} events" in result.stdout
    days = {str(e["timestamp"])[:10] for e in events}
    assert len(days) >= 10
    roles = {e["role"] for e in events}
    assert {"dev", "arch", "sec", "qa", "ops"} <= roles
    types = {e["event_type"] for e in events}
    assert {"role.selected", "agent.invoked", "handoff.offered", "handoff.clicked",
            "command.started", "command.completed", "command.failed"} <= types  # fmt: skip
    assert "/flow:implement" in result.stdout
    assert "selected most at init" in result.stdout
    assert "of started commands completed" in result.stdout
    html = folder / "flowspec-telemetry-report.html"
    assert f"HTML dashboard: {html}" in result.stdout
    page = html.read_text()
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page.lower()
    assert (html.stat().st_mode & 0o777) == 0o600
    # Consent was given for the demo folder only.
    assert (folder / ".flowspec" / "telemetry-config.json").exists()
    assert not (Path.home() / ".config" / "flowspec").exists()


def test_demo_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    result = run_cli("demo", str(tmp_path))
    assert result.returncode == 2
    assert "not an empty folder" in result.stderr
    assert result.stderr.count("\n") == 1
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_demo_without_a_folder_uses_a_new_temporary_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The temporary folder goes under this test's own tmp_path (TMPDIR for a
    # process, tempfile's cached folder in-process), so no run leaves a
    # flowspec-telemetry-demo-* folder behind in the real temp directory.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    result = run_cli("demo", env={"TMPDIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    line = next(x for x in result.stdout.splitlines() if x.startswith("Built a demo project in "))
    folder = Path(line.removeprefix("Built a demo project in ").split(" with ")[0])
    assert folder.parent == tmp_path
    assert folder.name.startswith("flowspec-telemetry-demo-")
    assert (folder / ".flowspec" / "telemetry.jsonl").exists()


def test_demo_in_the_current_folder_prints_a_working_url_and_no_cd(tmp_path: Path) -> None:
    here = tmp_path / "here"
    here.mkdir()
    result = run_cli("demo", ".", cwd=here)
    assert result.returncode == 0, result.stderr
    page = here / "flowspec-telemetry-report.html"
    assert page.exists()
    assert f"({page.as_uri()})" in result.stdout  # file:///.../flowspec-telemetry-report.html
    assert "file://flowspec-telemetry-report.html" not in result.stdout
    assert "cd ." not in result.stdout and "  cd " not in result.stdout
    assert f"Built a demo project in {here} with" in result.stdout


def test_demo_is_built_even_when_the_person_opted_out(tmp_path: Path) -> None:
    result = run_cli("demo", str(tmp_path / "d"), env={"DO_NOT_TRACK": "1"})
    assert result.returncode == 0, result.stderr
    assert "DO_NOT_TRACK is set: that keeps tracking of you off" in result.stdout
    assert " with 0 events" not in result.stdout
