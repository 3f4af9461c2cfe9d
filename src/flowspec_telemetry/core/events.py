"""The event model: one definition of every event type and field.

The privacy notice, the `schema` command and validation are all generated from
`EVENT_TYPES`, `FIELDS` and `NEVER_COLLECTED` below, so what we tell people and
what the code records cannot drift apart.

Reading is lenient on purpose: unknown keys are kept, unknown schema versions
are read as far as they are understood, and lines written by flowspec's earlier
telemetry module (no `schema_version`) are read as schema "0".
"""

from __future__ import annotations

import json
import os
import time
from enum import StrEnum

from flowspec_telemetry.core._legacy import LEGACY_SCHEMA_VERSION, map_legacy

TYPE_CHECKING = False
if TYPE_CHECKING:  # the tracking path never imports typing (see cli/fast.py)
    from collections.abc import Callable, Iterable
    from typing import Any, Final

__all__ = [
    "EVENT_TYPES",
    "EVENT_TYPE_VALUES",
    "FIELDS",
    "FIELD_NAMES",
    "LEGACY_SCHEMA_VERSION",
    "MAX_LINE_BYTES",
    "NEVER_COLLECTED",
    "OUTCOMES",
    "SCHEMA_VERSION",
    "EventTypeSpec",
    "FieldSpec",
    "RoleEvent",
    "Sensitivity",
    "common_fields",
    "dumps_line",
    "new_event_id",
    "new_invocation_id",
    "parse_line",
    "ulid",
    "utc_timestamp",
]


SCHEMA_VERSION: Final = "1.0"
MAX_LINE_BYTES: Final = 4096


class RoleEvent(StrEnum):
    """Event types; the values are the wire strings."""

    ROLE_SELECTED = "role.selected"
    ROLE_CHANGED = "role.changed"
    AGENT_INVOKED = "agent.invoked"
    AGENT_COMPLETED = "agent.completed"
    AGENT_FAILED = "agent.failed"
    COMMAND_STARTED = "command.started"
    COMMAND_COMPLETED = "command.completed"
    COMMAND_FAILED = "command.failed"
    HANDOFF_OFFERED = "handoff.offered"
    HANDOFF_CLICKED = "handoff.clicked"
    WORKFLOW_STARTED = "workflow.started"
    WORKFLOW_COMPLETED = "workflow.completed"


EVENT_TYPE_VALUES: Final = frozenset(e.value for e in RoleEvent)


class Sensitivity(StrEnum):
    """How a field's value is treated before it is written."""

    GENERATED = "generated"  # made by the library (ids, times, schema version)
    CATALOG_OR_HASH = "catalog value as is, anything else as a keyed hash"
    HASH = "always a keyed hash"
    MEASURED = "a number or enum measured by the library"
    COARSE = "coarse environment facts (no names, no paths)"


class FieldSpec:
    """One key of the event line."""

    __slots__ = ("example", "name", "purpose", "sensitivity")

    def __init__(self, name: str, purpose: str, sensitivity: Sensitivity, example: Any) -> None:
        self.name = name
        self.purpose = purpose
        self.sensitivity = sensitivity
        self.example = example

    def __repr__(self) -> str:
        return f"FieldSpec({self.name!r}, {self.sensitivity.name})"


FIELDS: Final[tuple[FieldSpec, ...]] = (
    FieldSpec("schema_version", "format of this line", Sensitivity.GENERATED, SCHEMA_VERSION),
    FieldSpec(
        "event_id",
        "unique, time-sortable id (evt_ + ULID)",
        Sensitivity.GENERATED,
        "evt_01JDQ7ZK3M8W4X2Y6B9C0D1E2F",
    ),
    FieldSpec(
        "timestamp",
        "when, UTC to the millisecond",
        Sensitivity.GENERATED,
        "2026-11-27T09:30:00.000Z",
    ),
    FieldSpec("event_type", "what happened", Sensitivity.GENERATED, "agent.invoked"),
    FieldSpec("role", "the role of the person at work", Sensitivity.CATALOG_OR_HASH, "dev"),
    FieldSpec(
        "previous_role", "the role a person switched away from", Sensitivity.CATALOG_OR_HASH, "dev"
    ),
    FieldSpec(
        "agent_role", "the agent's home role in the catalog", Sensitivity.CATALOG_OR_HASH, "sec"
    ),
    FieldSpec("command", "workflow command", Sensitivity.CATALOG_OR_HASH, "/flow:implement"),
    FieldSpec("agent", "agent identity", Sensitivity.CATALOG_OR_HASH, "@secure-by-design-engineer"),
    FieldSpec(
        "project_id", "keyed hash of the project root", Sensitivity.HASH, "hmac:3f1c0a9b7d2e4f60"
    ),
    FieldSpec(
        "session_id", "keyed hash of the host session id", Sensitivity.HASH, "hmac:9a8b7c6d5e4f3a2b"
    ),
    FieldSpec(
        "invocation_id",
        "pairs the started/completed/failed events of one run "
        "(our own inv_ id; an id the host passes is stored as a keyed hash)",
        Sensitivity.GENERATED,
        "inv_01JDQ7ZK3M8W4X2Y6B9C0D1E2F",
    ),
    FieldSpec(
        "handoff",
        "from_agent and to_agent of a handoff",
        Sensitivity.CATALOG_OR_HASH,
        {"from_agent": "@pm-planner", "to_agent": "@software-architect"},
    ),
    FieldSpec("duration_ms", "how long a command or agent ran", Sensitivity.MEASURED, 1234),
    FieldSpec(
        "outcome", "success, failure, cancelled, timeout or error", Sensitivity.MEASURED, "success"
    ),
    FieldSpec(
        "source", "where a role was selected (init, cli, ...)", Sensitivity.CATALOG_OR_HASH, "init"
    ),
    FieldSpec(
        "legacy_type",
        "the event type of flowspec's earlier telemetry API this event was recorded as "
        "(its lines, its compat module, its template calls); a command run with it has "
        "no recorded end",
        Sensitivity.GENERATED,
        "command.executed",
    ),
    FieldSpec(
        "context",
        "operating system family, Python minor version, tool version, whether in CI",
        Sensitivity.COARSE,
        {"os": "linux", "python": "3.11", "tool_version": "0.1.0", "ci": False},
    ),
)

FIELD_NAMES: Final = tuple(f.name for f in FIELDS)
_COMMON: Final = (
    "schema_version",
    "event_id",
    "timestamp",
    "event_type",
    "role",
    "project_id",
    "context",
)


class EventTypeSpec:
    """One event type: why it exists and the fields it uses beyond the common ones."""

    __slots__ = ("event_type", "fields", "purpose")

    def __init__(self, event_type: RoleEvent, purpose: str, fields: tuple[str, ...]) -> None:
        self.event_type = event_type
        self.purpose = purpose
        self.fields = fields

    def __repr__(self) -> str:
        return f"EventTypeSpec({self.event_type.value!r})"


# The optional fields of each kind of event: a run starts, then ends with a duration and outcome.
_RUN: Final = ("command", "session_id", "invocation_id")
_RUN_END: Final = (*_RUN, "duration_ms", "outcome")
_AGENT_RUN: Final = ("agent", "agent_role", *_RUN)
_AGENT_RUN_END: Final = ("agent", "agent_role", *_RUN_END)
_HANDOFF: Final = ("handoff", "command", "session_id")

EVENT_TYPES: Final[dict[RoleEvent, EventTypeSpec]] = {
    s.event_type: s
    for s in (
        EventTypeSpec(
            RoleEvent.ROLE_SELECTED, "a person picked a role (at init or later)", ("source",)
        ),
        EventTypeSpec(
            RoleEvent.ROLE_CHANGED,
            "a person switched from one role to another",
            ("previous_role", "source"),
        ),
        EventTypeSpec(RoleEvent.AGENT_INVOKED, "an agent was started", _AGENT_RUN),
        EventTypeSpec(RoleEvent.AGENT_COMPLETED, "an agent finished", _AGENT_RUN_END),
        EventTypeSpec(RoleEvent.AGENT_FAILED, "an agent failed", _AGENT_RUN_END),
        EventTypeSpec(RoleEvent.COMMAND_STARTED, "a workflow command started", _RUN),
        EventTypeSpec(RoleEvent.COMMAND_COMPLETED, "a workflow command completed", _RUN_END),
        EventTypeSpec(RoleEvent.COMMAND_FAILED, "a workflow command failed", _RUN_END),
        EventTypeSpec(
            RoleEvent.HANDOFF_OFFERED, "a handoff to the next agent was offered", _HANDOFF
        ),
        EventTypeSpec(RoleEvent.HANDOFF_CLICKED, "an offered handoff was taken", _HANDOFF),
        EventTypeSpec(RoleEvent.WORKFLOW_STARTED, "a workflow began", _RUN),
        EventTypeSpec(RoleEvent.WORKFLOW_COMPLETED, "a workflow finished", _RUN_END),
    )
}

NEVER_COLLECTED: Final = (
    "prompts or any text you type",
    "file names, file contents or paths",
    "command arguments",
    "user names, e-mail addresses, host names or IP addresses",
    "git remotes, branch names or commit messages",
    "environment variable values, tokens or keys",
)

OUTCOMES: Final = frozenset({"success", "failure", "cancelled", "timeout", "error"})


def common_fields() -> tuple[str, ...]:
    """Keys every event carries."""
    return _COMMON


# --------------------------------------------------------------------- ids & time

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# Each random byte becomes one character from its low 5 bits (256 is a multiple
# of 32, so every character is equally likely): 16 bytes give ULID's 80 bits.
_BYTE_TO_CROCKFORD = bytes(ord(_CROCKFORD[b & 31]) for b in range(256))
# (millisecond, its 10-character prefix) and (second, its text) of the last
# call: one tuple each, replaced whole, so a thread never pairs one call's time
# with another call's text.
_last_prefix: tuple[int, str] = (-1, "")
_last_second: tuple[int, str] = (-1, "")


def ulid(now_ns: int | None = None) -> str:
    """A ULID: 48-bit millisecond time then 80 random bits, Crockford base32.

    Randomness comes from `os.urandom`, so ids made in different processes in
    the same millisecond still differ; the time prefix makes them sortable.
    """
    global _last_prefix
    ms = (time.time_ns() if now_ns is None else now_ns) // 1_000_000
    last = _last_prefix
    if ms != last[0]:
        chars = []
        value = ms & 0xFFFF_FFFF_FFFF
        for _ in range(10):
            chars.append(_CROCKFORD[value & 31])
            value >>= 5
        last = _last_prefix = (ms, "".join(reversed(chars)))
    return last[1] + os.urandom(16).translate(_BYTE_TO_CROCKFORD).decode("ascii")


def new_event_id() -> str:
    """`evt_` + ULID."""
    return "evt_" + ulid()


def did_you_mean(text: str, choices: Iterable[str] | None = None) -> str:
    """` (did you mean 'command.started'?)` for a near miss, else ''.

    For error and debug messages only (it imports difflib). `choices`
    defaults to the event types; only a choice is ever named, never `text`.
    """
    import difflib

    values = sorted(EVENT_TYPE_VALUES if choices is None else choices)
    found = difflib.get_close_matches(text.strip()[:100], values, n=1, cutoff=0.6)
    return f" (did you mean {found[0]!r}?)" if found else ""


def new_invocation_id() -> str:
    """`inv_` + ULID, shared by the started/completed/failed events of one run."""
    return "inv_" + ulid()


def utc_timestamp(now_ns: int | None = None) -> str:
    """ISO 8601 UTC with milliseconds and `Z`, e.g. 2026-11-27T09:30:00.123Z."""
    global _last_second
    ns = time.time_ns() if now_ns is None else now_ns
    second, rest = divmod(ns, 1_000_000_000)
    last = _last_second
    if second != last[0]:
        last = _last_second = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
    return f"{last[1]}.{rest // 1_000_000:03d}Z"


# ------------------------------------------------------------ (de)serialisation


_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=True).encode  # built once


def dumps_line(event: dict[str, Any]) -> bytes:
    """Compact, ASCII-only JSON plus `\\n`: one event, one line, never invalid UTF-8."""
    return (_ENCODE(event) + "\n").encode("ascii")


_normalize: Callable[[object], dict[str, Any] | None] | None = None


def parse_line(raw: bytes | str) -> dict[str, Any] | None:
    """Parse one stored line into an event dict, or None when it is not one.

    Accepted: a JSON object with a text `event_type`; every value is then
    made safe by the one normaliser every reader uses (`core.normalize`:
    types, lone surrogates, NaN/Infinity, bounds). Unknown keys are kept. A
    line without `schema_version` comes from flowspec's earlier module and is
    returned as the schema 1.0 event it means (`core._legacy.map_legacy`, after
    normalising). Anything else (torn, binary, a list) returns None so the
    caller can count it as skipped.
    """
    global _normalize
    try:
        obj = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    normalize = _normalize
    if normalize is None:  # imported on first use: the tracking path never reads
        from flowspec_telemetry.core.normalize import normalize_event

        normalize = _normalize = normalize_event
    event = normalize(obj)
    if event is not None and event["schema_version"] == LEGACY_SCHEMA_VERSION:
        return map_legacy(event)  # normalise first, then map: its types are then known
    return event
