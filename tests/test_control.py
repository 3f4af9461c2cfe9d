"""`control`: recording a yes or no and saying what still overrides it."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowspec_telemetry.consent.answers import (
    NoProjectError,
    current_decision,
    disable_telemetry,
    enable_telemetry,
    read_records,
    record_answer,
    team_allows,
)
from flowspec_telemetry.core import consent_rules
from flowspec_telemetry.core.consent_rules import ConsentFileError, Rule
from flowspec_telemetry.core.names import ToolNames
from flowspec_telemetry.core.tracker import default_tracker


def _veto(project: Path) -> None:
    path = project / "flowspec_workflow.yml"
    path.write_text(path.read_text().replace("enabled: true", "enabled: false"))


def test_enable_globally_writes_the_global_record_only(project: Path) -> None:
    change = enable_telemetry(project_root=project)
    assert change.answer == "yes"
    assert change.scope == "global"
    assert change.path == consent_rules.global_config_path()
    assert change.before is None
    assert change.changed
    assert not change.overridden
    assert change.decision.enabled
    assert change.decision.rule is Rule.GLOBAL_ANSWER
    record = consent_rules.read_record(change.path)
    assert record is not None
    assert (record.answer, record.enabled, record.notice_version) == (
        "yes",
        True,
        consent_rules.NOTICE_VERSION,
    )
    assert not consent_rules.project_config_path(project).exists()


def test_enable_for_the_project_and_again_is_not_a_change(project: Path) -> None:
    first = enable_telemetry(scope="project", project_root=project / ".")
    assert first.path == consent_rules.project_config_path(project)
    assert first.decision.rule is Rule.PROJECT_ANSWER
    second = enable_telemetry(scope="project", project_root=project)
    assert second.before is not None and second.before.answer == "yes"
    assert not second.changed
    third = disable_telemetry(scope="project", project_root=project)
    assert third.changed
    assert (third.answer, third.decision.enabled, third.overridden) == ("no", False, False)
    assert not consent_rules.global_config_path().exists()


def test_an_answer_for_an_older_notice_is_a_change(project: Path) -> None:
    path = consent_rules.project_config_path(project)
    consent_rules.write_record(
        path, consent_rules.ConsentRecord(True, "2020-01-01T00:00:00Z", 0, "yes")
    )
    assert enable_telemetry(scope="project", project_root=project).changed


def test_the_project_answer_outvotes_a_new_global_one(project: Path) -> None:
    disable_telemetry(scope="project", project_root=project)
    change = enable_telemetry(project_root=project)
    assert change.overridden
    assert not change.decision.enabled
    assert change.decision.rule is Rule.PROJECT_ANSWER


def test_do_not_track_and_the_team_veto_outvote_a_yes(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DO_NOT_TRACK", "1")
    change = enable_telemetry(scope="project", project_root=project)
    assert change.overridden
    assert change.decision.rule is Rule.DO_NOT_TRACK
    monkeypatch.delenv("DO_NOT_TRACK")
    _veto(project)
    change = enable_telemetry(scope="project", project_root=project)
    assert change.overridden
    assert change.decision.rule is Rule.TEAM_POLICY
    # A no is never "overridden" by a rule that also says no.
    assert not disable_telemetry(scope="project", project_root=project).overridden


def test_an_environment_yes_outvotes_a_recorded_no(project: Path) -> None:
    change = record_answer("no", project_root=project, environ={"FLOWSPEC_TELEMETRY_ENABLED": "1"})
    assert change.overridden
    assert change.decision.rule is Rule.ENV_ENABLED


def test_later_is_recorded_with_its_date_and_is_off(project: Path) -> None:
    change = record_answer("later", project_root=project, ask_again_after="2026-11-09T00:00:00Z")
    record = consent_rules.read_record(change.path)
    assert record is not None
    assert (record.answer, record.enabled, record.ask_again_after) == (
        "later",
        False,
        "2026-11-09T00:00:00Z",
    )
    assert not change.decision.enabled


def test_project_scope_outside_a_project_raises_and_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(NoProjectError, match=r"not in a flowspec project.*\.flowspec/"):
        enable_telemetry(scope="project", project_root=tmp_path)
    with pytest.raises(NoProjectError, match=r"acme_workflow\.yml"):
        disable_telemetry(scope="project", project_root=tmp_path, names=ToolNames("acme"))
    assert not consent_rules.global_config_path().exists()
    assert isinstance(NoProjectError(), LookupError)


def test_global_scope_works_outside_a_project(tmp_path: Path) -> None:
    change = enable_telemetry(project_root=tmp_path)
    assert change.decision.enabled
    assert change.decision.rule is Rule.GLOBAL_ANSWER


def _corrupt(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{not json")


def test_a_corrupt_file_is_never_overwritten(project: Path) -> None:
    path = consent_rules.global_config_path()
    _corrupt(path)
    for call in (enable_telemetry, disable_telemetry):
        with pytest.raises(ConsentFileError, match="corrupt"):
            call(project_root=project)
    assert path.read_text() == "{not json"


def test_a_corrupt_other_record_blocks_a_yes_but_never_a_no(project: Path) -> None:
    other = consent_rules.project_config_path(project)
    _corrupt(other)
    with pytest.raises(ConsentFileError):
        enable_telemetry(project_root=project)
    assert not consent_rules.global_config_path().exists()
    change = disable_telemetry(project_root=project)
    assert change.path == consent_rules.global_config_path()
    assert not change.decision.enabled
    assert other.read_text() == "{not json"


def test_read_records_names_both_scopes(project: Path, tmp_path: Path) -> None:
    enable_telemetry(scope="project", project_root=project)
    found = read_records(project)
    assert list(found) == ["project", "global"]
    assert found["project"][0] == consent_rules.project_config_path(project)
    assert found["project"][1] is not None and found["project"][1].answer == "yes"
    assert found["global"] == (consent_rules.global_config_path(), None)
    assert list(read_records(None)) == ["global"]


def test_team_allows_and_current_decision(project: Path) -> None:
    assert team_allows(None)
    assert team_allows(project)
    assert current_decision(project).rule is Rule.NOT_ASKED
    _veto(project)
    assert not team_allows(project)
    assert current_decision(project).rule is Rule.TEAM_POLICY
    assert current_decision(project, environ={"DO_NOT_TRACK": "true"}).rule is Rule.DO_NOT_TRACK


def test_recording_makes_the_tracker_forget_its_cached_decision(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    monkeypatch.setattr(default_tracker(), "invalidate", lambda: calls.append(1))
    change = enable_telemetry(project_root=project)
    disable_telemetry(project_root=project)
    assert len(calls) == 2
    with pytest.raises(AttributeError):
        change.answer = "no"  # type: ignore[misc]  # a frozen value
