"""`report --html` / `report --share`: run as users run them."""

from __future__ import annotations

import hashlib
import json
import stat
from pathlib import Path

import pytest

from flowspec_telemetry.core import consent_rules
from flowspec_telemetry.core.privacy import load_or_create_salt
from flowspec_telemetry.report.weekly import validate_weekly_report

from ..conftest import run_cli
from ..report._data import write_known


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_html_report_written_private(project: Path) -> None:
    write_known(project)
    result = run_cli("report", "--html", "r.html", cwd=project)
    assert result.returncode == 0, result.stderr
    page = project / "r.html"
    assert stat.S_IMODE(page.stat().st_mode) == 0o600
    text = page.read_text(encoding="utf-8")
    assert "<script" not in text and "Role usage report" in text
    again = run_cli("report", "--html", "r.html", cwd=project)
    assert again.returncode == 2 and "already exists" in again.stderr
    assert run_cli("report", "--html", "r.html", "--force", cwd=project).returncode == 0


def share_consented(root: Path, since: str = "2026-10-01T00:00:00Z") -> Path:
    """A project whose person agreed to record and, on `since`, to share (salt made)."""
    (root / ".flowspec").mkdir(mode=0o700, exist_ok=True)
    load_or_create_salt(root / ".flowspec")
    path = consent_rules.project_config_path(root)
    consent_rules.write_record(path, consent_rules.new_record("yes"))
    data = json.loads(path.read_text())
    data["share"] = {"answer": "yes", "decided_at": since, "notice_version": 1}
    path.write_text(json.dumps(data))
    return root


WEEK = "2026-W45"  # the known dataset's week (2 to 4 November 2026)


def test_share_preview_writes_nothing_and_matches_the_file(project: Path) -> None:
    write_known(share_consented(project))
    before = _snapshot(project)
    preview = run_cli("report", "--share", "s.json", "--preview", "--week", WEEK, cwd=project)
    assert preview.returncode == 0, preview.stderr
    assert _snapshot(project) == before
    data = json.loads(preview.stdout)
    assert validate_weekly_report(data) == []
    assert data["period"] == {"iso_week": WEEK, "start": "2026-11-02", "end": "2026-11-08"}
    written = run_cli("report", "--share", "s.json", "--week", WEEK, cwd=project)
    assert written.returncode == 0, written.stderr
    assert "recorded in the ledger" in written.stdout
    assert (project / "s.json").read_text() == preview.stdout  # the exact bytes reviewed
    assert stat.S_IMODE((project / "s.json").stat().st_mode) == 0o600


def test_a_week_is_shared_once_and_reprinted_from_the_ledger(project: Path) -> None:
    write_known(share_consented(project))
    sub = project / "out"
    sub.mkdir()
    first = run_cli("report", "--share", str(sub / "a.json"), "--week", WEEK, cwd=project)
    assert first.returncode == 0, first.stderr
    # more events of that week arrive, and a different epsilon is asked: still the same report
    with (project / ".flowspec" / "telemetry.jsonl").open("a") as fh:
        fh.write(
            json.dumps(
                {
                    "schema_version": "1.0",
                    "event_id": "evt_late",
                    "event_type": "command.started",
                    "timestamp": "2026-11-05T09:00:00.000Z",
                    "role": "dev",
                    "command": "/flow:implement",
                }
            )
            + "\n"
        )
    again = run_cli(
        "report", "--share", "out/b.json", "--week", WEEK, "--epsilon", "1", cwd=project
    )
    assert again.returncode == 0, again.stderr
    assert "already shared" in again.stdout and "no new epsilon" in again.stdout
    assert (sub / "a.json").read_bytes() == (sub / "b.json").read_bytes()
    ledger = project / ".flowspec" / "telemetry-shared.jsonl"
    assert stat.S_IMODE(ledger.stat().st_mode) == 0o600
    entries = [json.loads(x) for x in ledger.read_text().splitlines()]
    assert len(entries) == 1 and entries[0]["file"] == "a.json"  # a name, never a path
    assert entries[0]["sha256"] == hashlib.sha256((sub / "a.json").read_bytes()).hexdigest()
    assert entries[0]["iso_week"] == WEEK and entries[0]["epsilon"] == 4.0
    assert str(sub) not in ledger.read_text()
    shown = run_cli("view", "--shared", "--json", cwd=project)
    assert [json.loads(x)["sha256"] for x in shown.stdout.splitlines()] == [entries[0]["sha256"]]
    table = run_cli("view", "--shared", cwd=project)
    assert table.returncode == 0 and "a.json" in table.stdout and WEEK in table.stdout
    assert "epsilon" in table.stdout
    status = run_cli("status", "--json", cwd=project)
    info = json.loads(status.stdout)["shared"]
    assert info["count"] == 1 and info["last"]["file"] == "a.json"
    assert info["budget"]["epsilon_last_52_weeks"] == 4.0


def test_sharing_needs_its_own_consent(consented: Path) -> None:
    write_known(consented)
    before = _snapshot(consented)
    result = run_cli("report", "--share", "s.json", "--week", WEEK, cwd=consented)
    assert result.returncode == 1
    assert "sharing is off" in result.stderr and len(result.stderr.splitlines()) == 1
    preview = run_cli("report", "--share", "s.json", "--preview", "--week", WEEK, cwd=consented)
    assert preview.returncode == 1 and preview.stdout == ""
    assert _snapshot(consented) == before


def test_weeks_that_cannot_be_shared(project: Path) -> None:
    write_known(share_consented(project, since="2026-11-20T00:00:00Z"))
    before = _snapshot(project)
    early = run_cli("report", "--share", "s.json", "--week", WEEK, cwd=project)
    assert early.returncode == 2 and "before you agreed to share" in early.stderr
    future = run_cli("report", "--share", "s.json", "--week", "2099-W01", cwd=project)
    assert future.returncode == 2 and "not over yet" in future.stderr
    assert _snapshot(project) == before


def test_the_yearly_budget_refuses_a_report(project: Path) -> None:
    write_known(share_consented(project))
    env = {"FLOWSPEC_TELEMETRY_EPSILON_BUDGET": "6"}
    ok = run_cli("report", "--share", "a.json", "--week", WEEK, env=env, cwd=project)
    assert ok.returncode == 0, ok.stderr
    refused = run_cli("report", "--share", "b.json", "--week", "2026-W46", env=env, cwd=project)
    assert refused.returncode == 1 and "over the yearly budget 6" in refused.stderr
    assert not (project / "b.json").exists()
    smaller = run_cli(
        "report", "--share", "b.json", "--week", "2026-W46", "--epsilon", "2", env=env, cwd=project
    )
    assert smaller.returncode == 0, smaller.stderr


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--share", "s.json", "--k", "0"), "--k"),
        (("--share", "s.json", "--k", "-3"), "--k"),
        (("--share", "s.json", "--epsilon", "0"), "--epsilon"),
        (("--share", "s.json", "--epsilon", "-1"), "--epsilon"),
        (("--share", "s.json", "--epsilon", "nan"), "--epsilon"),
        (("--share", "s.json", "--epsilon", "0.12345"), "three decimals"),
        (("--share", "s.json", "--week", "2026-11-02"), "not an ISO week"),
        (("--share", "s.json", "--week", "2026-W54"), "has no week 54"),
        (("--share", "s.json", "--since", "2026-11-01"), "--week"),
        (("--html", "r.html", "--week", "2026-W45"), "--share"),
        (
            (
                "--share",
                "missing/s.json",
            ),
            "does not exist",
        ),
        (
            (
                "--html",
                "missing/r.html",
            ),
            "does not exist",
        ),
        (
            (
                "--html",
                "existing.txt",
            ),
            "already exists",
        ),
        (
            (
                "--share",
                "existing.txt",
            ),
            "already exists",
        ),
        (("--html", "r.html", "--share", "missing/s.json"), "does not exist"),
        (("--html", "r.html", "--since", "yesterday-ish"), "not a date"),
        (("--html", "r.html", "--preview"), "--preview"),
        ((), "--html"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_nothing_written(
    project: Path, args: tuple[str, ...], needle: str
) -> None:
    write_known(project)
    (project / "existing.txt").write_text("keep me")
    before = _snapshot(project)
    result = run_cli("report", *args, cwd=project)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert needle in result.stderr
    assert "Traceback" not in result.stderr
    assert _snapshot(project) == before


def test_outside_a_project_is_exit_1(tmp_path: Path) -> None:
    result = run_cli("report", "--html", "r.html", cwd=tmp_path)
    assert result.returncode == 1 and "not in a flowspec project" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_enable_and_disable_share_change_only_the_mode(consented: Path) -> None:
    before = run_cli("status", "--json", cwd=consented)
    assert json.loads(before.stdout)["shared"]["mode"]["mode"] == "local"
    on = run_cli("enable", "--share", cwd=consented)
    assert on.returncode == 0, on.stderr
    assert "Sharing is a second question" in on.stdout and "Mode now: share" in on.stdout
    shown = run_cli("status", cwd=consented)
    assert "Sharing: mode share (your answer to sharing for this project)" in shown.stdout
    # a week that ended before the yes is never shared
    early = run_cli("report", "--share", "s.json", "--week", "2026-W45", cwd=consented)
    assert early.returncode == 2 and "before you agreed to share" in early.stderr
    off = run_cli("disable", "--share", cwd=consented)
    assert off.returncode == 0 and "Mode now: local" in off.stdout
    record = json.loads(consent_rules.project_config_path(consented).read_text())
    assert record["enabled"] is True and record["share"]["answer"] == "no"  # recording kept


def test_enable_share_needs_a_yes_to_recording_first(project: Path) -> None:
    result = run_cli("enable", "--share", "--yes", cwd=project)
    assert result.returncode == 1 and "sharing needs a yes to recording" in result.stderr
    assert not consent_rules.project_config_path(project).exists()


def test_a_share_yes_in_a_git_tracked_record_does_not_count(project: Path) -> None:
    """The answer to sharing is trusted by the same rule as the answer to recording."""
    import subprocess

    consent_rules.write_record(consent_rules.global_config_path(), consent_rules.new_record("yes"))
    share_consented(project)  # the project's record: a yes to both questions
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    subprocess.run(
        ["git", "-C", str(project), "add", "-f", ".flowspec/telemetry-config.json"], check=True
    )
    info = json.loads(run_cli("status", "--json", cwd=project).stdout)
    assert info["enabled"] is True  # recording: the global yes
    assert info["shared"]["mode"]["mode"] == "local"  # sharing: the tracked yes is not yours
    refused = run_cli("report", "--share", "s.json", "--week", WEEK, cwd=project)
    assert refused.returncode == 1 and "sharing is off" in refused.stderr


@pytest.mark.parametrize("preview", [False, True])
def test_share_without_any_consent_creates_nothing(project: Path, preview: bool) -> None:
    """13.10: no `.flowspec/`, no salt, no ledger, no share file before a yes."""
    before = _snapshot(project)
    args = ("--share", "s.json", "--week", WEEK) + (("--preview",) if preview else ())
    result = run_cli("report", *args, cwd=project)
    assert result.returncode == 1, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert _snapshot(project) == before
    assert not (project / ".flowspec").exists() and not (project / "s.json").exists()


def test_a_failing_ledger_write_leaves_no_unrecorded_share(project: Path) -> None:
    """13.10: the share file is written only once the ledger holds its entry."""
    write_known(share_consented(project))
    (project / ".flowspec" / "telemetry-shared.jsonl").mkdir()  # the ledger cannot be appended
    result = run_cli("report", "--share", "s.json", "--week", WEEK, cwd=project)
    assert result.returncode == 1, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (project / "s.json").exists()
