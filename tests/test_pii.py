"""The privacy promise, end to end: no PII corpus value is readable in any file written.

Every value of `pii-corpus.tsv` goes through every field of the public API
and of the `track` CLI; then every file under the project (and the isolated
home) is searched for the value in any readable form.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flowspec_telemetry.core.events import RoleEvent
from flowspec_telemetry.core.tracker import Tracker

from .conftest import all_files_text, run_cli

CORPUS = [
    line.split("\t", 1)[1]
    for line in (Path(__file__).parent / "data" / "pii-corpus.tsv").read_text().splitlines()
    if line and not line.startswith("#")
]
API_FIELDS = ("role", "command", "agent", "agent_role", "from_agent", "to_agent", "session_id",
              "invocation_id", "outcome", "source", "duration_ms")  # fmt: skip
# --outcome takes only the five outcomes on the command line (anything else is
# a usage error, tested below), so PII never gets that far there.
CLI_OPTIONS = ("--role", "--command", "--agent", "--agent-role", "--from-agent", "--to-agent",
               "--session-id", "--invocation-id", "--source")  # fmt: skip


def readable_forms(value: str) -> set[str]:
    forms = {value, value.lower(), json.dumps(value)[1:-1]}
    return {f for f in forms if f}


def assert_no_pii(*folders: Path) -> None:
    blob = b"".join(all_files_text(folder) for folder in folders).decode("utf-8", "replace")
    leaks = [v for v in CORPUS for form in readable_forms(v) if form in blob]
    assert leaks == []


def test_every_value_through_every_api_field(consented: Path, isolated_env: Path) -> None:
    tracker = Tracker(tool_version=CORPUS[0])
    recorded = 0
    for value in CORPUS:
        for event_type in RoleEvent:
            for field in API_FIELDS:
                if tracker.track(event_type, project_root=consented, **{field: value}):  # type: ignore[arg-type]
                    recorded += 1
    assert recorded == len(CORPUS) * len(RoleEvent) * len(API_FIELDS)
    assert_no_pii(consented, isolated_env)


def test_tool_version_is_scrubbed(consented: Path) -> None:
    for value in CORPUS[:14]:  # the shapes a scrubber recognises (not bare names)
        tracker = Tracker(tool_version=f"1.0 {value}")
        assert tracker.track("role.selected", project_root=consented)
    assert_no_pii(consented)


@pytest.mark.slow
def test_every_value_through_every_cli_option(consented: Path, isolated_env: Path) -> None:
    for value in CORPUS:
        args = ["track", "handoff.offered", "--project", str(consented), "-q"]
        for option in CLI_OPTIONS:
            args += [option, value]
        result = run_cli(*args, cwd=consented)
        assert result.returncode == 0, result.stderr
        assert result.stdout == ""
        assert result.stderr == ""
    assert_no_pii(consented, isolated_env)
    lines = (consented / ".flowspec" / "telemetry.jsonl").read_text().splitlines()
    assert len(lines) == len(CORPUS)
    for value in CORPUS:
        result = run_cli("track", "command.failed", "--outcome", value, cwd=consented)
        assert result.returncode == 2
        assert value not in result.stderr
    assert len((consented / ".flowspec" / "telemetry.jsonl").read_text().splitlines()) == len(
        CORPUS
    )


def test_debug_output_never_shows_values(
    consented: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FLOWSPEC_TELEMETRY_DEBUG", "1")
    tracker = Tracker()
    for value in CORPUS:
        tracker.track("agent.invoked", agent=value, role=value, project_root=consented)
        tracker.track(value, project_root=consented)  # an unknown event type made of PII
    err = capsys.readouterr().err
    assert [v for v in CORPUS if v in err] == []
