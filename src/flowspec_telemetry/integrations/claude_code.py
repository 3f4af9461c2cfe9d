"""Claude Code hooks -> role events.

Claude Code runs `flowspec-telemetry hook claude-code` for each hook and
writes one JSON payload on stdin. This module maps it:

| hook payload | event |
| --- | --- |
| `UserPromptSubmit` whose prompt starts with a catalog command | `command.started` |
| `PreToolUse` of `SlashCommand` or `Skill` (`flow:validate`) | `command.started` |
| `PostToolUse` of `SlashCommand` or `Skill` | `command.completed` for that command |
| `PostToolUseFailure` of `SlashCommand` or `Skill` | `command.failed` (or `cancelled`) |
| `PreToolUse` of `Task`/`Agent` with `subagent_type` (or `plugin:agent`) | `agent.invoked` |
| `PostToolUse` of `Task`/`Agent` | `agent.completed` (or `agent.failed`) |
| `PostToolUseFailure` of `Task`/`Agent` | `agent.failed` (`cancelled` if interrupted) |
| `SubagentStart` / `SubagentStop` with `agent_type` | the same, unless a tool hook counted it |
| `Stop` | `command.completed` for every command of the session still open |
| `SessionEnd` | `command.failed` / `agent.failed` (`cancelled`) for what is still open |
| anything else | nothing |

Only the command token and the agent name are read from a payload: prompts,
tool inputs, paths and transcripts are never recorded. The session id and
tool/agent ids are only ever stored as keyed hashes. Starts and ends happen
in different processes, so open invocations are kept in the hook state file
(`_hook_state`), and one run seen also by flowspec's own events or a template
call is counted once (`_runs`).

A hook must never disturb the agent: whatever arrives, nothing is printed and
the process exits 0.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time

from flowspec_telemetry.core.events import RoleEvent
from flowspec_telemetry.core.project import find_root
from flowspec_telemetry.core.tracker import Tracker, default_tracker
from flowspec_telemetry.integrations import _runs
from flowspec_telemetry.integrations._hook_state import (
    STATE_FILE,
    HookState,
    LockedState,
)

TYPE_CHECKING = False
if TYPE_CHECKING:  # a hook starts cold for every payload: no typing, dataclasses or pathlib
    from typing import Any, Final

__all__ = [
    "HOOK_EVENTS",
    "MAX_PAYLOAD_BYTES",
    "STATE_FILE",
    "TOOL_MATCHER",
    "Emit",
    "HookState",
    "command_token",
    "handle_payload",
    "handle_stdin",
    "map_payload",
]

MAX_PAYLOAD_BYTES: Final = 1 << 20
SOURCE: Final = "claude-code"
_AGENT_TOOLS: Final = frozenset({"Task", "Agent"})
_COMMAND_TOOLS: Final = frozenset({"SlashCommand", "Skill"})
TOOL_MATCHER: Final = "Task|Agent|SlashCommand|Skill"
# Every hook event the adapter listens to -> its matcher (None: the event takes none).
HOOK_EVENTS: Final[dict[str, str | None]] = {
    "UserPromptSubmit": None,
    "PreToolUse": TOOL_MATCHER,
    "PostToolUse": TOOL_MATCHER,
    "PostToolUseFailure": TOOL_MATCHER,
    "SubagentStart": None,
    "SubagentStop": None,
    "Stop": None,
    "SessionEnd": None,
}
_COMMAND_TOKEN: Final = re.compile(
    r"^/[A-Za-z0-9][\w.-]{0,31}(?::[A-Za-z0-9][\w.-]{0,63})?\Z", re.ASCII
)
# an agent type as Claude Code gives it: `backend-engineer`, or `plugin:agent` for plugins
_AGENT_TYPE: Final = re.compile(
    r"^[A-Za-z0-9][\w.-]{0,63}(?::[A-Za-z0-9][\w.-]{0,63})?\Z", re.ASCII
)


class Emit:
    """One event to record."""

    __slots__ = ("event_type", "fields")

    def __init__(self, event_type: RoleEvent, fields: dict[str, Any] | None = None) -> None:
        self.event_type = event_type
        self.fields = fields if fields is not None else {}

    def __repr__(self) -> str:
        return f"Emit({self.event_type.value!r})"


def command_token(
    text: object, namespaces: frozenset[str], known: frozenset[str] = frozenset()
) -> str | None:
    """The workflow command a prompt starts with (`/flow:implement`), or None.

    Only the first token is looked at, and only when it is a catalog command
    or lives in a namespace of the catalog's commands (`/flow:`), so an
    ordinary prompt (or `/help`) yields nothing.
    """
    if not isinstance(text, str) or not text.strip():
        return None
    token = text.lstrip()[:128].split(maxsplit=1)[0]
    if not _COMMAND_TOKEN.match(token):
        return None
    if token in known:
        return token
    if ":" not in token or token.split(":", 1)[0] + ":" not in namespaces:
        return None
    return token


def _agent_type(value: object) -> str | None:
    if isinstance(value, str) and _AGENT_TYPE.match(value):
        return value
    return None


def _failed(response: object) -> bool:
    if isinstance(response, dict):
        if response.get("is_error") is True or response.get("success") is False:
            return True
        return bool(response.get("error"))
    return False


def _ms(now_ns: int, then: object) -> int | None:
    return (now_ns - then) // 1_000_000 if isinstance(then, int) and then <= now_ns else None


class _Mapper:
    """Maps one payload; holds what every hook kind needs (session, tracker, clock)."""

    def __init__(
        self, payload: dict[str, Any], state: HookState, tracker: Tracker, root: str, now_ns: int
    ) -> None:
        self.payload = payload
        self.state = state
        self.tracker = tracker
        self.root = root
        self.now_ns = now_ns
        raw = payload.get("session_id")
        self.common: dict[str, Any] = {
            "session_id": raw if isinstance(raw, str) and raw else "no-session"
        }
        self.skey = tracker.keyed_hash("session:" + self.common["session_id"], root) or ""
        session = state.session(self.skey, now_ns)
        self.commands: list[dict[str, Any]] = session["commands"]
        self.agents: dict[str, dict[str, Any]] = session["agents"]
        tool_input = payload.get("tool_input")
        self.tool_input: dict[str, Any] = tool_input if isinstance(tool_input, dict) else {}
        tool_use = payload.get("tool_use_id")
        self.tool_key = self.hashed("tool:", tool_use) if isinstance(tool_use, str) else None
        self.current_command = self.commands[-1].get("command") if self.commands else None

    def hashed(self, kind: str, value: str) -> str:
        return self.tracker.keyed_hash(kind + value, self.root) or ""

    def catalog_commands(self) -> tuple[frozenset[str], frozenset[str]]:
        known = self.tracker.catalog(self.root).known_commands
        return frozenset(c.split(":", 1)[0] + ":" for c in known if ":" in c), known

    def token(self, text: object) -> str | None:
        namespaces, known = self.catalog_commands()
        return command_token(text, namespaces, known)

    def stored(self, field_name: str, value: str) -> str | None:
        return self.tracker.stored(field_name, value, self.root)

    def claim(self, key: str, phase: str, invocation_id: str | None = None) -> _runs.Claim:
        return _runs.claim(self.state, key, phase, SOURCE, self.now_ns, invocation_id=invocation_id)

    # -- commands

    def start_command(self, command: str, key: str | None) -> list[Emit]:
        stored = self.stored("command", command)
        claim = self.claim(f"command:{stored}", "started")
        self.commands.append(
            {"k": key, "command": stored, "inv": claim.invocation_id, "t": self.now_ns}
        )
        if not claim.counted:  # flowspec's own event or a template call already counted it
            return []
        fields = {**self.common, "command": stored, "invocation_id": claim.invocation_id}
        return [Emit(RoleEvent.COMMAND_STARTED, fields)]

    def end_command(self, entry: dict[str, Any], outcome: str = "success") -> list[Emit]:
        command = entry.get("command")
        inv = entry.get("inv")
        claim = self.claim(f"command:{command}", "ended", inv if isinstance(inv, str) else None)
        if not claim.counted:
            return []
        return [
            Emit(
                RoleEvent.COMMAND_COMPLETED if outcome == "success" else RoleEvent.COMMAND_FAILED,
                {
                    **self.common,
                    "command": command,
                    "invocation_id": claim.invocation_id,
                    "duration_ms": _ms(self.now_ns, entry.get("t")),
                    "outcome": outcome,
                },
            )
        ]

    def prompt(self) -> list[Emit]:
        command = self.token(self.payload.get("prompt"))
        return self.start_command(command, None) if command else []

    def tool_command(self) -> str | None:
        if self.payload.get("tool_name") == "Skill":
            skill = self.tool_input.get("skill")  # `flow:validate`: no leading slash
            return self.token("/" + skill.lstrip("/") if isinstance(skill, str) else None)
        return self.token(self.tool_input.get("command"))

    def command_tool(self, hook: str) -> list[Emit]:
        command = self.tool_command()
        if not command:
            return []
        if hook == "PreToolUse":
            return self.start_command(command, self.tool_key)
        outcome = "success"
        if hook == "PostToolUseFailure":
            outcome = "cancelled" if self.payload.get("is_interrupt") is True else "failure"
        elif _failed(self.payload.get("tool_response")):
            outcome = "failure"
        stored = self.stored("command", command)
        for i in range(len(self.commands) - 1, -1, -1):
            entry = self.commands[i]
            if (self.tool_key and entry.get("k") == self.tool_key) or entry.get(
                "command"
            ) == stored:
                return self.end_command(self.commands.pop(i), outcome)
        return self.end_command({"command": stored}, outcome)

    def close_commands(self, outcome: str) -> list[Emit]:
        closed = [e for entry in self.commands for e in self.end_command(entry, outcome)]
        self.commands.clear()
        return closed

    # -- agents

    def invoked(self, agent: str | None, key: str, via: str) -> list[Emit]:
        claim = self.claim(f"agent:{agent}", "started")
        inv = claim.invocation_id
        self.agents[key] = {"agent": agent, "inv": inv, "t": self.now_ns, "via": via}
        if not claim.counted:
            return []
        fields = {
            **self.common,
            "agent": agent,
            "command": self.current_command,
            "invocation_id": inv,
        }
        return [Emit(RoleEvent.AGENT_INVOKED, fields)]

    def ended(self, agent: str | None, opened: dict[str, Any], outcome: str) -> list[Emit]:
        inv = opened.get("inv")
        claim = self.claim(f"agent:{agent}", "ended", inv if isinstance(inv, str) else None)
        if not claim.counted:
            return []
        return [
            Emit(
                RoleEvent.AGENT_COMPLETED if outcome == "success" else RoleEvent.AGENT_FAILED,
                {
                    **self.common,
                    "agent": agent,
                    "command": self.current_command,
                    "invocation_id": claim.invocation_id,
                    "duration_ms": _ms(self.now_ns, opened.get("t")),
                    "outcome": outcome,
                },
            )
        ]

    def agent_tool(self, hook: str) -> list[Emit]:
        kind = _agent_type(self.tool_input.get("subagent_type"))
        if kind is None:
            return []
        agent = self.stored("agent", kind)
        if hook == "PreToolUse":
            return self.invoked(agent, self.tool_key or "", "tool")
        opened = self.agents.pop(self.tool_key, {}) if self.tool_key else {}
        if hook == "PostToolUseFailure":
            interrupted = self.payload.get("is_interrupt") is True
            return self.ended(agent, opened, "cancelled" if interrupted else "failure")
        failed = _failed(self.payload.get("tool_response"))
        return self.ended(agent, opened, "failure" if failed else "success")

    def subagent(self, start: bool) -> list[Emit]:
        kind = _agent_type(self.payload.get("agent_type"))
        agent_id = self.payload.get("agent_id")
        if kind is None or not isinstance(agent_id, str):
            return []
        agent = self.stored("agent", kind)
        key = self.hashed("subagent:", agent_id)
        by_tool = any(
            a.get("via") == "tool" and a.get("agent") == agent for a in self.agents.values()
        )
        if start:
            if by_tool:  # the Task/Agent tool hook counts this one
                self.agents[key] = {"agent": agent, "t": self.now_ns, "via": "shadow"}
                return []
            return self.invoked(agent, key, "subagent")
        opened = self.agents.pop(key, None)
        if opened is None:
            return [] if by_tool else self.ended(agent, {}, "success")
        return [] if opened.get("via") == "shadow" else self.ended(agent, opened, "success")

    def session_end(self) -> list[Emit]:
        """Whatever is still open when the session ends was cut short: nothing stays open."""
        emits = self.close_commands("cancelled")
        for opened in self.agents.values():
            if opened.get("via") != "shadow":
                emits.extend(self.ended(opened.get("agent"), opened, "cancelled"))
        self.state.drop_session(self.skey)
        return emits

    def events(self) -> list[Emit]:
        hook = self.payload.get("hook_event_name")
        tool = self.payload.get("tool_name")
        if hook == "UserPromptSubmit":
            return self.prompt()
        if hook in ("PreToolUse", "PostToolUse", "PostToolUseFailure"):
            if tool in _COMMAND_TOOLS:
                return self.command_tool(hook)
            if tool in _AGENT_TOOLS:
                return self.agent_tool(hook)
            return []
        if hook in ("SubagentStart", "SubagentStop"):
            return self.subagent(start=hook == "SubagentStart")
        if hook == "Stop":
            return self.close_commands("success")
        if hook == "SessionEnd":
            return self.session_end()
        return []


def map_payload(
    payload: dict[str, Any], state: HookState, tracker: Tracker, root: str, now_ns: int
) -> list[Emit]:
    """The events one payload stands for, updating `state` (open invocations, runs)."""
    return _Mapper(payload, state, tracker, root, now_ns).events()


def handle_payload(raw: bytes, *, tracker: Tracker | None = None, cwd: str | None = None) -> int:
    """Record what one raw payload stands for; return how many events were recorded."""
    tracker = tracker or default_tracker()
    try:
        payload = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return 0
    if not isinstance(payload, dict) or not isinstance(payload.get("hook_event_name"), str):
        return 0
    start = payload.get("cwd")
    if not (isinstance(start, str) and os.path.isabs(start) and os.path.isdir(start)):
        start = cwd or os.getcwd()
    root = find_root(start, tracker.names)
    if root is None or not tracker.enabled(root):
        return 0
    folder = os.path.join(root, tracker.names.project_dir)
    if not os.path.isdir(folder) and tracker.keyed_hash("probe", root) is None:
        return 0
    now_ns = time.time_ns()
    try:
        with LockedState(os.path.join(folder, STATE_FILE)) as state:
            emits = map_payload(payload, state, tracker, root, now_ns)
            state.prune(now_ns)
    except OSError:  # a state file that is not ours to use (FIFO, symlink, ...): record nothing
        return 0
    recorded = 0
    for emit in emits:
        if tracker.track(emit.event_type, project_root=root, **emit.fields):
            recorded += 1
    return recorded


def handle_stdin() -> int:
    """The `hook claude-code` entry: read at most 1 MiB from stdin and map it."""
    raw = sys.stdin.buffer.read(MAX_PAYLOAD_BYTES + 1)
    if len(raw) > MAX_PAYLOAD_BYTES:
        return 0
    return handle_payload(raw)
