"""`prompt`: when to ask for consent, with fake terminals (no real TTY)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from flowspec_telemetry.consent import prompt
from flowspec_telemetry.consent.prompt import LATER_DAYS, in_ci, maybe_prompt, why_not_ask
from flowspec_telemetry.core import consent_rules
from flowspec_telemetry.core.consent_rules import ConsentRecord

NOW = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


class Tty(io.StringIO):
    """A StringIO that says it is a terminal."""

    def isatty(self) -> bool:
        return True


class Interrupting(Tty):
    def readline(self, size: int | None = -1, /) -> str:
        raise KeyboardInterrupt


def ask(project: Path, reply: str, **kwargs: object) -> tuple[prompt.PromptResult, str]:
    out = Tty()
    result = maybe_prompt(project_root=project, stdin=Tty(reply), stdout=out, now=NOW, **kwargs)  # type: ignore[arg-type]
    return result, out.getvalue()


def later_record(until: str) -> ConsentRecord:
    return consent_rules.new_record("later", ask_again_after=until)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, False),
        ("", False),
        ("0", False),
        (" False ", False),
        ("no", False),
        ("1", True),
        ("true", True),
        ("github-actions", True),
    ],
)
def test_in_ci(value: str | None, expected: bool) -> None:
    assert in_ci({} if value is None else {"CI": value}) is expected


def test_in_ci_reads_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert not in_ci()
    monkeypatch.setenv("CI", "1")
    assert in_ci()


def test_ask_when_nobody_has_answered(project: Path) -> None:
    assert why_not_ask(project, now=NOW) is None
    assert why_not_ask(None, now=NOW) is None


@pytest.mark.parametrize(
    ("variable", "reason"),
    [
        ("DO_NOT_TRACK", "not asked: DO_NOT_TRACK is set"),
        ("FLOWSPEC_TELEMETRY_DISABLED", "not asked: FLOWSPEC_TELEMETRY_DISABLED is set"),
        (
            "FLOWSPEC_TELEMETRY_ENABLED",
            "not asked: FLOWSPEC_TELEMETRY_ENABLED is set to yes in the environment",
        ),
    ],
)
def test_an_environment_rule_means_no_question(
    project: Path, monkeypatch: pytest.MonkeyPatch, variable: str, reason: str
) -> None:
    monkeypatch.setenv(variable, "1")
    assert why_not_ask(project, now=NOW) == reason


def test_a_team_veto_means_no_question(project: Path) -> None:
    path = project / "flowspec_workflow.yml"
    path.write_text(path.read_text().replace("enabled: true", "enabled: false"))
    assert why_not_ask(project, now=NOW) == (
        "not asked: the team policy in flowspec_workflow.yml turns telemetry off"
    )


@pytest.mark.parametrize("answer", ["yes", "no"])
def test_a_current_answer_means_no_question(project: Path, answer: str) -> None:
    path = consent_rules.project_config_path(project)
    consent_rules.write_record(path, consent_rules.new_record(answer))
    assert why_not_ask(project, now=NOW) == f"not asked: already answered {answer} ({path})"
    # The global answer counts too, outside a project as well.
    gpath = consent_rules.global_config_path()
    consent_rules.write_record(gpath, consent_rules.new_record(answer))
    assert why_not_ask(None, now=NOW) == f"not asked: already answered {answer} ({gpath})"


def test_an_answer_to_an_older_notice_asks_again(project: Path) -> None:
    old = ConsentRecord(False, "2020-01-01T00:00:00Z", consent_rules.NOTICE_VERSION - 1, "no")
    consent_rules.write_record(consent_rules.project_config_path(project), old)
    consent_rules.write_record(consent_rules.global_config_path(), old)
    assert why_not_ask(project, now=NOW) is None


def test_later_waits_until_its_date(project: Path) -> None:
    until = "2026-11-09T09:30:00Z"
    consent_rules.write_record(consent_rules.global_config_path(), later_record(until))
    expected = f"not asked: you said later; asking again after {until}"
    assert why_not_ask(project, now=NOW) == expected
    assert why_not_ask(project, now=NOW + timedelta(days=7) - timedelta(seconds=1)) == expected
    assert why_not_ask(project, now=NOW + timedelta(days=7)) is None
    # A later without a date asks at once.
    consent_rules.write_record(consent_rules.global_config_path(), later_record(""))
    assert why_not_ask(project, now=NOW) is None


def test_a_project_later_does_not_hide_a_global_answer(project: Path) -> None:
    consent_rules.write_record(
        consent_rules.project_config_path(project), later_record("2020-01-01T00:00:00Z")
    )
    consent_rules.write_record(consent_rules.global_config_path(), consent_rules.new_record("no"))
    reason = why_not_ask(project, now=NOW)
    assert reason is not None and reason.startswith("not asked: already answered no")


def test_why_not_ask_raises_on_a_corrupt_record(project: Path) -> None:
    path = consent_rules.project_config_path(project)
    path.parent.mkdir()
    path.write_text("[1]")
    with pytest.raises(consent_rules.ConsentFileError):
        why_not_ask(project, now=NOW)


def test_ci_stops_the_question_even_on_a_terminal(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", "true")
    result, screen = ask(project, "y\n")
    assert result == prompt.PromptResult(False, None, "not asked: CI is set")
    assert screen == ""
    assert not consent_rules.global_config_path().exists()


@pytest.mark.parametrize(
    ("stdin_tty", "stdout_tty"), [(False, True), (True, False), (False, False)]
)
def test_no_terminal_no_question(project: Path, stdin_tty: bool, stdout_tty: bool) -> None:
    stdin = Tty("y\n") if stdin_tty else io.StringIO("y\n")
    stdout = Tty() if stdout_tty else io.StringIO()
    result = maybe_prompt(project_root=project, stdin=stdin, stdout=stdout, now=NOW)
    assert result == prompt.PromptResult(False, None, "not asked: not an interactive terminal")
    assert stdout.getvalue() == ""
    assert not consent_rules.global_config_path().exists()


def test_a_closed_stream_is_not_a_terminal(project: Path) -> None:
    closed = io.StringIO()
    closed.close()  # isatty() now raises ValueError
    result = maybe_prompt(project_root=project, stdin=closed, stdout=Tty(), now=NOW)
    assert result.reason == "not asked: not an interactive terminal"


@pytest.mark.parametrize(
    ("reply", "answer"),
    [("y\n", "yes"), ("YES\n", "yes"), ("\n", "no"), (" n \n", "no"), ("l\n", "later")],
)
def test_a_reply_is_recorded_globally(project: Path, reply: str, answer: str) -> None:
    result, screen = ask(project, reply)
    assert (result.asked, result.answer, result.reason) == (True, answer, "answered")
    assert result.path == consent_rules.global_config_path()
    record = consent_rules.read_record(consent_rules.global_config_path())
    assert record is not None and record.answer == answer
    assert "Turn on telemetry?" in screen
    assert not consent_rules.project_config_path(project).exists()


def test_later_is_recorded_for_seven_days_from_now(project: Path) -> None:
    result, screen = ask(project, "later\n", scope="project")
    assert result.path == consent_rules.project_config_path(project)
    record = consent_rules.read_record(consent_rules.project_config_path(project))
    assert record is not None
    assert LATER_DAYS == 7
    assert record.ask_again_after == "2026-11-09T09:30:00Z"
    assert "we will ask again after 2026-11-09T09:30:00Z" in screen


def test_three_unclear_replies_mean_no(project: Path) -> None:
    result, screen = ask(project, "maybe\nwhat\n?\ny\n")
    assert result.answer == "no"
    assert screen.count("Please answer y, n or l") == 3


def test_end_of_input_or_ctrl_c_records_nothing(project: Path) -> None:
    result, _ = ask(project, "")
    assert result == prompt.PromptResult(True, None, "no answer given; nothing recorded")
    result = maybe_prompt(project_root=project, stdin=Interrupting(), stdout=Tty(), now=NOW)
    assert (result.asked, result.answer) == (True, None)
    assert not consent_rules.global_config_path().exists()


def test_a_flag_answers_without_a_question_even_in_ci(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", "1")
    out = Tty()
    result = maybe_prompt(False, project_root=project, stdin=Tty(), stdout=out)
    assert result == prompt.PromptResult(
        False, "no", "answered by flag", consent_rules.global_config_path()
    )
    assert out.getvalue() == ""
    result = maybe_prompt(True, project_root=project, scope="project")
    assert result.path == consent_rules.project_config_path(project)
    # The no given for everywhere still wins: a project yes never outvotes it.
    decision = consent_rules.decide(project)
    assert (decision.enabled, decision.rule) == (False, consent_rules.Rule.GLOBAL_ANSWER)
    maybe_prompt(True, project_root=project)
    assert consent_rules.decide(project).enabled


def test_once_answered_it_is_not_asked_again(project: Path) -> None:
    ask(project, "n\n")
    result, screen = ask(project, "y\n")
    assert (result.asked, result.answer) == (False, None)
    assert result.reason.startswith("not asked: already answered no")
    assert screen == ""


def test_a_corrupt_record_is_reported_not_raised(project: Path) -> None:
    path = consent_rules.global_config_path()
    path.parent.mkdir(parents=True)
    path.write_text("{")
    result, screen = ask(project, "y\n")
    assert (result.asked, result.answer) == (False, None)
    assert result.reason == "not asked: a consent file is corrupt"
    assert result.error is not None and str(path) in result.error
    assert screen == ""
    assert path.read_text() == "{"


def test_an_internal_error_never_reaches_the_host(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(prompt, "why_not_ask", boom)
    result, _ = ask(project, "y\n")
    assert result == prompt.PromptResult(
        False, None, "not asked: internal error", error="RuntimeError"
    )
    # A project-scoped flag outside a project is refused the same way.
    result = maybe_prompt(True, project_root=project.parent / "elsewhere", scope="project")
    assert (result.answer, result.error) == (None, "NoProjectError")
