"""The consent prompt: on a real pseudo-terminal, with CI set, and without a TTY."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from flowspec_telemetry.consent import prompt
from flowspec_telemetry.consent.prompt import maybe_prompt, why_not_ask
from flowspec_telemetry.core import consent_rules
from flowspec_telemetry.core.names import NOTICE_URL

from ..conftest import run_cli
from ._pty import run_on_pty


def _run_on_pty(
    cwd: Path, reply: bytes, env: dict[str, str] | None = None, cols: int = 80
) -> tuple[int, str]:
    """Run `prompt` on an 80x50 pty; type `reply` once the question shows."""
    result = run_on_pty(
        "prompt", cwd=cwd, cols=cols, rows=50, answers=[("[l]ater", reply.decode())], env=env
    )
    return result.returncode, result.output


def test_yes_on_a_real_terminal_records_it_and_never_asks_again(project: Path) -> None:
    code, screen = _run_on_pty(project, b"y\n")
    assert code == 0
    screen = " ".join(screen.split())  # lines wrap between words at the terminal's width
    # The short notice (the full one is `notice`), and where the full one is.
    assert "Telemetry for flowspec is off until you say yes." in screen
    assert ".flowspec/ of this project" in screen
    assert "never prompts, code, paths or names" in screen
    assert "flowspec-telemetry notice" in screen
    assert NOTICE_URL in screen
    assert "Never collected" not in screen  # the long notice is not shown before the question
    record = consent_rules.read_record(consent_rules.global_config_path())
    assert record is not None
    assert (record.answer, record.enabled, record.notice_version) == ("yes", True, 1)
    code, screen = _run_on_pty(project, b"n\n")
    assert code == 0
    assert "off until you say yes" not in screen  # asked once only
    assert "not asked: already answered yes" in screen  # and it says why


def test_enter_means_no_and_later_waits_seven_days(project: Path) -> None:
    code, _ = _run_on_pty(project, b"\n")
    assert code == 0
    record = consent_rules.read_record(consent_rules.global_config_path())
    assert record is not None
    assert (record.answer, record.enabled) == ("no", False)
    consent_rules.global_config_path().unlink()
    code, screen = _run_on_pty(project, b"later\n")
    assert "ask again after" in screen
    record = consent_rules.read_record(consent_rules.global_config_path())
    assert record is not None
    assert record.answer == "later"
    assert record.ask_again_after is not None
    soon = datetime.now(UTC) + timedelta(days=6)
    assert why_not_ask(project, now=soon) is not None
    assert why_not_ask(project, now=soon + timedelta(days=2)) is None


@pytest.mark.parametrize("env", [{"CI": "true"}, {"CI": "1"}])
def test_in_ci_prints_nothing_and_records_nothing_even_on_a_tty(
    project: Path, env: dict[str, str]
) -> None:
    code, screen = _run_on_pty(project, b"y\n", env)
    assert (code, screen.strip()) == (0, "not asked: CI is set.")
    assert not consent_rules.global_config_path().exists()
    assert sorted(p.name for p in project.iterdir()) == ["flowspec_workflow.yml"]


def test_without_a_tty_prints_nothing_and_records_nothing(project: Path) -> None:
    result = run_cli("prompt", cwd=project, input="y\n")
    # Nothing on stdout; one line on stderr saying why it did not ask.
    assert (result.returncode, result.stdout) == (0, "")
    assert result.stderr == "not asked: not an interactive terminal.\n"
    assert not consent_rules.global_config_path().exists()
    result = run_cli("prompt", "--no-telemetry", cwd=project)
    assert result.returncode == 0
    record = consent_rules.read_record(consent_rules.global_config_path())
    assert record is not None
    assert record.answer == "no"


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_new_notice_version_asks_again(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    consent_rules.write_record(consent_rules.global_config_path(), consent_rules.new_record("no"))
    assert why_not_ask(project) is not None
    monkeypatch.setattr(consent_rules, "NOTICE_VERSION", consent_rules.NOTICE_VERSION + 1)
    assert why_not_ask(project) is None


def test_maybe_prompt_in_process(project: Path) -> None:
    out = _Tty()
    result = maybe_prompt(project_root=project, stdin=_Tty("l\n"), stdout=out)
    assert (result.asked, result.answer) == (True, "later")
    shown = out.getvalue()
    assert "off until you say yes" in shown
    assert shown.index("off until you say yes") < shown.index(prompt.QUESTION)
    assert len(shown[: shown.index(prompt.QUESTION)].splitlines()) <= 5
    again = maybe_prompt(project_root=project, stdin=_Tty("y\n"), stdout=_Tty())
    assert (again.asked, again.answer) == (False, None)
    assert "later" in again.reason
    # A host flag answers without a question, and env rules stop the question.
    flagged = maybe_prompt(True, project_root=project, scope="project")
    assert (flagged.asked, flagged.answer) == (False, "yes")
    assert consent_rules.decide(project).enabled


def test_maybe_prompt_never_raises_on_a_corrupt_file(project: Path) -> None:
    path = consent_rules.global_config_path()
    path.parent.mkdir(parents=True)
    path.write_text("[]")
    result = maybe_prompt(project_root=project, stdin=_Tty("y\n"), stdout=_Tty())
    assert result.error is not None
    assert "corrupt" in result.error
    assert path.read_text() == "[]"
    assert prompt.in_ci({"CI": "false"}) is False
