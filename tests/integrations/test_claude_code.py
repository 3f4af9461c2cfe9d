"""The Claude Code hook adapter, fed the sample payloads through the real console script."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from flowspec_telemetry.core.tracker import Tracker
from flowspec_telemetry.integrations import _hook_state
from flowspec_telemetry.integrations.claude_code import (
    MAX_PAYLOAD_BYTES,
    HookState,
    command_token,
    handle_payload,
    map_payload,
)

from ..conftest import SHARED, all_files_text, read_events, run_cli
from ..test_pii import CORPUS, readable_forms

HOOKS = SHARED / "claude-code-hooks"


def payload(name: str, **overrides: Any) -> str:
    data = json.loads((HOOKS / f"{name}.json").read_text())
    data.update(overrides)
    return json.dumps(data)


def hook(project: Path, name: str, **overrides: Any) -> subprocess.CompletedProcess[str]:
    result = run_cli(
        "hook", "claude-code", cwd=project, input=payload(name, cwd=str(project), **overrides)
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    return result


def essentials(event: dict[str, object]) -> tuple[object, ...]:
    return (
        event["event_type"],
        event["role"],
        event["command"],
        event["agent"],
        event.get("agent_role"),
    )


def test_a_whole_session_maps_to_the_exact_events(consented: Path, isolated_env: Path) -> None:
    for name in (
        "session-start",
        "user-prompt-submit-flow-command",
        "pre-tool-use-task-subagent",
        "subagent-start",
        "pre-tool-use-agent-security",
        "subagent-stop",
        "post-tool-use-task-subagent",
        "post-tool-use-slash-command",
        "stop",
    ):
        hook(consented, name)
    events = read_events(consented)
    assert [essentials(e) for e in events] == [
        ("command.started", "dev", "/flow:implement", None, None),
        ("agent.invoked", "dev", "/flow:implement", "@backend-engineer", "dev"),
        ("agent.invoked", "dev", "/flow:implement", "@quality-guardian", "qa"),
        ("agent.invoked", "dev", "/flow:implement", "@secure-by-design-engineer", "sec"),
        ("agent.completed", "dev", "/flow:implement", "@quality-guardian", "qa"),
        ("agent.completed", "dev", "/flow:implement", "@backend-engineer", "dev"),
        ("command.completed", "dev", "/flow:validate", None, None),
        ("command.completed", "dev", "/flow:implement", None, None),
    ]
    started, completed = events[0], events[-1]
    assert started["invocation_id"] == completed["invocation_id"]
    assert isinstance(completed["duration_ms"], int)
    backend = [e for e in events if e["agent"] == "@backend-engineer"]
    assert backend[0]["invocation_id"] == backend[1]["invocation_id"]
    sessions = {e["session_id"] for e in events}
    assert len(sessions) == 1 and str(sessions.pop()).startswith("hmac:")
    # Nothing personal from the payloads (user name in paths, e-mail in the
    # prompt, an AWS key in a sub-agent prompt) reached any file.
    blob = (all_files_text(consented) + all_files_text(isolated_env)).decode("utf-8", "replace")
    leaks = [form for value in CORPUS for form in readable_forms(value) if form in blob]
    assert leaks == []
    for secret in (
        "3f2a9c1e-7b4d-4e8a-9c55-0d1e2f3a4b5c",
        "toolu_01A2B3C4D5E6F7",
        "agent-7c1d",
        "task-42",
        "login",
    ):
        assert secret not in blob


@pytest.mark.parametrize(
    "name",
    [
        "session-start",
        "user-prompt-submit-flow-command",
        "pre-tool-use-task-subagent",
        "pre-tool-use-agent-security",
        "post-tool-use-slash-command",
        "post-tool-use-task-subagent",
        "subagent-start",
        "subagent-stop",
        "stop",
    ],
)
def test_each_sample_alone(consented: Path, name: str) -> None:
    hook(consented, name)
    expected = {
        "session-start": [],
        "user-prompt-submit-flow-command": [
            ("command.started", "dev", "/flow:implement", None, None)
        ],
        "pre-tool-use-task-subagent": [("agent.invoked", "dev", None, "@backend-engineer", "dev")],
        "pre-tool-use-agent-security": [
            ("agent.invoked", "dev", None, "@secure-by-design-engineer", "sec")
        ],
        "post-tool-use-slash-command": [("command.completed", "dev", "/flow:validate", None, None)],
        "post-tool-use-task-subagent": [
            ("agent.completed", "dev", None, "@backend-engineer", "dev")
        ],
        "subagent-start": [("agent.invoked", "dev", None, "@quality-guardian", "qa")],
        "subagent-stop": [("agent.completed", "dev", None, "@quality-guardian", "qa")],
        "stop": [],
    }[name]
    assert [essentials(e) for e in read_events(consented)] == expected


def test_a_developer_invoking_the_security_agent_stays_a_developer(consented: Path) -> None:
    run_cli("track", "role.selected", "--role", "dev", "-q", cwd=consented)
    hook(consented, "pre-tool-use-agent-security")
    event = read_events(consented)[-1]
    assert (event["role"], event["agent"], event["agent_role"]) == (
        "dev",
        "@secure-by-design-engineer",
        "sec",
    )


def test_subagent_hooks_do_not_double_count_tool_hooks(consented: Path) -> None:
    same = {"subagent_type": "quality-guardian", "description": "x", "prompt": "y"}
    hook(consented, "pre-tool-use-task-subagent", tool_input=same, tool_use_id="toolu_QG")
    hook(consented, "subagent-start")
    hook(consented, "subagent-stop")
    hook(consented, "post-tool-use-task-subagent", tool_input=same, tool_use_id="toolu_QG")
    assert [e["event_type"] for e in read_events(consented)] == ["agent.invoked", "agent.completed"]


def test_failed_agent_tool(consented: Path) -> None:
    hook(consented, "pre-tool-use-task-subagent")
    hook(consented, "post-tool-use-task-subagent", tool_response={"is_error": True, "content": "x"})
    assert [e["event_type"] for e in read_events(consented)] == ["agent.invoked", "agent.failed"]


def test_stop_closes_only_its_own_session(consented: Path) -> None:
    hook(consented, "user-prompt-submit-flow-command")
    hook(consented, "user-prompt-submit-flow-command", session_id="other-session")
    hook(consented, "stop")
    hook(consented, "stop")  # closing twice records nothing more
    types = [e["event_type"] for e in read_events(consented)]
    assert types == ["command.started", "command.started", "command.completed"]


@pytest.mark.parametrize(
    "raw",
    [
        (HOOKS / "not-json.txt").read_bytes(),
        b"",
        b"[]",
        b'{"hook_event_name": 5}',
        b'{"hook_event_name": "UserPromptSubmit", "prompt": 42}',
        b'{"hook_event_name": "PreToolUse", "tool_name": "Task", "tool_input": "nope"}',
        b'{"hook_event_name": "PreToolUse", "tool_name": "Task", "tool_input": {"subagent_type": "../../etc"}}',
        b'{"hook_event_name": "Notification", "message": "hi"}',
        b"\xff\xfe\x00\x01",
        b"[" * 100_000,
    ],
)
def test_broken_or_unknown_payloads_write_nothing(consented: Path, raw: bytes) -> None:
    result = subprocess.run(
        [str(Path(sys.executable).with_name("flowspec-telemetry")), "hook", "claude-code"],
        input=raw,
        capture_output=True,
        cwd=consented,
        check=False,
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, b"", b"")
    assert read_events(consented) == []


def test_oversized_payload_is_ignored(consented: Path) -> None:
    big = payload(
        "user-prompt-submit-flow-command", cwd=str(consented), padding="x" * MAX_PAYLOAD_BYTES
    )
    result = run_cli("hook", "claude-code", cwd=consented, input=big)
    assert result.returncode == 0
    assert read_events(consented) == []


def test_without_consent_the_hook_writes_nothing_at_all(project: Path) -> None:
    hook(project, "user-prompt-submit-flow-command")
    assert sorted(p.name for p in project.iterdir()) == ["flowspec_workflow.yml"]


def test_hook_finds_the_project_from_the_payload_cwd(consented: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    data = payload("user-prompt-submit-flow-command", cwd=str(consented / "sub"))
    (consented / "sub").mkdir()
    result = run_cli("hook", "claude-code", cwd=elsewhere, input=data)
    assert result.returncode == 0
    assert len(read_events(consented)) == 1


def test_usage_of_the_hook_command(consented: Path) -> None:
    bad = run_cli("hook", "vscode", cwd=consented)
    assert bad.returncode == 2 and "claude-code" in bad.stderr
    assert "Usage:" in run_cli("hook", "--help").stdout


def test_command_token_only_takes_catalog_namespaces() -> None:
    ns = frozenset({"/flow:"})
    assert command_token("/flow:implement task-42 fix login", ns) == "/flow:implement"
    assert command_token("  /flow:plan", ns) == "/flow:plan"
    assert command_token("please run /flow:plan", ns) is None
    assert command_token("/other:thing", ns) is None
    assert command_token("/flow:", ns) is None
    assert command_token("", ns) is None


def test_state_is_bounded(consented: Path) -> None:
    tracker = Tracker()
    state = HookState()
    for i in range(300):
        prompt = {
            "hook_event_name": "UserPromptSubmit",
            "session_id": f"s{i}",
            "prompt": "/flow:plan",
        }
        map_payload(prompt, state, tracker, consented, now_ns=10**18 + i)
    state.prune(10**18 + 300)
    assert len(state.sessions) == _hook_state.MAX_SESSIONS
    state.prune(10**18 + 25 * 3600 * 10**9)
    assert state.sessions == {}


def test_in_process_handler_counts_what_it_recorded(consented: Path) -> None:
    raw = payload("user-prompt-submit-flow-command", cwd=str(consented)).encode()
    assert handle_payload(raw, tracker=Tracker()) == 1
    assert handle_payload(b"junk", tracker=Tracker()) == 0
