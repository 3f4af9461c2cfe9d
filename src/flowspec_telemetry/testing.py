"""Test helpers for host tools: see what your code tracks, in memory, without a project.

A host that calls `track()` (or the `track_*` helpers) wants its tests to say
"`init --role dev` records one `role.selected` with role dev" without making a
temporary project, saying yes to telemetry and reading JSONL back. Like
OpenTelemetry's `InMemorySpanExporter` or structlog's `capture_logs()`:

    from flowspec_telemetry.testing import capture_events

    def test_init_records_the_role():
        with capture_events() as events:
            my_tool.init(role="dev")
        assert events.types() == ["role.selected"]
        assert events[0]["role"] == "dev"

Inside the block every event of the default tracker (or of the `Tracker`
given) is built exactly as it would be stored, catalog values as they are and
anything else keyed-hashed (with a salt that lives only in memory), and kept in
the list as the parsed JSON line. Consent is taken as given and nothing is read
for it, nothing is written anywhere, and the process's real tracker is as it
was afterwards. To test your tool's consent handling itself, use a real
project folder: this helper answers "what would be recorded", not "whether".
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flowspec_telemetry.core.tracker import Tracker, default_tracker

__all__ = ["CapturedEvents", "capture_events"]


class CapturedEvents(list[dict[str, Any]]):
    """The events captured so far, oldest first (a list of event dicts, with helpers)."""

    def types(self) -> list[str]:
        """The event types in order, e.g. `["command.started", "command.completed"]`."""
        return [str(e.get("event_type")) for e in self]

    def of_type(self, event_type: str) -> list[dict[str, Any]]:
        """Only the events of one type."""
        return [e for e in self if e.get("event_type") == event_type]


@contextmanager
def capture_events(tracker: Tracker | None = None) -> Iterator[CapturedEvents]:
    """Capture every event `tracker` (default: the one behind `track()`) records in the block."""
    target = tracker if tracker is not None else default_tracker()
    captured = CapturedEvents()
    target.set_sink(captured.append)
    try:
        yield captured
    finally:
        target.set_sink(None)
