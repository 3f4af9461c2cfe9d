"""`status`: the data `status` shows for each rule and each state of the store."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest

from flowspec_telemetry.consent import status
from flowspec_telemetry.consent.status import count_lines, gather, storage
from flowspec_telemetry.core import consent_rules
from flowspec_telemetry.core.consent_rules import NOTICE_VERSION, ConsentRecord
from flowspec_telemetry.core.roles import load_catalog
from flowspec_telemetry.core.tracker import Tracker

ENV_KEYS = ["DO_NOT_TRACK", "FLOWSPEC_TELEMETRY_DISABLED", "FLOWSPEC_TELEMETRY_ENABLED"]


def line(ts: str) -> bytes:
    return f'{{"schema_version":"1.0","event_type":"role.selected","timestamp":"{ts}"}}\n'.encode()


def test_not_asked_in_a_fresh_project(project: Path) -> None:
    data = gather(project)
    assert data == {
        "enabled": False,
        "rule": "not_asked",
        "reason": "not asked yet (telemetry is off until you say yes)",
        "environment": dict.fromkeys(ENV_KEYS),
        "project": str(project),
        "consent": {"project": None, "global": None},
        "notice_version": NOTICE_VERSION,
        "catalog_source": "flowspec_workflow.yml",
        "team_policy": True,
        "catalog": load_catalog(project).summary(),
        "team_policy_detail": {
            "file": "flowspec_workflow.yml",
            "key": "telemetry.enabled",
            "value": "true",
            "allows": True,
        },
        "storage": {
            "folder": str(project / ".flowspec"),
            "events_file": str(project / ".flowspec" / "telemetry.jsonl"),
            "archives": 0,
            "events": 0,
            "bytes": 0,
            "oldest": None,
            "newest": None,
        },
        "problems": [],
        "tightened": [],
        "shared": {
            "count": 0,
            "last": None,
            "mode": {
                "mode": "off",
                "rule": "not asked yet (telemetry is off until you say yes)",
                "share_since": None,
            },
            "budget": {
                "weekly_reports": 0,
                "epsilon_last_52_weeks": 0.0,
                "budget": 208.0,
                "remaining": 208.0,
                "legacy_reports": 0,
            },
        },
        "warnings": [],
        "flowspec_module": {
            "path": str(project / ".flowspec" / "telemetry-config.json"),
            "reads_enabled": False,
            "writer_on": False,
            "agrees": True,
            "installed": data["flowspec_module"]["installed"],
        },
    }
    assert not (project / ".flowspec").exists()  # status creates nothing


def test_outside_a_project(tmp_path: Path) -> None:
    data = gather(None)
    assert data["project"] is None
    assert data["catalog_source"] is None
    assert data["team_policy"] is None
    assert data["catalog"] is None and data["team_policy_detail"] is None
    assert data["storage"] is None
    assert data["shared"] is None
    assert list(data["consent"]) == ["global"]
    assert (data["rule"], data["enabled"]) == ("not_asked", False)


def test_project_answer(consented: Path) -> None:
    data = gather(consented)
    assert (data["enabled"], data["rule"], data["reason"]) == (
        True,
        "project_answer",
        "your answer for this project",
    )
    record = data["consent"]["project"]
    assert record["path"] == str(consent_rules.project_config_path(consented))
    assert (record["enabled"], record["answer"], record["current"]) == (True, "yes", True)
    assert record["notice_version"] == NOTICE_VERSION
    assert data["consent"]["global"] is None


def test_global_answer_and_an_older_notice(project: Path) -> None:
    consent_rules.write_record(consent_rules.global_config_path(), consent_rules.new_record("yes"))
    old = ConsentRecord(False, "2020-01-01T00:00:00Z", 0, "no")
    consent_rules.write_record(consent_rules.project_config_path(project), old)
    data = gather(project)
    # A no counts whatever its notice version: it is never "not asked".
    assert (data["enabled"], data["rule"]) == (False, "project_answer")
    assert data["consent"]["project"]["current"] is False
    assert data["consent"]["global"]["current"] is True
    old_yes = ConsentRecord(True, "2020-01-01T00:00:00Z", 0, "yes")
    consent_rules.write_record(consent_rules.project_config_path(project), old_yes)
    data = gather(project)
    # A yes for an older notice means "ask again": the global yes decides.
    assert (data["enabled"], data["rule"]) == (True, "global_answer")
    assert data["consent"]["project"]["counts"] is False


@pytest.mark.parametrize(
    ("env", "enabled", "rule"),
    [
        ({"DO_NOT_TRACK": "1"}, False, "do_not_track"),
        ({"FLOWSPEC_TELEMETRY_DISABLED": "true"}, False, "env_disabled"),
        ({"FLOWSPEC_TELEMETRY_ENABLED": "yes"}, True, "env_enabled"),
        ({"FLOWSPEC_TELEMETRY_ENABLED": "0"}, False, "env_not_enabled"),
        ({"FLOWSPEC_TELEMETRY_ENABLED": "maybe"}, True, "project_answer"),  # not a yes or no
    ],
)
def test_environment_rules_through_environ(
    consented: Path, env: dict[str, str], enabled: bool, rule: str
) -> None:
    data = gather(consented, environ=env)
    assert (data["enabled"], data["rule"]) == (enabled, rule)
    assert data["environment"] == {k: env.get(k) for k in ENV_KEYS}


def test_environment_rules_through_the_process(
    consented: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLOWSPEC_TELEMETRY_DISABLED", "1")
    data = gather(consented)
    assert data["rule"] == "env_disabled"
    assert data["reason"] == "FLOWSPEC_TELEMETRY_DISABLED is set"
    assert data["environment"]["FLOWSPEC_TELEMETRY_DISABLED"] == "1"


def test_team_policy(consented: Path) -> None:
    path = consented / "flowspec_workflow.yml"
    path.write_text(path.read_text().replace("enabled: true", "enabled: false"))
    data = gather(consented)
    assert (data["enabled"], data["rule"], data["team_policy"]) == (False, "team_policy", False)
    assert data["reason"] == "team policy: flowspec_workflow.yml vetoes telemetry for everyone"


def test_a_malformed_workflow_file_names_the_default_catalog(project: Path) -> None:
    (project / "flowspec_workflow.yml").write_text("roles: [unclosed\n")
    data = gather(project)
    assert data["catalog_source"].startswith("built-in catalog (")
    assert data["team_policy"] is None


def test_a_corrupt_record_is_a_warning_not_an_error(project: Path) -> None:
    path = consent_rules.project_config_path(project)
    path.parent.mkdir()
    path.write_text("[]")
    data = gather(project)
    assert data["consent"]["project"] == {
        "path": str(path),
        "corrupt": True,
        "reason": "a JSON list, not an object",
    }
    assert len(data["warnings"]) == 1
    assert str(path) in data["warnings"][0] and "corrupt" in data["warnings"][0]
    # Fail closed: the unreadable record may have been a no.
    assert (data["enabled"], data["rule"]) == (False, "unreadable_answer")


def test_storage_counts_lines_archives_and_ends(consented: Path) -> None:
    folder = consented / ".flowspec"
    (folder / "telemetry-20261101-1.jsonl.gz").write_bytes(
        gzip.compress(b"garbage\n" + line("2026-11-01T08:00:00.000Z") * 2)
    )
    (folder / "telemetry.jsonl").write_bytes(
        line("2026-11-02T08:00:00.000Z") + line("2026-11-03T08:00:00.000Z") + b"{torn"
    )
    data = storage(consented)
    assert data["archives"] == 1
    assert data["events"] == 6  # lines, not parsed events: the fast count
    assert data["oldest"] == "2026-11-01T08:00:00.000Z"  # the first readable line
    assert data["newest"] == "2026-11-03T08:00:00.000Z"
    assert data["bytes"] == sum(
        os.path.getsize(folder / n) for n in ("telemetry-20261101-1.jsonl.gz", "telemetry.jsonl")
    )


def test_storage_of_events_without_a_timestamp(consented: Path) -> None:
    (consented / ".flowspec" / "telemetry.jsonl").write_bytes(
        b'{"event_type":"role.selected","timestamp":17}\n'
    )
    data = storage(consented)
    assert (data["events"], data["oldest"], data["newest"]) == (1, None, None)


def test_storage_after_real_tracking(consented: Path) -> None:
    tracker = Tracker()
    for _ in range(3):
        assert tracker.track("role.selected", role="dev", project_root=consented)
    data = gather(consented)["storage"]
    assert data["events"] == 3
    assert data["oldest"] is not None and data["oldest"] <= data["newest"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [(b"", 0), (b"a", 1), (b"a\n", 1), (b"a\nb", 2), (b"\n\n", 2), (b"a\n" * 5, 5)],
)
def test_count_lines(tmp_path: Path, content: bytes, expected: int) -> None:
    plain = tmp_path / "x.jsonl"
    plain.write_bytes(content)
    packed = tmp_path / "x.jsonl.gz"
    packed.write_bytes(gzip.compress(content))
    assert count_lines(plain) == expected
    assert count_lines(packed) == expected


def test_count_lines_of_a_missing_or_damaged_file(tmp_path: Path) -> None:
    assert count_lines(tmp_path / "absent") == 0
    damaged = tmp_path / "d.jsonl.gz"
    damaged.write_bytes(gzip.compress(b"a\n" * (1 << 20))[:-12])  # truncated: no trailer
    assert count_lines(damaged) == 1 << 19  # the whole blocks before the damage
    (tmp_path / "bad.gz").write_bytes(b"not gzip at all")
    assert count_lines(tmp_path / "bad.gz") == 0


def test_a_symlinked_live_file_is_a_problem_not_read(tmp_path: Path, consented: Path) -> None:
    target = tmp_path / "t.jsonl"
    target.write_bytes(line("2026-11-01T08:00:00.000Z"))
    (consented / ".flowspec" / "telemetry.jsonl").symlink_to(target)
    data = gather(consented)
    assert data["storage"] is None
    assert len(data["problems"]) == 1
    assert "is a symbolic link, not a file" in data["problems"][0]


def test_loose_modes_are_tightened_and_reported(consented: Path) -> None:
    live = consented / ".flowspec" / "telemetry.jsonl"
    live.write_bytes(line("2026-11-01T08:00:00.000Z"))
    live.chmod(0o644)
    data = gather(consented)
    assert len(data["tightened"]) == 1
    assert "from mode 0644 to 0600" in data["tightened"][0]
    assert live.stat().st_mode & 0o777 == 0o600
    assert gather(consented)["tightened"] == []


def test_an_unreadable_store_is_a_problem_not_a_traceback(
    consented: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(status, "storage", refuse)
    data = gather(consented)
    assert data["storage"] is None
    assert data["problems"] == ["cannot read the stored events: Permission denied"]
