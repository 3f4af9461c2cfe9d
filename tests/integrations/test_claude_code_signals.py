"""Every current Claude Code signal (issue 12.2), built from the documented hook input fields.

Each payload carries every field Claude Code documents for its hook: the
common ones (`session_id`, `transcript_path`, `cwd`, `permission_mode`,
`hook_event_name`), the tool ones (`tool_name`, `tool_input`, `tool_use_id`,
`tool_response`; `error` and `is_interrupt` on `PostToolUseFailure`), the
sub-agent ones (`agent_id`, `agent_type`, `agent_transcript_path`,
`stop_hook_active`, `last_assistant_message`), `reason` on `SessionEnd`, and
`agent_id`/`agent_type` on tool hooks fired inside a sub-agent. Every call
goes through the real console script: exit 0, nothing on stdout or stderr,
and nothing private in any file.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from flowspec_telemetry.core.tracker import Tracker
from flowspec_telemetry.integrations import _hook_state
from flowspec_telemetry.integrations._hook_state import MAX_STATE_BYTES, STATE_FILE, HookState
from flowspec_telemetry.integrations.claude_code import handle_payload, map_payload

from ..conftest import all_files_text, read_events, run_cli

SESSION = "5b1f0c2e-8d3a-4c6b-9e7f-1a2b3c4d5e6f"
PRIVATE = (
    SESSION,
    "/home/jsmith",
    "toolu_01PRIVATE",
    "agent-9f8e7d",
    "jsmith@example.com",
    "feature-secret-x",
    "Fix the login for jsmith@example.com",
    "AKIAIOSFODNN7EXAMPLE",
    "Command failed: secret stderr",
)


def common(root: Path, event: str, **fields: Any) -> dict[str, Any]:
    return {
        "session_id": SESSION,
        "transcript_path": f"/home/jsmith/.claude/projects/-home-jsmith-app/{SESSION}.jsonl",
        "cwd": str(root),
        "permission_mode": "acceptEdits",
        "hook_event_name": event,
        **fields,
    }


def tool(
    root: Path, event: str, name: str, tool_input: dict[str, Any], **fields: Any
) -> dict[str, Any]:
    fields.setdefault("tool_use_id", "toolu_01PRIVATE")
    payload = common(root, event, tool_name=name, tool_input=tool_input, **fields)
    if event == "PostToolUse":
        payload.setdefault("tool_response", {"success": True, "output": "AKIAIOSFODNN7EXAMPLE"})
    if event == "PostToolUseFailure":
        payload.setdefault("error", "Command failed: secret stderr")
        payload.setdefault("is_interrupt", False)
    return payload


def subagent(root: Path, event: str, agent_type: str) -> dict[str, Any]:
    payload = common(root, event, agent_id="agent-9f8e7d", agent_type=agent_type)
    if event == "SubagentStop":
        payload.update(
            stop_hook_active=False,
            agent_transcript_path="/home/jsmith/.claude/projects/x/agent-9f8e7d.jsonl",
            last_assistant_message="Done: jsmith@example.com",
        )
    return payload


def send(root: Path, payload: dict[str, Any]) -> None:
    done = run_cli("hook", "claude-code", cwd=root, input=json.dumps(payload))
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def kinds(root: Path) -> list[tuple[object, ...]]:
    return [
        (e["event_type"], e.get("command"), e.get("agent"), e.get("outcome"))
        for e in read_events(root)
    ]


def open_state(root: Path) -> dict[str, Any]:
    state = json.loads((root / ".flowspec" / STATE_FILE).read_text())
    sessions = state["sessions"]
    return {
        "commands": sum(len(s["commands"]) for s in sessions.values()),
        "agents": sum(len(s["agents"]) for s in sessions.values()),
        "sessions": len(sessions),
    }


def assert_nothing_private(root: Path, home: Path) -> None:
    blob = (all_files_text(root) + all_files_text(home)).decode("utf-8", "replace")
    assert [p for p in PRIVATE if p in blob] == []


def test_skill_runs_a_command_start_to_end(consented: Path, isolated_env: Path) -> None:
    skill = {"skill": "flow:validate", "args": "feature-secret-x"}
    send(consented, tool(consented, "PreToolUse", "Skill", skill))
    send(consented, tool(consented, "PostToolUse", "Skill", skill))
    assert kinds(consented) == [
        ("command.started", "/flow:validate", None, None),
        ("command.completed", "/flow:validate", None, "success"),
    ]
    started, completed = read_events(consented)
    assert started["invocation_id"] == completed["invocation_id"]
    assert open_state(consented)["commands"] == 0
    assert_nothing_private(consented, isolated_env)


def test_a_skill_outside_the_catalog_namespaces_is_not_a_command(consented: Path) -> None:
    send(consented, tool(consented, "PreToolUse", "Skill", {"skill": "pdf"}))
    send(consented, tool(consented, "PreToolUse", "Skill", {"skill": "other-plugin:thing"}))
    assert read_events(consented) == []


@pytest.mark.parametrize(("interrupt", "outcome"), [(False, "failure"), (True, "cancelled")])
def test_post_tool_use_failure_fails_the_command_and_leaves_nothing_open(
    consented: Path, isolated_env: Path, interrupt: bool, outcome: str
) -> None:
    command = {"command": "/flow:implement feature-secret-x"}
    send(consented, tool(consented, "PreToolUse", "SlashCommand", command))
    send(
        consented,
        tool(consented, "PostToolUseFailure", "SlashCommand", command, is_interrupt=interrupt),
    )
    assert kinds(consented) == [
        ("command.started", "/flow:implement", None, None),
        ("command.failed", "/flow:implement", None, outcome),
    ]
    assert open_state(consented)["commands"] == 0
    assert_nothing_private(consented, isolated_env)


@pytest.mark.parametrize("tool_name", ["Agent", "Task"])
def test_a_failed_agent_is_closed(consented: Path, isolated_env: Path, tool_name: str) -> None:
    agent = {"description": "review", "prompt": "AKIAIOSFODNN7EXAMPLE", "subagent_type": "secure-by-design-engineer"}  # fmt: skip
    send(consented, tool(consented, "PreToolUse", tool_name, agent))
    send(consented, tool(consented, "PostToolUseFailure", tool_name, agent))
    assert kinds(consented) == [
        ("agent.invoked", None, "@secure-by-design-engineer", None),
        ("agent.failed", None, "@secure-by-design-engineer", "failure"),
    ]
    assert open_state(consented)["agents"] == 0
    assert_nothing_private(consented, isolated_env)


def test_plugin_agents_are_hashed_unless_the_catalog_knows_them(consented: Path) -> None:
    agent = {"prompt": "x", "subagent_type": "acme-tools:code-reviewer"}
    send(consented, tool(consented, "PreToolUse", "Agent", agent))
    first = read_events(consented)[-1]
    assert first["agent"].startswith("hmac:")
    workflow = consented / "flowspec_workflow.yml"
    workflow.write_text(
        workflow.read_text() + "\nextra_agents:\n  agents: ['acme-tools:code-reviewer']\n"
    )
    send(consented, tool(consented, "PreToolUse", "Agent", agent, tool_use_id="toolu_02"))
    assert read_events(consented)[-1]["agent"] == "@acme-tools:code-reviewer"


def test_subagent_start_and_stop_with_every_field(consented: Path, isolated_env: Path) -> None:
    send(consented, subagent(consented, "SubagentStart", "quality-guardian"))
    # a tool hook fired inside the sub-agent carries agent_id/agent_type: not a new agent
    send(
        consented,
        tool(consented, "PreToolUse", "Bash", {"command": "ls /home/jsmith"},
             agent_id="agent-9f8e7d", agent_type="quality-guardian"),
    )  # fmt: skip
    send(consented, subagent(consented, "SubagentStop", "quality-guardian"))
    assert kinds(consented) == [
        ("agent.invoked", None, "@quality-guardian", None),
        ("agent.completed", None, "@quality-guardian", "success"),
    ]
    assert_nothing_private(consented, isolated_env)


@pytest.mark.parametrize("reason", ["clear", "logout", "prompt_input_exit", "other"])
def test_session_end_closes_what_is_open(consented: Path, reason: str) -> None:
    send(consented, common(consented, "UserPromptSubmit", prompt="/flow:plan Fix the login for jsmith@example.com"))  # fmt: skip
    agent = {"prompt": "x", "subagent_type": "software-architect"}
    send(consented, tool(consented, "PreToolUse", "Agent", agent))
    send(consented, common(consented, "SessionEnd", reason=reason))
    assert kinds(consented) == [
        ("command.started", "/flow:plan", None, None),
        ("agent.invoked", "/flow:plan", "@software-architect", None),
        ("command.failed", "/flow:plan", None, "cancelled"),
        ("agent.failed", "/flow:plan", "@software-architect", "cancelled"),
    ]
    assert open_state(consented) == {"commands": 0, "agents": 0, "sessions": 0}


def test_stop_completes_and_a_later_session_end_adds_nothing(consented: Path) -> None:
    send(consented, common(consented, "UserPromptSubmit", prompt="/flow:specify"))
    send(consented, common(consented, "Stop", stop_hook_active=False, last_assistant_message="ok"))
    send(consented, common(consented, "SessionEnd", reason="other"))
    assert kinds(consented) == [
        ("command.started", "/flow:specify", None, None),
        ("command.completed", "/flow:specify", None, "success"),
    ]


def test_a_top_level_command_the_catalog_knows(consented: Path) -> None:
    send(consented, common(consented, "UserPromptSubmit", prompt="/vibe make it pop"))
    send(consented, common(consented, "UserPromptSubmit", prompt="/help"))
    assert kinds(consented) == [("command.started", "/vibe", None, None)]


def test_the_state_file_stays_bounded(consented: Path) -> None:
    """Issue 13.12: 20,000 unmatched tool starts in one session no longer grow the file."""
    tracker = Tracker()
    state = HookState()
    root = str(consented)
    for i in range(20_000):
        payload = tool(consented, "PreToolUse", "Agent", {"subagent_type": "sre-agent"},
                       tool_use_id=f"toolu_{i}", session_id=f"s{i % 300}")  # fmt: skip
        map_payload(payload, state, tracker, root, now_ns=10**18 + i)
        if i % 1000 == 0:
            state.prune(10**18 + i)
    state.prune(10**18 + 20_000)
    blob = state.dumps()
    assert len(blob) <= MAX_STATE_BYTES
    assert len(state.sessions) <= _hook_state.MAX_SESSIONS
    assert all(len(s["agents"]) <= _hook_state.MAX_OPEN for s in state.sessions.values())
    assert len(state.runs) <= _hook_state.MAX_RUNS

    # and through the real file: size stops growing after the bounds are reached
    sizes = []
    for i in range(600):
        raw = json.dumps(tool(consented, "PreToolUse", "Agent", {"subagent_type": "sre-agent"},
                              tool_use_id=f"t{i}")).encode()  # fmt: skip
        handle_payload(raw, tracker=tracker)
        if i in (300, 599):
            sizes.append((consented / ".flowspec" / STATE_FILE).stat().st_size)
    assert sizes[1] <= sizes[0] + 512 and sizes[1] < 64 << 10


@pytest.mark.parametrize("kind", ["fifo", "symlink", "folder", "huge"])
def test_a_hostile_state_file_never_blocks_the_hook(
    consented: Path, tmp_path: Path, kind: str
) -> None:
    folder = consented / ".flowspec"
    folder.mkdir(exist_ok=True)
    path = folder / STATE_FILE
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "symlink":
        path.symlink_to(tmp_path / "elsewhere.json")
    elif kind == "folder":
        path.mkdir()
    else:
        path.write_bytes(b"{" + b" " * (MAX_STATE_BYTES + 10) + b"}")
    started = time.monotonic()
    send(consented, common(consented, "UserPromptSubmit", prompt="/flow:plan"))
    assert time.monotonic() - started < 10
    assert not (tmp_path / "elsewhere.json").exists()
    if kind == "huge":  # not ours: started afresh, bounded again
        assert path.stat().st_size < MAX_STATE_BYTES
        assert kinds(consented) == [("command.started", "/flow:plan", None, None)]
    else:
        assert read_events(consented) == []
