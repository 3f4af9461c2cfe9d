"""`view`, `export`, `clear`, `stats`: run as users run them."""

from __future__ import annotations

import csv
import io
import json
import stat
from pathlib import Path

import pytest

from flowspec_telemetry.core import consent_rules

from ..conftest import run_cli
from ._events import event, write_history


def _lines(text: str) -> list[dict[str, object]]:
    return [json.loads(x) for x in text.splitlines() if x]


@pytest.mark.parametrize(
    "command", ["view", "export --format json --output -", "stats", "clear --force"]
)
def test_no_project_is_a_clear_exit_1(tmp_path: Path, command: str) -> None:
    result = run_cli(*command.split(), cwd=tmp_path)
    assert result.returncode == 1
    assert "not in a flowspec project" in result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_view_newest_last_with_filters_from_a_subfolder(project: Path) -> None:
    write_history(project, live=30, archives=(20, 20))
    sub = project / "src"
    sub.mkdir()
    rows = _lines(run_cli("view", "--json", "--limit", "5", cwd=sub).stdout)
    assert [r["event_id"] for r in rows] == [f"evt_{i:026d}" for i in range(65, 70)]
    rows = _lines(
        run_cli(
            "view", "--json", "-n", "40", "--type", "role.selected", "--role", "arch", cwd=sub
        ).stdout
    )
    assert rows and all(r["event_type"] == "role.selected" and r["role"] == "arch" for r in rows)
    assert [r["event_id"] for r in rows] == [f"evt_{i:026d}" for i in range(70) if i % 6 == 1]
    rows = _lines(
        run_cli(
            "view",
            "--json",
            "--since",
            "2026-11-02T00:00:10Z",
            "--until",
            "2026-11-02T00:00:13",
            cwd=sub,
        ).stdout
    )
    assert [r["timestamp"][-7:] for r in rows] == ["10.000Z", "11.000Z", "12.000Z"]
    everything = _lines(run_cli("view", "--json", "--limit", "0", cwd=sub).stdout)
    assert len(everything) == 70
    table = run_cli("view", cwd=sub)
    assert table.returncode == 0
    assert "agent.invoked" in table.stdout


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("view", "--limit", "-1"), "--limit"),
        (("view", "--type", "nope"), "unknown event type 'nope'"),
        (("view", "--since", "yesterday-ish"), "not a date"),
        (("stats", "--until", "2026-13-01"), "not a date"),
        (("stats", "--since", "2026-11-05", "--until", "2026-11-01"), "not after"),
        (("export", "--format", "xml", "--output", "x"), "xml"),
        (("export", "--format", "csv", "--output", "missing/dir/out.csv"), "does not exist"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_no_change(
    project: Path, args: tuple[str, ...], needle: str
) -> None:
    write_history(project, live=3)
    before = sorted(p.name for p in project.rglob("*"))
    result = run_cli(*args, cwd=project)
    assert result.returncode == 2, result.stderr
    assert needle in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in project.rglob("*")) == before


def test_hostile_values_never_reach_the_terminal_raw(project: Path) -> None:
    folder = project / ".flowspec"
    folder.mkdir()
    evil = "\x1b]8;;http://x\x07click\x1b[31mred\u202egnp.exe[bold]"
    line = json.dumps(event(0, role=evil, agent=evil, command="\x9b2J"))
    (folder / "telemetry.jsonl").write_text(line + "\n")
    for args in (
        ("view",),
        ("stats",),
        ("view", "--json"),
        ("stats", "--json"),
        ("export", "--format", "csv", "--output", "-"),
    ):
        result = run_cli(*args, cwd=project)
        assert result.returncode == 0, args
        for bad in ("\x1b", "\x07", "\u202e", "\x9b"):
            assert bad not in result.stdout, (args, bad)
    shown = run_cli("view", cwd=project, env={"COLUMNS": "300"}).stdout
    assert "\\x1b]8;;http://x\\x07click" in shown
    assert "[bold]" in shown  # not taken as markup


def test_export_all_formats_include_archives(project: Path, tmp_path: Path) -> None:
    write_history(project, live=4, archives=(3,))
    out = tmp_path / "out"
    out.mkdir()
    for fmt in ("json", "jsonl", "csv"):
        target = out / f"events.{fmt}"
        result = run_cli("export", "--format", fmt, "--output", str(target), cwd=project)
        assert result.returncode == 0, result.stderr
        assert "Exported 7 events" in result.stdout
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert len(json.loads((out / "events.json").read_text())) == 7
    assert len(_lines((out / "events.jsonl").read_text())) == 7
    rows = list(csv.DictReader(io.StringIO((out / "events.csv").read_text())))
    assert len(rows) == 7
    assert rows[0]["agent"] == "'@backend-engineer"
    assert rows[0]["context.os"] == "linux"
    # Refuses to overwrite without --force; --force replaces.
    target = out / "events.json"
    target.write_text("keep me")
    result = run_cli("export", "--format", "jsonl", "--output", str(target), cwd=project)
    assert result.returncode == 2
    assert "--force" in result.stderr
    assert target.read_text() == "keep me"
    result = run_cli("export", "-f", "jsonl", "-o", str(target), "--force", cwd=project)
    assert result.returncode == 0
    assert len(_lines(target.read_text())) == 7
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []
    stdout = run_cli("export", "--format", "jsonl", "--output", "-", cwd=project).stdout
    assert len(_lines(stdout)) == 7


def test_clear_refuses_without_tty_then_removes_everything(project: Path) -> None:
    consent_rules.write_record(
        consent_rules.project_config_path(project), consent_rules.new_record("yes")
    )
    assert run_cli("track", "role.selected", "--role", "dev", cwd=project).returncode == 0
    write_history(project, live=2, archives=(5,))
    folder = project / ".flowspec"
    (folder / "telemetry.jsonl.lock").write_text("")
    refused = run_cli("clear", cwd=project)
    assert refused.returncode == 2
    assert "--force" in refused.stderr
    assert (folder / "telemetry.salt").exists()
    result = run_cli("clear", "--force", cwd=project)
    assert result.returncode == 0, result.stderr
    assert "Removed 8 events" in result.stdout
    left = sorted(p.name for p in folder.iterdir())
    assert left == [".gitignore", "telemetry-config.json"]  # consent kept
    consent_rules.write_record(consent_rules.global_config_path(), consent_rules.new_record("no"))
    result = run_cli("clear", "--force", "--reset-consent", cwd=project)
    assert "Removed 0 events" in result.stdout
    assert "Forgot your answer for this project." in result.stdout
    assert "Your global answer is kept" in result.stdout
    assert not folder.exists()
    status = json.loads(run_cli("status", "--json", cwd=project).stdout)
    assert (status["rule"], status["consent"]["global"]["answer"]) == ("global_answer", "no")


def test_stats_exact_totals_window_and_skipped(project: Path) -> None:
    write_history(project, live=10, archives=(6,))
    with open(project / ".flowspec" / "telemetry.jsonl", "ab") as fh:
        fh.write(b"{torn\n\xff\xfe binary\n")
    data = json.loads(run_cli("stats", "--json", cwd=project).stdout)
    assert data["total"] == 16
    assert data["skipped_lines"] == 2
    assert data["by_type"] == {"agent.invoked": 6, "role.selected": 5, "command.started": 5}
    assert data["by_role"] == {"dev": 8, "arch": 8}
    assert data["top_commands"] == {"/flow:implement": 16}
    assert data["top_agents"] == {"@backend-engineer": 16}
    window = json.loads(
        run_cli(
            "stats",
            "--json",
            "--since",
            "2026-11-02T00:00:05Z",
            "--until",
            "2026-11-02T00:00:08Z",
            cwd=project,
        ).stdout
    )
    assert window["total"] == 3
    text = run_cli("stats", cwd=project).stdout
    assert "16 events" in text
    assert "Skipped lines (unreadable): 2" in text


def test_view_role_filter_matches_a_role_outside_the_catalog(consented: Path) -> None:
    from flowspec_telemetry.core.tracker import Tracker

    tracker = Tracker()
    tracker.track("role.selected", role="wizard", project_root=consented)
    tracker.track("role.selected", role="dev", project_root=consented)
    tracker.close()
    result = run_cli("view", "--role", "wizard", "--json", cwd=consented)
    assert result.returncode == 0, result.stderr
    [event] = [json.loads(x) for x in result.stdout.splitlines()]
    assert str(event["role"]).startswith("hmac:")
    assert "wizard" not in result.stdout
