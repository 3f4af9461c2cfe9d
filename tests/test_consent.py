"""The layered consent rule: each rule, their order, and damaged records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flowspec_telemetry.core import consent_rules
from flowspec_telemetry.core.consent_rules import (
    ConsentFileError,
    ConsentRecord,
    Rule,
    decide,
    global_config_path,
    new_record,
    project_config_path,
    read_record,
    write_record,
)


def _say(path: Path, answer: str) -> None:
    write_record(path, new_record(answer))


def test_default_is_off_and_not_asked(project: Path) -> None:
    decision = decide(project, environ={})
    assert (decision.enabled, decision.rule) == (False, Rule.NOT_ASKED)
    assert not (project / ".flowspec").exists()


@pytest.mark.parametrize(
    ("env", "enabled", "rule"),
    [
        ({"DO_NOT_TRACK": "1"}, False, Rule.DO_NOT_TRACK),
        ({"DO_NOT_TRACK": "true", "FLOWSPEC_TELEMETRY_ENABLED": "1"}, False, Rule.DO_NOT_TRACK),
        (
            {"FLOWSPEC_TELEMETRY_DISABLED": "1", "FLOWSPEC_TELEMETRY_ENABLED": "1"},
            False,
            Rule.ENV_DISABLED,
        ),
        ({"FLOWSPEC_TELEMETRY_ENABLED": "1"}, True, Rule.ENV_ENABLED),
        ({"FLOWSPEC_TELEMETRY_ENABLED": "0"}, False, Rule.ENV_NOT_ENABLED),
        ({"DO_NOT_TRACK": "0"}, True, Rule.PROJECT_ANSWER),
    ],
)
def test_environment_rules_come_first(
    consented: Path, env: dict[str, str], enabled: bool, rule: Rule
) -> None:
    decision = decide(consented, environ=env)
    assert (decision.enabled, decision.rule) == (enabled, rule)


def test_env_enabled_beats_team_veto_but_do_not_track_beats_all(project: Path) -> None:
    veto = lambda: False  # noqa: E731
    assert decide(project, team_allows=veto, environ={"FLOWSPEC_TELEMETRY_ENABLED": "1"}).enabled
    assert not decide(
        project, team_allows=veto, environ={"FLOWSPEC_TELEMETRY_ENABLED": "1", "DO_NOT_TRACK": "1"}
    ).enabled


def test_team_veto_overrides_a_yes_and_a_team_yes_never_opts_in(
    consented: Path, project: Path
) -> None:
    vetoed = decide(consented, team_allows=lambda: False, environ={})
    assert (vetoed.enabled, vetoed.rule) == (False, Rule.TEAM_POLICY)
    assert "flowspec_workflow.yml" in vetoed.reason
    lazy = decide(consented, team_allows=lambda: False, environ={}, lazy_policy=True)
    assert (lazy.enabled, lazy.rule) == (False, Rule.TEAM_POLICY)


def test_lazy_policy_is_not_read_when_the_person_said_no(project: Path) -> None:
    calls: list[int] = []

    def allows() -> bool:
        calls.append(1)
        return True

    assert not decide(project, team_allows=allows, environ={}, lazy_policy=True).enabled
    assert calls == []
    assert not decide(project, team_allows=allows, environ={}).enabled
    assert calls == [1]


def test_project_answer_beats_global_answer(project: Path) -> None:
    _say(global_config_path(), "yes")
    assert decide(project, environ={}).rule == Rule.GLOBAL_ANSWER
    assert decide(project, environ={}).enabled
    _say(project_config_path(project), "no")
    decision = decide(project, environ={})
    assert (decision.enabled, decision.rule) == (False, Rule.PROJECT_ANSWER)


def test_global_answer_applies_without_a_project() -> None:
    _say(global_config_path(), "yes")
    assert decide(None, environ={}).enabled


def test_answer_for_an_older_notice_counts_as_not_asked(project: Path) -> None:
    record = ConsentRecord(True, "2025-01-01T00:00:00Z", consent_rules.NOTICE_VERSION - 1)
    write_record(project_config_path(project), record)
    decision = decide(project, environ={})
    assert (decision.enabled, decision.rule) == (False, Rule.NOT_ASKED)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "a JSON list"),
        (b'{"enabled": "yes"}', "`enabled`"),
        (b'{"enabled": true, "notice_version": "1"}', "notice_version"),
        (b"\xff\xfe\x00", "not valid JSON"),
    ],
)
def test_corrupt_record_is_off_with_a_warning_that_says_how_to_fix(
    project: Path, content: bytes, reason: str
) -> None:
    path = project_config_path(project)
    path.parent.mkdir()
    path.write_bytes(content)
    with pytest.raises(ConsentFileError, match="corrupt"):
        read_record(path)
    decision = decide(project, environ={})
    assert not decision.enabled
    assert decision.warning is not None
    assert reason in decision.warning
    assert "delete it" in decision.warning
    assert path.read_bytes() == content  # never rewritten behind the person's back


def test_corrupt_project_record_keeps_telemetry_off_even_with_a_global_yes(
    project: Path,
) -> None:
    # Fail closed: the unreadable record may have been a no (flowspec's module reads
    # such a file as "disabled" too, so both tools agree).
    path = project_config_path(project)
    path.parent.mkdir()
    path.write_text("garbage")
    _say(global_config_path(), "yes")
    decision = decide(project, environ={})
    assert (decision.enabled, decision.rule) == (False, Rule.UNREADABLE_ANSWER)
    assert decision.warning and str(path) in decision.warning
    assert str(path) in decision.reason


def test_record_written_atomically_and_privately(project: Path) -> None:
    path = project_config_path(project)
    _say(path, "later")
    data = json.loads(path.read_text())
    assert data["enabled"] is False
    assert data["answer"] == "later"
    assert data["notice_version"] == consent_rules.NOTICE_VERSION
    assert data["decided_at"].endswith("Z")
    assert (path.stat().st_mode & 0o777) == 0o600
    assert (path.parent.stat().st_mode & 0o777) == 0o700
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_config_folder_that_is_a_directory_is_reported(project: Path) -> None:
    path = project_config_path(project)
    path.mkdir(parents=True)
    with pytest.raises(ConsentFileError, match="folder"):
        read_record(path)
