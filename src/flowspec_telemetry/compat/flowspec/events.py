"""flowspec's event vocabulary: `RoleEvent` (its 15 types) and `TelemetryEvent`.

The same names, values and shapes as `flowspec_cli.telemetry.events`, so code
written against it keeps working. A `TelemetryEvent` is what the caller gets
back; what is stored is this package's schema 1.0 event (see `.tracker`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


class RoleEvent(StrEnum):
    """flowspec's event types; the values are its wire strings."""

    ROLE_SELECTED = "role.selected"
    ROLE_CHANGED = "role.changed"
    AGENT_INVOKED = "agent.invoked"
    AGENT_STARTED = "agent.started"
    AGENT_COMPLETED = "agent.completed"
    AGENT_FAILED = "agent.failed"
    AGENT_PROGRESS = "agent.progress"
    HANDOFF_CLICKED = "handoff.clicked"
    HANDOFF_COMPLETED = "handoff.completed"
    COMMAND_EXECUTED = "command.executed"
    COMMAND_COMPLETED = "command.completed"
    COMMAND_FAILED = "command.failed"
    WORKFLOW_STARTED = "workflow.started"
    WORKFLOW_COMPLETED = "workflow.completed"
    WORKFLOW_FAILED = "workflow.failed"

    def __str__(self) -> str:
        return self.value


@dataclass
class TelemetryEvent:
    """One event as flowspec's API hands it back (never written in this shape)."""

    event_type: RoleEvent
    timestamp: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    role: str | None = None
    command: str | None = None
    agent: str | None = None
    context: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The event as a dict, leaving out empty fields (flowspec's shape)."""
        data: dict[str, Any] = {"event_type": str(self.event_type), "timestamp": self.timestamp}
        for key in ("role", "command", "agent", "context", "metadata"):
            value = getattr(self, key)
            if value:
                data[key] = value
        return data

    @classmethod
    def create(
        cls,
        event_type: RoleEvent | str,
        *,
        role: str | None = None,
        command: str | None = None,
        agent: str | None = None,
        context: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> TelemetryEvent:
        """A new event; a string type must be one of `RoleEvent` (ValueError otherwise)."""
        return cls(
            event_type=RoleEvent(event_type),
            role=role,
            command=command,
            agent=agent,
            context=context or {},
            metadata=metadata or {},
        )


__all__ = ["RoleEvent", "TelemetryEvent"]
