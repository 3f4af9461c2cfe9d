"""`status`, `enable`, `disable`, `notice`, `schema`: run as users run them."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from flowspec_telemetry.core import consent_rules
from flowspec_telemetry.core.events import EVENT_TYPES, FIELDS, NEVER_COLLECTED

from ..conftest import run_cli
from ._events import write_history


def _status(cwd: Path, **env: str) -> dict[str, object]:
    result = run_cli("status", "--json", cwd=cwd, env=env)
    assert result.returncode == 0, result.stderr
    data: dict[str, object] = json.loads(result.stdout)
    return data


def test_status_outside_a_project_says_so_and_exits_zero(tmp_path: Path) -> None:
    result = run_cli("status", cwd=tmp_path)
    assert result.returncode == 0
    assert "Telemetry is OFF: not asked yet" in result.stdout
    assert "Project: none here" in result.stdout
    assert list(tmp_path.iterdir()) == []


def test_status_names_each_rule_with_the_env_prefix(project: Path) -> None:
    sub = project / "a" / "b"
    sub.mkdir(parents=True)
    assert _status(sub)["rule"] == "not_asked"
    data = _status(sub, DO_NOT_TRACK="1")
    assert (data["enabled"], data["rule"], data["reason"]) == (
        False,
        "do_not_track",
        "DO_NOT_TRACK is set",
    )
    data = _status(sub, FLOWSPEC_TELEMETRY_ENABLED="1")
    assert data["reason"] == "FLOWSPEC_TELEMETRY_ENABLED is set to yes in the environment"
    assert data["enabled"] is True
    data = _status(sub, FLOWSPEC_TELEMETRY_DISABLED="1")
    assert data["reason"] == "FLOWSPEC_TELEMETRY_DISABLED is set"
    assert data["project"] == str(project)
    assert data["notice_version"] == consent_rules.NOTICE_VERSION
    assert data["catalog_source"] == "flowspec_workflow.yml"


def test_status_team_policy_and_storage(project: Path) -> None:
    consent_rules.write_record(
        consent_rules.project_config_path(project), consent_rules.new_record("yes")
    )
    write_history(project, live=5, archives=(3,))
    data = _status(project)
    assert (data["enabled"], data["rule"]) == (True, "project_answer")
    storage = data["storage"]
    assert isinstance(storage, dict)
    assert storage["events"] == 8
    assert storage["archives"] == 1
    assert storage["bytes"] > 0
    assert storage["oldest"] == "2026-11-02T00:00:00.000Z"
    assert storage["newest"] == "2026-11-02T00:00:07.000Z"
    workflow = project / "flowspec_workflow.yml"
    workflow.write_text(workflow.read_text() + "\ntelemetry:\n  enabled: false\n")
    data = _status(project)
    assert (data["enabled"], data["rule"]) == (False, "team_policy")
    text = run_cli("status", cwd=project).stdout
    assert "team policy: flowspec_workflow.yml vetoes telemetry for everyone" in text
    assert "8 events" in text


def test_corrupt_config_is_one_line_exit_2_and_nothing_changes(project: Path) -> None:
    path = consent_rules.project_config_path(project)
    path.parent.mkdir()
    path.write_text("{not json")
    before = sorted(p.name for p in path.parent.iterdir())
    for args in (
        ("status",),
        ("enable", "--yes", "--project"),
        ("disable", "--project"),
        ("enable", "-y"),
    ):
        result = run_cli(*args, cwd=project)
        assert result.returncode == 2, args
        assert len(result.stderr.strip().splitlines()) == 1
        assert "is corrupt (not valid JSON); fix it or delete it" in result.stderr
        assert "Traceback" not in result.stderr
    assert path.read_text() == "{not json"
    assert sorted(p.name for p in path.parent.iterdir()) == before
    assert not consent_rules.global_config_path().exists()
    # Saying no for yourself everywhere is never blocked by a corrupt project record.
    result = run_cli("disable", cwd=project)
    assert result.returncode == 0, result.stderr
    record = consent_rules.read_record(consent_rules.global_config_path())
    assert record is not None and record.enabled is False
    assert path.read_text() == "{not json"


def test_enable_shows_notice_records_and_names_what_overrides(project: Path) -> None:
    result = run_cli("enable", cwd=project)
    assert result.returncode == 0
    assert "privacy notice" in result.stdout
    assert "Telemetry enabled for you (every project)" in result.stdout
    record = consent_rules.read_record(consent_rules.global_config_path())
    assert record is not None
    assert (record.enabled, record.notice_version) == (True, consent_rules.NOTICE_VERSION)
    assert record.decided_at.endswith("Z")

    result = run_cli("enable", "--yes", "--project", cwd=project, env={"DO_NOT_TRACK": "1"})
    assert result.returncode == 0
    assert "privacy notice" not in result.stdout
    assert "Telemetry enabled for this project" in result.stdout
    assert "But it is still off here: DO_NOT_TRACK is set." in result.stdout

    result = run_cli("disable", cwd=project)
    assert "Telemetry disabled for you (every project)" in result.stdout
    # The project's yes also switched flowspec's own writer on: the no is written there too.
    assert "Also recorded no in " in result.stdout
    assert "It is now off here (your answer for this project)." in result.stdout
    result = run_cli("disable", "--project", cwd=project)
    assert "It is now off here (your answer for this project)." in result.stdout
    record = consent_rules.read_record(consent_rules.project_config_path(project))
    assert record is not None
    assert record.answer == "no"


def test_enable_project_outside_a_project_fails_cleanly(tmp_path: Path) -> None:
    result = run_cli("enable", "--yes", "--project", cwd=tmp_path)
    assert result.returncode == 1
    assert "not in a flowspec project" in result.stderr
    assert list(tmp_path.iterdir()) == []
    both = run_cli("disable", "--global", "--project", cwd=tmp_path)
    assert both.returncode == 2


def test_notice_and_schema_come_from_the_one_definition(tmp_path: Path) -> None:
    text = run_cli("notice", cwd=tmp_path).stdout
    for item in NEVER_COLLECTED:
        assert item in text
    for field in FIELDS:
        assert f"- {field.name}:" in text
    assert '"event_type":"agent.invoked"' in text
    data = json.loads(run_cli("schema", "--json", cwd=tmp_path).stdout)
    assert [t["event_type"] for t in data["event_types"]] == [e.value for e in EVENT_TYPES]
    assert [f["name"] for f in data["fields"]] == [f.name for f in FIELDS]
    assert data["never_collected"] == list(NEVER_COLLECTED)
    assert {f["sensitivity"] for f in data["fields"]} >= {"keyed hash"}
    table = run_cli("schema", cwd=tmp_path)
    assert table.returncode == 0
    assert "handoff.clicked" in table.stdout


def test_the_app_mounts_in_a_host_cli(project: Path, monkeypatch: object) -> None:
    from flowspec_telemetry.cli import app

    host = typer.Typer()

    @host.command()
    def init() -> None:
        """The host's own command."""

    host.add_typer(app, name="telemetry")
    runner = CliRunner()
    import os

    old = os.getcwd()
    os.chdir(project)
    try:
        result = runner.invoke(host, ["telemetry", "status", "--json"])
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["rule"] == "not_asked"
        result = runner.invoke(host, ["telemetry", "enable", "--yes", "--project"])
        assert result.exit_code == 0
        assert consent_rules.read_record(consent_rules.project_config_path(project)) is not None
        assert runner.invoke(host, ["telemetry", "--help"]).exit_code == 0
    finally:
        os.chdir(old)
