"""flowspec's `TelemetryWriter`, over this package's store.

Same class, methods and return types as `flowspec_cli.telemetry.writer`. A
writer belongs to one project's `.flowspec/telemetry.jsonl`: writing goes
through the tracker (consent first, schema 1.0, keyed hashes; the event's
own timestamp is replaced by the time of recording), reading returns schema
1.0 events with flowspec's old lines mapped, and archives are included. A
path that is not a project's telemetry file is refused: this package never
writes outside its files.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowspec_telemetry.compat.flowspec._record import record
from flowspec_telemetry.core import store
from flowspec_telemetry.history import erase

if TYPE_CHECKING:
    from flowspec_telemetry.compat.flowspec.events import TelemetryEvent


class TelemetryWriter:
    """Writes and reads the events of the project whose telemetry file is `telemetry_path`."""

    def __init__(self, telemetry_path: Path | str) -> None:
        self.telemetry_path = Path(telemetry_path)

    @property
    def _root(self) -> Path | None:
        path = self.telemetry_path
        if path.name == store.EVENTS_FILE and path.parent.name == ".flowspec":
            return path.parent.parent
        return None

    def write_event(self, event: TelemetryEvent) -> bool:
        """Record one event; False when nothing was recorded (no consent, not a project file)."""
        root = self._root
        if root is None:
            return False
        try:
            return (
                record(
                    event.event_type,
                    role=event.role,
                    command=event.command,
                    agent=event.agent,
                    context=event.context,
                    project_root=root,
                )
                is not None
            )
        except Exception:
            return False

    def write_events(self, events: list[TelemetryEvent]) -> int:
        """Record each event; how many were recorded."""
        return sum(1 for event in events if self.write_event(event))

    def read_events(self, limit: int = 100) -> list[dict[str, Any]]:
        """The last `limit` events, most recent first (schema 1.0; archives included)."""
        root = self._root
        if root is None or limit <= 0:
            return []
        try:
            found = store.tail_events(root, limit)
        except OSError:
            return []
        found.reverse()
        return found

    def clear(self) -> bool:
        """Delete the project's events, archives and salt (this package's `clear`)."""
        root = self._root
        if root is None:
            return False
        try:
            erase.clear(root)
        except OSError:
            return False
        return True

    def count_events(self) -> int:
        """How many events the project holds (archives included)."""
        root = self._root
        if root is None:
            return 0
        try:
            return erase.count_events(root)[0]
        except OSError:
            return 0


__all__ = ["TelemetryWriter"]
