"""`audit`: every promise checked on real files, each finding provoked for real."""

from __future__ import annotations

import hashlib
import json
import os
import socket
from pathlib import Path

import pytest

from flowspec_telemetry.core.privacy import load_or_create_salt
from flowspec_telemetry.report import sharing
from flowspec_telemetry.report.audit import audit_project, personal_values

from ..conftest import run_cli

CORPUS = Path(__file__).parent.parent / "data" / "pii-corpus.tsv"


def _corpus() -> list[tuple[str, str]]:
    rows = []
    for raw in CORPUS.read_text(encoding="utf-8").splitlines():
        if raw and not raw.startswith("#"):
            kind, value = raw.split("\t", 1)
            rows.append((kind, value))
    return rows


@pytest.fixture
def recorded(tmp_path: Path) -> Path:
    """A project named like the corpus's project, with its git remote and user, and one event."""
    values = dict(_corpus())
    root = tmp_path / values["project-name"]
    (root / ".git").mkdir(parents=True)
    (root / ".git" / "config").write_text(
        f'[remote "origin"]\n\turl = {values["git-remote"]}\n[user]\n\tname = {values["username"]}\n'
    )
    (root / "flowspec_workflow.yml").write_text("")
    env = {"FLOWSPEC_TELEMETRY_ENABLED": "1"}
    done = run_cli("track", "role.selected", "--role", "dev", "-q", cwd=root, env=env)
    assert done.returncode == 0, done.stderr
    return root


def _append(root: Path, obj: dict[str, object]) -> None:
    with (root / ".flowspec" / "telemetry.jsonl").open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(obj) + "\n")


def test_a_clean_project_has_no_finding(recorded: Path) -> None:
    result = run_cli("audit", cwd=recorded)
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert "no finding" in result.stdout
    data = json.loads(run_cli("audit", "--json", cwd=recorded).stdout)
    assert data["ok"] is True and data["findings"] == []
    assert any(f.endswith("telemetry.jsonl") for f in data["files"])
    assert set(data) == {"audit_version", "files", "findings", "ok", "shared", "budget"}


@pytest.mark.parametrize(("kind", "value"), _corpus())
def test_every_pii_corpus_value_in_a_written_file_is_a_finding(
    recorded: Path, kind: str, value: str
) -> None:
    _append(
        recorded, {"schema_version": "1.0", "event_type": "command.started", "note": f"x {value} y"}
    )
    result = audit_project(recorded)
    assert not result["ok"], (kind, result)
    assert any(f["file"].endswith("telemetry.jsonl") for f in result["findings"])


def test_unkeyed_hashes_of_this_machine_are_findings(recorded: Path) -> None:
    host = socket.gethostname()
    digest = hashlib.sha256(host.encode()).hexdigest()
    _append(
        recorded,
        {"schema_version": "1.0", "event_type": "agent.invoked", "agent": f"hmac:{digest[:16]}"},
    )
    folder_hash = hashlib.md5(recorded.resolve().name.encode()).hexdigest()  # noqa: S324
    _append(recorded, {"schema_version": "1.0", "event_type": "agent.invoked", "x": folder_hash})
    kinds = {(f["kind"], f["detail"]) for f in audit_project(recorded)["findings"]}
    assert ("unkeyed hash", "a plain SHA-256 cut to 16 hex digits of the host name") in kinds
    assert ("unkeyed hash", "a plain MD5 of the project folder name") in kinds
    # the keyed hash of the same value is not a finding
    from flowspec_telemetry.core.privacy import hash_value

    salt = load_or_create_salt(recorded / ".flowspec")
    clean = recorded.parent / "clean"
    clean.mkdir()
    assert hash_value(host, salt) != f"hmac:{digest[:16]}"


def test_legacy_hostname_hash_is_a_finding_fixed_by_migrate(recorded: Path) -> None:
    _append(
        recorded,
        {
            "event_type": "role.selected",
            "timestamp": "2026-01-01T00:00:00+00:00",
            "role": "dev",
            "metadata": {"hostname_hash": hashlib.sha256(b"unknown").hexdigest()[:12]},
        },
    )
    findings = audit_project(recorded, migrate_available=True)["findings"]
    legacy = [f for f in findings if f["kind"] == "legacy host-name hash"]
    assert legacy and legacy[0]["fix"] == "run `flowspec-telemetry migrate`"
    assert audit_project(recorded, migrate_available=False)["findings"][0]["fix"] == "run `clear`"


def test_file_modes_and_the_shared_copies(recorded: Path) -> None:
    os.chmod(recorded / ".flowspec" / "telemetry.jsonl", 0o644)
    os.chmod(recorded / ".flowspec", 0o750)  # noqa: S103 - the finding provoked
    kinds = [f["kind"] for f in audit_project(recorded)["findings"]]
    assert kinds.count("mode") == 2
    os.chmod(recorded / ".flowspec" / "telemetry.jsonl", 0o600)
    os.chmod(recorded / ".flowspec", 0o700)
    from datetime import UTC, datetime

    prepared = sharing.prepare_week(
        recorded,
        week="2026-W40",
        share_since="2026-01-01T00:00:00Z",
        now=datetime(2026, 12, 1, tzinfo=UTC),
    )
    sharing.record_week(recorded, prepared, file_name="w40.json")
    ok = audit_project(recorded)
    assert ok["ok"], ok["findings"]
    assert [s["iso_week"] for s in ok["shared"]] == ["2026-W40"]
    assert ok["budget"]["epsilon_last_52_weeks"] == 0.0 or ok["budget"]["weekly_reports"] == 1
    copy = recorded / ".flowspec" / "telemetry-shared" / "2026-W40.json"
    copy.write_bytes(copy.read_bytes() + b" ")
    assert [f["kind"] for f in audit_project(recorded)["findings"]] == ["shared copy"]


def test_named_exports_are_audited_and_the_cli_exits_1(recorded: Path) -> None:
    export = recorded / "usage.csv"
    export.write_text("role,command\ndev,/home/jsmith/secret\n")
    result = run_cli("audit", str(export), cwd=recorded)
    assert result.returncode == 1
    assert "FINDING" in result.stdout and "usage.csv" in result.stdout
    missing = run_cli("audit", "nope.csv", cwd=recorded)
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1


def test_personal_values_include_the_git_remote(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    (root / ".git").mkdir(parents=True)
    (root / ".git" / "config").write_text(
        '[remote "origin"]\n\turl = git@github.com:acme/secret-app.git\n'
    )
    values = personal_values(root)
    assert "git@github.com:acme/secret-app.git" in values.values()
    assert values["project folder name"] == "proj"
