"""flowspec's earlier telemetry module, read and called in this package's schema 1.0.

flowspec 0.4.x (`flowspec_cli.telemetry`) writes lines with no
`schema_version`: agents without `@`, the handoff pair and the previous role
in a free `context`, `+00:00` timestamps with microseconds, an unsalted
`metadata.hostname_hash`, and 15 event types of which five do not exist
here. This module is the ONE place that says what such a line means in
schema 1.0, used by every reader (through the history parser), by `migrate`,
by the compat module and by `track_role_event` for that module's call shapes,
so a line read from old history and an event recorded now through the old
API mean the same.

The rules (the README's "History from flowspec's built-in telemetry"):

* `agent.started` is `agent.invoked` (the agent began); `workflow.failed` is
  `workflow.completed` with outcome "failure"; `command.executed` is a run of
  the command (`command.started`); `agent.progress` and `handoff.completed`
  have no counterpart and keep their type, so they are counted, never merged
  into another.
* `role.selected` with a workflow command is what flowspec's slash command
  templates write after a run (`flowspec telemetry track-role ROLE --command
  /flow:implement`): a run of that command by that role. With a setup
  command (`flowspec init`, `/flow:init`, `/spec:configure`) or none it is a
  role selection, with source "init" or "config".
* Every mapped event keeps its old type in `legacy_type`. flowspec's module
  records one event per command run, never a start and an end, so a
  `command.*` event with `legacy_type` counts as a run (top commands) but
  stays out of completion rates: they compare paired starts and ends only.
* Kept: the event's time (to the millisecond, UTC), role, command and agent
  (`@name`), `context.previous_role`, `context.from_agent`/`to_agent`.
  Dropped: `metadata` (the unsalted host-name hash and whatever the host put
  there) and every other `context` key: free text this package never stores.

Standard library only and no `datetime` import unless a timestamp needs it:
the tracking path calls `legacy_track_args`.
"""

from __future__ import annotations

import re

TYPE_CHECKING = False
if TYPE_CHECKING:  # the tracking path never imports typing
    from typing import Any, Final

    from flowspec_telemetry.core.roles import Catalog

LEGACY_SCHEMA_VERSION: Final = "0"  # how readers tag a line without schema_version
LEGACY_TYPES: Final = frozenset(
    {
        "role.selected",
        "role.changed",
        "agent.invoked",
        "agent.started",
        "agent.completed",
        "agent.failed",
        "agent.progress",
        "handoff.clicked",
        "handoff.completed",
        "command.executed",
        "command.completed",
        "command.failed",
        "workflow.started",
        "workflow.completed",
        "workflow.failed",
    }
)
# flowspec type -> (schema 1.0 type, outcome). Types absent here keep their name.
_TYPES: Final[dict[str, tuple[str, str | None]]] = {
    "role.changed": ("role.changed", None),
    "agent.invoked": ("agent.invoked", None),
    "agent.started": ("agent.invoked", None),
    "agent.completed": ("agent.completed", "success"),
    "agent.failed": ("agent.failed", "failure"),
    "handoff.clicked": ("handoff.clicked", None),
    "command.executed": ("command.started", None),
    "command.completed": ("command.completed", "success"),
    "command.failed": ("command.failed", "failure"),
    "workflow.started": ("workflow.started", None),
    "workflow.completed": ("workflow.completed", "success"),
    "workflow.failed": ("workflow.completed", "failure"),
}
# Types with no schema 1.0 counterpart: read and counted under their own name,
# never recorded anew (nothing answers a question with them).
UNMAPPED_TYPES: Final = frozenset({"agent.progress", "handoff.completed"})
_MAX_VALUE: Final = 256
_AGENT_ID = r"^@?[A-Za-z0-9][\w.-]{0,63}\Z"
_WORDS = r"[^a-z0-9]+"
# `datetime.isoformat()` of an aware UTC time, with or without microseconds.
_UTC_ISO = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{6})?\+00:00\Z"


def _text(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    text = value.strip()
    return text[:_MAX_VALUE] if text else None


def agent_name(value: object) -> str | None:
    """An agent as this package names it: `@` + flowspec's bare name."""
    text = _text(value)
    if text is None:
        return None
    if re.match(_AGENT_ID, text):
        return text if text.startswith("@") else "@" + text
    return text


def setup_source(command: str | None) -> str | None:
    """`"init"` or `"config"` when `command` is a setup command, else None."""
    if command is None:
        return None
    words = set(re.split(_WORDS, command.lower()))
    if "init" in words:
        return "init"
    if words & {"configure", "config", "setup"}:
        return "config"
    return None


def utc_millis(value: object) -> str | None:
    """An ISO 8601 time as schema 1.0 writes it (UTC, milliseconds, `Z`), or None."""
    if not isinstance(value, str) or not 10 <= len(value) <= 64:
        return None
    if value.endswith("+00:00") and re.match(_UTC_ISO, value):  # what flowspec writes: no parse
        return value[:23] + "Z" if len(value) == 32 else value[:19] + ".000Z"
    from datetime import UTC, datetime

    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def _mapped(
    etype: str, role: object, command: object, agent: object, context: object
) -> dict[str, Any]:
    """The schema 1.0 fields of one flowspec event (no id, time or project)."""
    ctx = context if isinstance(context, dict) else {}
    out: dict[str, Any] = {}
    cmd = _text(command)
    agent_v = agent_name(agent)
    if etype == "role.selected":
        source = setup_source(cmd)
        if cmd is not None and source is None:  # a template's "track the command execution"
            out.update(event_type="command.started", role=_text(role), command=cmd, agent=agent_v)
        else:
            out.update(event_type="role.selected", role=_text(role), command=None, agent=agent_v)
            if source is not None:
                out["source"] = source
    else:
        new_type, outcome = _TYPES.get(etype, (etype, None))
        out.update(event_type=new_type, role=_text(role), command=cmd, agent=agent_v)
        if new_type == "role.changed":
            previous = _text(ctx.get("previous_role"))
            if previous is not None:
                out["previous_role"] = previous
            source = setup_source(cmd)
            if source is not None:  # `flowspec configure`: where, not a command run
                out["command"] = None
                out["source"] = source
        elif new_type == "handoff.clicked" or etype == "handoff.completed":
            to_agent = agent_name(ctx.get("to_agent")) or agent_v
            out["agent"] = None
            out["handoff"] = {"from_agent": agent_name(ctx.get("from_agent")), "to_agent": to_agent}
        if outcome is not None:
            out["outcome"] = outcome
    out["legacy_type"] = etype
    return out


def map_legacy(event: dict[str, Any], catalog: Catalog | None = None) -> dict[str, Any]:
    """One line of flowspec's module as a schema 1.0 event (see the module docstring).

    Pure and total: any dict gives a dict (a missing or odd value is left
    out), nothing in `metadata` or in free `context` keys survives. With a
    `catalog`, agents get their home role in `agent_role` as the tracker
    would give them (`migrate` passes it; readers need not).
    """
    etype = event.get("event_type")
    etype = etype.strip()[:64] if isinstance(etype, str) else ""
    out: dict[str, Any] = {"schema_version": "1.0"}
    timestamp = utc_millis(event.get("timestamp"))
    if timestamp is not None:
        out["timestamp"] = timestamp
    fields = _mapped(
        etype, event.get("role"), event.get("command"), event.get("agent"), event.get("context")
    )
    out["event_type"] = fields.pop("event_type")
    out.update(fields)
    if catalog is not None and isinstance(out.get("agent"), str):
        home = catalog.home_role(out["agent"])
        if home is not None:
            out["agent_role"] = home
    return out


def is_legacy(event: dict[str, Any]) -> bool:
    """Whether a parsed line came from flowspec's module (it has no schema version)."""
    version = event.get("schema_version")
    return version is None or version == LEGACY_SCHEMA_VERSION


def legacy_track_args(
    event_type: object,
    *,
    role: object = None,
    command: object = None,
    agent: object = None,
    context: object = None,
) -> tuple[str, dict[str, Any]] | None:
    """`track()` arguments for one call of flowspec's API, or None when it records nothing.

    The same meaning as `map_legacy` gives the line flowspec would have
    written, so old history and new events agree. None for the two types
    with no counterpart here (`agent.progress`, `handoff.completed`) and for
    a type flowspec does not have.
    """
    etype = getattr(event_type, "value", event_type)
    if not isinstance(etype, str) or etype not in LEGACY_TYPES or etype in UNMAPPED_TYPES:
        return None
    fields = _mapped(etype, role, command, agent, context)
    new_type = fields.pop("event_type")
    handoff = fields.pop("handoff", None)
    if handoff is not None:
        fields["from_agent"], fields["to_agent"] = handoff["from_agent"], handoff["to_agent"]
    return new_type, {k: v for k, v in fields.items() if v is not None}
