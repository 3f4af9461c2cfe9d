"""One answer, both tools (issue 11.1): the real flowspec 0.4.008 and this package share a record.

Every sequence of enable/disable (project or global, from either tool) ends
with both `status` commands agreeing for the project, or with this package's
`status` naming flowspec's writer that is still on and how to stop it (and
that advice working). flowspec's side is its own code: `flowspec_cli.telemetry`
in-process for the exhaustive sequences, the `flowspec` console script for the
scenarios of the issue.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flowspec_telemetry.cli.app import app
from flowspec_telemetry.consent import answers, status
from flowspec_telemetry.core import consent_rules
from tests.conftest import CONSOLE_SCRIPT

Op = tuple[str, Callable[[Path], None]]


def _flowspec_config() -> object:
    from flowspec_cli.telemetry import config

    return config


def _ours(answer: str, scope: answers.Scope) -> Callable[[Path], None]:
    def run(root: Path) -> None:
        answers.record_answer(answer, scope=scope, project_root=root)

    return run


def _theirs(answer: str) -> Callable[[Path], None]:
    def run(root: Path) -> None:
        config = _flowspec_config()
        call = config.enable_telemetry if answer == "yes" else config.disable_telemetry  # type: ignore[attr-defined]
        assert call(root) is True

    return run


OPS: list[Op] = [
    ("ours enable --project", _ours("yes", "project")),
    ("ours enable --global", _ours("yes", "global")),
    ("ours disable --project", _ours("no", "project")),
    ("ours disable --global", _ours("no", "global")),
    ("flowspec telemetry enable", _theirs("yes")),
    ("flowspec telemetry disable", _theirs("no")),
]


def _status_text(root: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(root)
    result = CliRunner().invoke(app, ["status"])
    return result.stdout


def _check_agreement(root: Path, monkeypatch: pytest.MonkeyPatch, steps: str) -> None:
    config = _flowspec_config()
    theirs = config.is_telemetry_enabled(root)  # type: ignore[attr-defined]
    info = status.gather(root)
    ours = info["enabled"]
    text = _status_text(root, monkeypatch)
    if theirs == ours:
        return
    if theirs:
        assert "flowspec's own module is still ON here" in text, (steps, text)
        assert "`flowspec-telemetry disable --project`" in text, (steps, text)
        answers.record_answer("no", scope="project", project_root=root)  # the advice given
        assert not config.is_telemetry_enabled(root)  # type: ignore[attr-defined]
        assert not status.gather(root)["enabled"]
        return
    # Only a global yes of this package can be on where flowspec's module (project file only) is off.
    assert info["rule"] == "global_answer", (steps, info["rule"])
    assert "only this package records" in text, (steps, text)


@pytest.mark.usefixtures("flowspec_exe")
def test_every_sequence_of_three_answers_from_either_tool_agrees(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked = 0
    for length in (1, 2, 3):
        for seq in itertools.product(OPS, repeat=length):
            for path in (
                consent_rules.project_config_path(project),
                consent_rules.global_config_path(),
            ):
                if path.exists():
                    path.unlink()
            for _, op in seq:
                op(project)
            _check_agreement(project, monkeypatch, " -> ".join(name for name, _ in seq))
            checked += 1
    assert checked == 6 + 36 + 216


def _run(exe: Path | str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(exe), *args],
        cwd=cwd,
        env={**os.environ, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


class _Both:
    """Both real command lines in-process: flowspec's own typer app and ours (CliRunner)."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        from flowspec_cli import app as flowspec_app

        monkeypatch.chdir(root)
        monkeypatch.setenv("COLUMNS", "200")
        self.flowspec_app = flowspec_app
        self.runner = CliRunner()

    def flowspec(self, *args: str) -> str:
        result = self.runner.invoke(self.flowspec_app, ["telemetry", *args])
        assert result.exit_code == 0, result.output
        return result.stdout

    def flowspec_status(self) -> str:
        return "Enabled" if "Enabled" in self.flowspec("status") else "Disabled"

    def ours(self, *args: str, code: int = 0) -> str:
        result = self.runner.invoke(app, list(args))
        assert result.exit_code == code, (args, result.output)
        return result.stdout

    def our_status(self) -> tuple[bool, str]:
        return bool(json.loads(self.ours("status", "--json"))["enabled"]), self.ours("status")


@pytest.mark.usefixtures("flowspec_exe")
def test_the_issues_scenarios_with_both_command_lines(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    both = _Both(project, monkeypatch)
    # A project no from flowspec wins over a global yes from this package.
    both.ours("enable", "--yes")
    both.flowspec("enable", "-y")
    both.flowspec("disable")
    assert both.flowspec_status() == "Disabled"
    enabled, text = both.our_status()
    assert not enabled and "Telemetry is OFF: your answer for this project" in text
    assert "no by flowspec's own module" in text

    # A yes from this package for the project: flowspec's module reads the same verdict.
    both.ours("enable", "--yes", "--project")
    assert both.flowspec_status() == "Enabled"
    assert both.our_status()[0]
    record = json.loads(consent_rules.project_config_path(project).read_text())
    flowspec_keys = {"enabled", "consent_given_at", "consent_version", "data_retention_days"}
    assert flowspec_keys | {"metadata"} <= set(record)

    # flowspec's own enable drops our keys: a yes to its older notice (ask again).
    both.ours("disable", "--project")
    both.flowspec("enable", "-y")
    assert both.flowspec_status() == "Enabled"
    enabled, text = both.our_status()
    # Ours is on by the global yes given first; flowspec's writer is on too: they agree.
    assert enabled and "flowspec's own module: on here too" in text
    both.ours("disable")  # the global no stops flowspec's writer here too
    assert both.flowspec_status() == "Disabled"
    enabled, text = both.our_status()
    assert not enabled and "flowspec's own module: off here too" in text
    given = json.loads(consent_rules.project_config_path(project).read_text())["consent_given_at"]
    assert given and given.endswith("+00:00")  # its consent time stays on a no


@pytest.mark.usefixtures("flowspec_exe")
@pytest.mark.parametrize("content", [b"{not json", b"[1]", b'{"enabled": "yes"}', None])
def test_a_corrupt_flowspec_consent_file_is_one_line_and_changes_nothing(
    project: Path, monkeypatch: pytest.MonkeyPatch, content: bytes | None
) -> None:
    path = consent_rules.project_config_path(project)
    path.parent.mkdir()
    if content is None:
        path.mkdir()  # a folder where the file should be
    else:
        path.write_bytes(content)
    monkeypatch.chdir(project)
    runner = CliRunner()
    for args in (
        ("status",),
        ("enable", "--yes"),
        ("enable", "--yes", "--project"),
        ("disable", "--project"),
    ):
        result = runner.invoke(app, list(args))
        assert result.exit_code == 2, (args, result.output)
        assert len(result.stderr.splitlines()) == 1, result.stderr
        assert str(path) in result.stderr
    if content is None:
        assert path.is_dir() and not any(path.iterdir())
    else:
        assert path.read_bytes() == content


def _flowspec_status(exe: Path, root: Path) -> str:
    done = _run(exe, "telemetry", "status", cwd=root)
    assert done.returncode == 0, done.stderr
    return "Enabled" if "Enabled" in done.stdout else "Disabled"


def test_flowspecs_writer_named_when_only_it_says_yes(flowspec_exe: Path, project: Path) -> None:
    """Real processes: the `flowspec` console script and ours."""
    assert _run(flowspec_exe, "telemetry", "enable", "-y", cwd=project).returncode == 0
    done = _run(CONSOLE_SCRIPT, "status", cwd=project)
    assert "Telemetry is OFF" in done.stdout
    assert "flowspec's own module is still ON here" in done.stdout
    assert "flowspec telemetry track-role/track-agent/track-handoff" in done.stdout
    assert _run(CONSOLE_SCRIPT, "disable", "--project", cwd=project).returncode == 0
    assert _flowspec_status(flowspec_exe, project) == "Disabled"
