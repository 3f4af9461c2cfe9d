"""Claude Code hooks -> role events.

Claude Code runs `flowspec-telemetry hook claude-code` for each hook and
writes one JSON payload on stdin. This module maps it:

| hook payload | event |
| --- | --- |
| `UserPromptSubmit` whose prompt starts with a workflow command | `command.started` |
| `PreToolUse` of `SlashCommand` | `command.started` |
| `PostToolUse` of `SlashCommand` | `command.completed` for that command |
| `PreToolUse` of `Task`/`Agent` with `subagent_type` | `agent.invoked` |
| `PostToolUse` of `Task`/`Agent` | `agent.completed` (or `agent.failed`) |
| `SubagentStart` / `SubagentStop` with `agent_type` | the same, unless a tool hook counted it |
| `Stop` | `command.completed` for every command of the session still open |
| anything else | nothing |

Only the command token and the agent name are read from a payload: prompts,
tool inputs, paths and transcripts are never recorded. The session id is only
ever stored as a keyed hash. Starts and ends happen in different processes,
so open invocations are kept in `.flowspec/telemetry-hooks.json` (keyed
hashes and catalog values only), under an advisory lock.

A hook must never disturb the agent: whatever arrives, nothing is printed and
the process exits 0.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import sys
import time

from flowspec_telemetry.core.events import RoleEvent, new_invocation_id
from flowspec_telemetry.core.project import find_root
from flowspec_telemetry.core.tracker import Tracker, default_tracker

TYPE_CHECKING = False
if TYPE_CHECKING:  # a hook starts cold for every payload: no typing, dataclasses or pathlib
    from typing import Any, Final

__all__ = [
    "MAX_PAYLOAD_BYTES",
    "STATE_FILE",
    "Emit",
    "HookState",
    "command_token",
    "handle_payload",
    "handle_stdin",
    "map_payload",
]

STATE_FILE: Final = "telemetry-hooks.json"
MAX_PAYLOAD_BYTES: Final = 1 << 20
_STALE_NS: Final = 24 * 3600 * 1_000_000_000
_MAX_SESSIONS: Final = 200
_AGENT_TOOLS: Final = frozenset({"Task", "Agent"})
_COMMAND_TOKEN: Final = re.compile(r"^/[A-Za-z0-9][\w.-]{0,31}:[A-Za-z0-9][\w.-]{0,63}$")
_AGENT_TYPE: Final = re.compile(r"^[A-Za-z0-9][\w.-]{0,63}$")


class Emit:
    """One event to record."""

    __slots__ = ("event_type", "fields")

    def __init__(self, event_type: RoleEvent, fields: dict[str, Any] | None = None) -> None:
        self.event_type = event_type
        self.fields = fields if fields is not None else {}

    def __repr__(self) -> str:
        return f"Emit({self.event_type.value!r})"


def command_token(text: object, namespaces: frozenset[str]) -> str | None:
    """The workflow command a prompt starts with (`/flow:implement`), or None.

    Only the first token is looked at, and only when it lives in a namespace of
    the catalog's commands (`/flow:`), so an ordinary prompt yields nothing.
    """
    if not isinstance(text, str):
        return None
    token = text.lstrip()[:128].split(maxsplit=1)[0] if text.strip() else ""
    if not _COMMAND_TOKEN.match(token):
        return None
    if token.split(":", 1)[0] + ":" not in namespaces:
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


class HookState:
    """Open command and agent invocations per session, as stored on disk."""

    def __init__(self, data: dict[str, Any] | None = None) -> None:
        sessions = (data or {}).get("sessions")
        self.sessions: dict[str, dict[str, Any]] = sessions if isinstance(sessions, dict) else {}

    def session(self, key: str, now_ns: int) -> dict[str, Any]:
        entry = self.sessions.get(key)
        if not isinstance(entry, dict):
            entry = {}
            self.sessions[key] = entry
        if not isinstance(entry.get("commands"), list):
            entry["commands"] = []
        if not isinstance(entry.get("agents"), dict):
            entry["agents"] = {}
        entry["t"] = now_ns
        return entry

    def prune(self, now_ns: int) -> None:
        live = {
            k: v
            for k, v in self.sessions.items()
            if isinstance(v, dict) and isinstance(v.get("t"), int) and now_ns - v["t"] < _STALE_NS
        }
        newest = sorted(live.items(), key=lambda kv: kv[1]["t"], reverse=True)[:_MAX_SESSIONS]
        self.sessions = dict(newest)

    def to_json(self) -> dict[str, Any]:
        return {"v": 1, "sessions": self.sessions}


def _ms(now_ns: int, then: object) -> int | None:
    return (now_ns - then) // 1_000_000 if isinstance(then, int) and then <= now_ns else None


class _Mapper:
    """Maps one payload; holds what every hook kind needs (session, tracker, clock)."""

    def __init__(
        self, payload: dict[str, Any], state: HookState, tracker: Tracker, root: str, now_ns: int
    ) -> None:
        self.payload = payload
        self.tracker = tracker
        self.root = root
        self.now_ns = now_ns
        raw = payload.get("session_id")
        self.common: dict[str, Any] = {
            "session_id": raw if isinstance(raw, str) and raw else "no-session"
        }
        skey = tracker.keyed_hash("session:" + self.common["session_id"], root) or ""
        session = state.session(skey, now_ns)
        self.commands: list[dict[str, Any]] = session["commands"]
        self.agents: dict[str, dict[str, Any]] = session["agents"]
        tool_input = payload.get("tool_input")
        self.tool_input: dict[str, Any] = tool_input if isinstance(tool_input, dict) else {}
        tool_use = payload.get("tool_use_id")
        self.tool_key = self.hashed("tool:", tool_use) if isinstance(tool_use, str) else None
        self.current_command = self.commands[-1].get("command") if self.commands else None

    def hashed(self, kind: str, value: str) -> str:
        return self.tracker.keyed_hash(kind + value, self.root) or ""

    def namespaces(self) -> frozenset[str]:
        known = self.tracker.catalog(self.root).known_commands
        return frozenset(c.split(":", 1)[0] + ":" for c in known if ":" in c)

    def stored(self, field_name: str, value: str) -> str | None:
        return self.tracker.stored(field_name, value, self.root)

    # -- commands

    def start_command(self, command: str, key: str | None) -> list[Emit]:
        stored = self.stored("command", command)
        inv = new_invocation_id()
        self.commands.append({"k": key, "command": stored, "inv": inv, "t": self.now_ns})
        del self.commands[:-20]  # a runaway session never grows the file without bound
        fields = {**self.common, "command": stored, "invocation_id": inv}
        return [Emit(RoleEvent.COMMAND_STARTED, fields)]

    def finish_command(self, entry: dict[str, Any]) -> Emit:
        return Emit(
            RoleEvent.COMMAND_COMPLETED,
            {
                **self.common,
                "command": entry.get("command"),
                "invocation_id": entry.get("inv"),
                "duration_ms": _ms(self.now_ns, entry.get("t")),
                "outcome": "success",
            },
        )

    def prompt(self) -> list[Emit]:
        command = command_token(self.payload.get("prompt"), self.namespaces())
        return self.start_command(command, None) if command else []

    def slash_command(self, pre: bool) -> list[Emit]:
        command = command_token(self.tool_input.get("command"), self.namespaces())
        if not command:
            return []
        if pre:
            return self.start_command(command, self.tool_key)
        stored = self.stored("command", command)
        for i in range(len(self.commands) - 1, -1, -1):
            entry = self.commands[i]
            if (self.tool_key and entry.get("k") == self.tool_key) or entry.get(
                "command"
            ) == stored:
                return [self.finish_command(self.commands.pop(i))]
        fields = {**self.common, "command": stored, "outcome": "success"}
        return [Emit(RoleEvent.COMMAND_COMPLETED, fields)]

    def stop(self) -> list[Emit]:
        closed = [self.finish_command(entry) for entry in self.commands]
        self.commands.clear()
        return closed

    # -- agents

    def invoked(self, agent: str | None, key: str, via: str) -> list[Emit]:
        inv = new_invocation_id()
        self.agents[key] = {"agent": agent, "inv": inv, "t": self.now_ns, "via": via}
        fields = {
            **self.common,
            "agent": agent,
            "command": self.current_command,
            "invocation_id": inv,
        }
        return [Emit(RoleEvent.AGENT_INVOKED, fields)]

    def ended(self, agent: str | None, opened: dict[str, Any], *, failed: bool) -> list[Emit]:
        return [
            Emit(
                RoleEvent.AGENT_FAILED if failed else RoleEvent.AGENT_COMPLETED,
                {
                    **self.common,
                    "agent": agent,
                    "command": self.current_command,
                    "invocation_id": opened.get("inv"),
                    "duration_ms": _ms(self.now_ns, opened.get("t")),
                    "outcome": "failure" if failed else "success",
                },
            )
        ]

    def agent_tool(self, pre: bool) -> list[Emit]:
        kind = _agent_type(self.tool_input.get("subagent_type"))
        if kind is None:
            return []
        agent = self.stored("agent", kind)
        if pre:
            return self.invoked(agent, self.tool_key or "", "tool")
        opened = self.agents.pop(self.tool_key, {}) if self.tool_key else {}
        return self.ended(agent, opened, failed=_failed(self.payload.get("tool_response")))

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
            return [] if by_tool else self.ended(agent, {}, failed=False)
        return [] if opened.get("via") == "shadow" else self.ended(agent, opened, failed=False)

    def events(self) -> list[Emit]:
        hook = self.payload.get("hook_event_name")
        tool = self.payload.get("tool_name")
        if hook == "UserPromptSubmit":
            return self.prompt()
        if hook in ("PreToolUse", "PostToolUse") and tool == "SlashCommand":
            return self.slash_command(pre=hook == "PreToolUse")
        if hook in ("PreToolUse", "PostToolUse") and tool in _AGENT_TOOLS:
            return self.agent_tool(pre=hook == "PreToolUse")
        if hook in ("SubagentStart", "SubagentStop"):
            return self.subagent(start=hook == "SubagentStart")
        if hook == "Stop":
            return self.stop()
        return []


def map_payload(
    payload: dict[str, Any], state: HookState, tracker: Tracker, root: str, now_ns: int
) -> list[Emit]:
    """The events one payload stands for, updating `state` (open invocations)."""
    return _Mapper(payload, state, tracker, root, now_ns).events()


class _LockedState:
    """Read-modify-write of the state file under an exclusive advisory lock.

    The new state is written only when the block finished without an error.
    """

    def __init__(self, path: str) -> None:
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)

    def __enter__(self) -> HookState:
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX)
            raw = b""
            while chunk := os.read(self.fd, 1 << 16):
                raw += chunk
            try:
                data = json.loads(raw) if raw else None
            except ValueError:
                data = None
        except BaseException:
            os.close(self.fd)
            raise
        self.state = HookState(data if isinstance(data, dict) else None)
        return self.state

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            if exc_type is None:
                blob = json.dumps(self.state.to_json(), separators=(",", ":")).encode()
                os.lseek(self.fd, 0, os.SEEK_SET)
                os.ftruncate(self.fd, 0)
                os.write(self.fd, blob)
        finally:
            os.close(self.fd)


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
    with _LockedState(os.path.join(folder, STATE_FILE)) as state:
        emits = map_payload(payload, state, tracker, root, now_ns)
        state.prune(now_ns)
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
