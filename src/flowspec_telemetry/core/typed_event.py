"""`Event`: a typed view of one stored line, for API users who prefer attributes to dicts.

Kept out of `events` so that the tracking path, which works on plain dicts,
never imports `dataclasses`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from flowspec_telemetry.core.events import EVENT_TYPE_VALUES, SCHEMA_VERSION

__all__ = [
    "Event",
]


@dataclass(slots=True)
class Event:
    """A typed view of one event line; `extra` keeps keys this version does not know."""

    event_type: str
    timestamp: str | None = None
    event_id: str | None = None
    schema_version: str = SCHEMA_VERSION
    role: str | None = None
    previous_role: str | None = None
    agent_role: str | None = None
    command: str | None = None
    agent: str | None = None
    project_id: str | None = None
    session_id: str | None = None
    invocation_id: str | None = None
    handoff: dict[str, Any] | None = None
    duration_ms: int | float | None = None
    outcome: str | None = None
    source: str | None = None
    legacy_type: str | None = None
    context: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def known_type(self) -> bool:
        """Whether this version of the library knows the event type."""
        return self.event_type in EVENT_TYPE_VALUES

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Event:
        """Build from a parsed line; wrongly typed known keys move to `extra`."""
        known: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        for key, value in data.items():
            if key in _EVENT_SLOTS and _accepts(key, value):
                known[key] = value
            else:
                extra[key] = value
        if "event_type" not in known:
            raise ValueError("an event needs a string event_type")
        return cls(**known, extra=extra)

    def to_dict(self) -> dict[str, Any]:
        """Back to the wire shape: None values dropped, unknown keys restored."""
        out: dict[str, Any] = {}
        for name in _EVENT_SLOTS:
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        out.update(self.extra)
        return out


_EVENT_SLOTS: Final = (
    "schema_version",
    "event_id",
    "timestamp",
    "event_type",
    "role",
    "previous_role",
    "agent_role",
    "command",
    "agent",
    "project_id",
    "session_id",
    "invocation_id",
    "handoff",
    "duration_ms",
    "outcome",
    "source",
    "legacy_type",
    "context",
)


def _accepts(key: str, value: Any) -> bool:
    if key in ("handoff", "context"):
        return isinstance(value, dict)
    if key == "duration_ms":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, str)
