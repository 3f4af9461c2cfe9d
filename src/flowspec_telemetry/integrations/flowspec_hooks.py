"""flowspec's own lifecycle events -> role events.

flowspec has an event system of its own (`flowspec_cli.hooks`): its commands
and templates emit `implement.started`, `implement.completed`,
`spec.created`, `agent.handoff`, ... and its `EventEmitter` runs every hook
of `.flowspec/hooks/hooks.yaml` whose `events` match. `install-hooks
--flowspec` adds one entry there that runs `flowspec-telemetry hook
flowspec`; flowspec's `HookRunner` starts it with `bash -c`, the project as
working folder, a reduced environment, and the event as JSON in `HOOK_EVENT`
(`Event.to_json()`: `event_type`, `event_id`, `timestamp`, `project_root`,
`feature`, `context`, ...). Its stdin is flowspec's own, so it is never read.

| flowspec event | event |
| --- | --- |
| `implement.started`, `validate.started`, `<x>.started` | `command.started` of `/flow:<x>` |
| `implement.completed`, `research.completed`, `<x>.completed` | `command.completed` |
| `workflow.assessed`, `spec.created`, `plan.created` | `command.completed` (assess, ...) |
| `submit-pr.completed` | `command.completed` of `/flow:submit-n-watch-pr` |
| `<x>.failed` | `command.failed` |
| `agent.started` / `agent.completed` / `agent.error` | `agent.invoked` / `.completed` / `.failed` |
| `agent.handoff` | `handoff.clicked` |
| anything else (`task.*`, `spec.updated`, `agent.progress`) | nothing |

`<x>` must be a catalog command (`/flow:<x>`), agents catalog agents.

Only `event_type` and, for agent events, `context.agent_id` /
`context.target_agent` are read; features, task ids, paths, messages and
machine names never are. An agent id flowspec makes up for a machine
(`claude-code@<hostname>`) is not an agent: such events are not recorded.
A run also seen through Claude Code's hooks or a template call is counted
once (`_runs`). Whatever arrives, the hook prints nothing and exits 0, so it
never fails flowspec's workflow.
"""

from __future__ import annotations

import json
import os
import time

from flowspec_telemetry.core.events import RoleEvent
from flowspec_telemetry.core.project import find_root
from flowspec_telemetry.core.tracker import Tracker, default_tracker
from flowspec_telemetry.integrations import _runs
from flowspec_telemetry.integrations._hook_state import STATE_FILE, LockedState

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any, Final

__all__ = [
    "EVENT_TYPES",
    "HOOK_NAME",
    "MAX_EVENT_BYTES",
    "SOURCE",
    "handle_env",
    "handle_event",
    "map_event",
]

HOOK_NAME: Final = "flowspec-telemetry"
SOURCE: Final = "flowspec-hooks"
MAX_EVENT_BYTES: Final = 256 << 10
# flowspec event -> the workflow command it completes (the ones not named `<x>.completed`)
_COMPLETES: Final = {
    "workflow.assessed": "/flow:assess",
    "spec.created": "/flow:specify",
    "plan.created": "/flow:plan",
    "submit-pr.completed": "/flow:submit-n-watch-pr",
}
_PHASES: Final = {"started": "started", "completed": "completed", "failed": "failed"}
_AGENT_EVENTS: Final = {
    "agent.started": (RoleEvent.AGENT_INVOKED, "started", "success"),
    "agent.completed": (RoleEvent.AGENT_COMPLETED, "completed", "success"),
    "agent.error": (RoleEvent.AGENT_FAILED, "failed", "failure"),
}
# What the hooks.yaml entry subscribes to (flowspec matches with fnmatch).
EVENT_TYPES: Final = (
    "*.started",
    "*.completed",
    "*.failed",
    "workflow.assessed",
    "spec.created",
    "plan.created",
    "agent.error",
    "agent.handoff",
)


def _command_of(event_type: str, known: frozenset[str]) -> tuple[str, str] | None:
    """(command, phase) a flowspec event type stands for, or None."""
    if event_type in _COMPLETES:
        return _COMPLETES[event_type], "completed"
    domain, _, action = event_type.partition(".")
    phase = _PHASES.get(action)
    if phase is None or domain == "agent":
        return None
    command = f"/flow:{domain}"
    return (command, phase) if command in known else None


def _agent(value: object, known: frozenset[str]) -> str | None:
    """A catalog agent named by flowspec (`backend-engineer`, `@backend-engineer`), or None.

    `name@machine` ids carry a host name: never stored, and only their name
    part is looked up in the catalog.
    """
    if not isinstance(value, str) or not value or len(value) > 128:
        return None
    name = value.strip()
    if "@" in name[1:]:
        name = name.lstrip("@").split("@", 1)[0]
    name = name if name.startswith("@") else "@" + name
    return name if name in known else None


class _Event:
    """One flowspec event, as far as it is read."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        kind = data.get("event_type")
        self.event_type = kind if isinstance(kind, str) and len(kind) <= 64 else ""
        context = data.get("context")
        self.context: Mapping[str, Any] = context if isinstance(context, dict) else {}


def map_event(
    data: Mapping[str, Any], state: Any, tracker: Tracker, root: str, now_ns: int
) -> list[tuple[RoleEvent, dict[str, Any]]]:
    """The events one flowspec event stands for (deduplicated through `state`'s ledger)."""
    event = _Event(data)
    catalog = tracker.catalog(root)
    found = _command_of(event.event_type, catalog.known_commands)
    if found is not None:
        command, phase = found
        stored = tracker.stored("command", command, root)
        claim = _runs.claim(state, f"command:{stored}", phase, SOURCE, now_ns)
        if not claim.counted:
            return []
        fields: dict[str, Any] = {"command": stored, "invocation_id": claim.invocation_id}
        if phase == "started":
            return [(RoleEvent.COMMAND_STARTED, fields)]
        fields["duration_ms"] = claim.duration_ms
        if phase == "failed":
            return [(RoleEvent.COMMAND_FAILED, {**fields, "outcome": "failure"})]
        return [(RoleEvent.COMMAND_COMPLETED, {**fields, "outcome": "success"})]
    agents = catalog.known_agents
    if event.event_type in _AGENT_EVENTS:
        kind, phase, outcome = _AGENT_EVENTS[event.event_type]
        agent = _agent(event.context.get("agent_id") or event.context.get("agent"), agents)
        if agent is None:
            return []
        claim = _runs.claim(state, f"agent:{agent}", phase, SOURCE, now_ns)
        if not claim.counted:
            return []
        fields = {"agent": agent, "invocation_id": claim.invocation_id}
        if phase != "started":
            fields.update(duration_ms=claim.duration_ms, outcome=outcome)
        return [(kind, fields)]
    if event.event_type == "agent.handoff":
        source = _agent(event.context.get("agent_id"), agents)
        target = _agent(event.context.get("target_agent"), agents)
        if source is None or target is None:
            return []
        return [(RoleEvent.HANDOFF_CLICKED, {"from_agent": source, "to_agent": target})]
    return []


def handle_event(
    raw: str | bytes, *, tracker: Tracker | None = None, cwd: str | None = None
) -> int:
    """Record what one flowspec event (its JSON) stands for; return how many were recorded."""
    tracker = tracker or default_tracker()
    if len(raw) > MAX_EVENT_BYTES:
        return 0
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return 0
    if not isinstance(data, dict):
        return 0
    root = find_root(cwd or os.getcwd(), tracker.names)
    if root is None or not tracker.enabled(root):
        return 0
    folder = os.path.join(root, tracker.names.project_dir)
    if not os.path.isdir(folder) and tracker.keyed_hash("probe", root) is None:
        return 0
    now_ns = time.time_ns()
    try:
        with LockedState(os.path.join(folder, STATE_FILE)) as state:
            emits = map_event(data, state, tracker, root, now_ns)
            state.prune(now_ns)
    except OSError:
        return 0
    return sum(1 for kind, fields in emits if tracker.track(kind, project_root=root, **fields))


def _inherited_opt_out(tracker: Tracker) -> bool:
    """Whether a process above the hook (flowspec, the person's shell) set an opt-out variable.

    flowspec's `HookRunner` passes its hooks only PATH, HOME, USER, LANG and
    LC_ALL, so `DO_NOT_TRACK=1` set for `flowspec` would not reach this
    process. On Linux the ancestors' environments are readable in /proc:
    the nearest few are checked, and any opt-out there is honoured.
    """
    from flowspec_telemetry.core import consent_rules
    from flowspec_telemetry.core._read import read_bounded

    pid = os.getppid()
    for _ in range(4):
        if pid <= 1:
            return False
        try:
            raw = read_bounded(f"/proc/{pid}/environ", 1 << 20)
            stat = read_bounded(f"/proc/{pid}/stat", 4096).decode("ascii", "replace")
        except OSError:
            return False
        environ = {}
        for item in raw.split(b"\0"):
            name, eq, value = item.partition(b"=")
            if eq:
                environ[name.decode("utf-8", "replace")] = value.decode("utf-8", "replace")
        decision = consent_rules.env_rule(tracker.names, environ)
        if decision is not None and not decision.enabled:
            return True
        try:
            pid = int(stat.rsplit(")", 1)[1].split()[1])
        except (IndexError, ValueError):
            return False
    return False


def handle_env() -> int:
    """The `hook flowspec` entry: the event is in `HOOK_EVENT`; stdin is never read."""
    raw = os.environ.get("HOOK_EVENT", "")
    if not raw:
        return 0
    tracker = default_tracker()
    if _inherited_opt_out(tracker):
        return 0
    return handle_event(raw, tracker=tracker)
