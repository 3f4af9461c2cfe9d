"""`report --html` / `report --share`: run as users run them."""

from __future__ import annotations

import hashlib
import json
import stat
from pathlib import Path

import pytest

from flowspec_telemetry.report.share import validate_share_report

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


def test_share_preview_writes_nothing_and_matches_the_file(project: Path) -> None:
    write_known(project)
    before = _snapshot(project)
    preview = run_cli("report", "--share", "s.json", "--preview", "--k", "2", cwd=project)
    assert preview.returncode == 0, preview.stderr
    assert _snapshot(project) == before
    data = json.loads(preview.stdout)
    assert validate_share_report(data) == []
    written = run_cli("report", "--share", "s.json", "--k", "2", cwd=project)
    assert written.returncode == 0, written.stderr
    assert "recorded in the ledger" in written.stdout
    blob = (project / "s.json").read_bytes()
    # identical but for the day it was made (the run may cross midnight)
    assert json.loads(blob) | {"generated_on": 0} == data | {"generated_on": 0}
    assert stat.S_IMODE((project / "s.json").stat().st_mode) == 0o600


def test_ledger_records_each_share_with_its_sha256(project: Path) -> None:
    write_known(project)
    sub = project / "out"
    sub.mkdir()
    assert run_cli("report", "--share", str(sub / "a.json"), cwd=project).returncode == 0
    r = run_cli(
        "report",
        "--share",
        "out/b.json",
        "--epsilon",
        "1.5",
        "--since",
        "2026-11-03",
        "--until",
        "2026-11-05",
        cwd=project,
    )
    assert r.returncode == 0, r.stderr
    ledger = project / ".flowspec" / "telemetry-shared.jsonl"
    assert stat.S_IMODE(ledger.stat().st_mode) == 0o600
    entries = [json.loads(x) for x in ledger.read_text().splitlines()]
    assert [e["file"] for e in entries] == ["a.json", "b.json"]  # names, never paths
    assert entries[0]["sha256"] == hashlib.sha256((sub / "a.json").read_bytes()).hexdigest()
    assert entries[1]["sha256"] == hashlib.sha256((sub / "b.json").read_bytes()).hexdigest()
    assert entries[1]["period"] == {"start": "2026-11-03", "end": "2026-11-05"}
    assert (entries[0]["k"], entries[0]["epsilon"], entries[1]["epsilon"]) == (5, None, 1.5)
    assert str(sub) not in ledger.read_text()
    shown = run_cli("view", "--shared", "--json", cwd=project)
    assert [json.loads(x)["sha256"] for x in shown.stdout.splitlines()] == [
        e["sha256"] for e in entries
    ]
    table = run_cli("view", "--shared", cwd=project)
    assert table.returncode == 0 and "b.json" in table.stdout
    status = run_cli("status", "--json", cwd=project)
    info = json.loads(status.stdout)["shared"]
    assert info["count"] == 2 and info["last"]["file"] == "b.json"
    assert "Share reports written: 2 (last: b.json" in run_cli("status", cwd=project).stdout


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--share", "s.json", "--k", "0"), "--k"),
        (("--share", "s.json", "--k", "-3"), "--k"),
        (("--share", "s.json", "--epsilon", "0"), "--epsilon"),
        (("--share", "s.json", "--epsilon", "-1"), "--epsilon"),
        (("--share", "s.json", "--epsilon", "nan"), "--epsilon"),
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
