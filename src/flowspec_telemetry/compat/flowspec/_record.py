"""The one call every module of the compat API records through.

flowspec's API names an event type, a role, a command, an agent and a free
context; `core._legacy.legacy_track_args` says what that means in schema 1.0
(the same mapping readers apply to lines flowspec's module wrote), and the
default tracker records it under this package's consent and hashing rules.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flowspec_telemetry.core._legacy import legacy_track_args
from flowspec_telemetry.core.tracker import default_tracker


def record(
    event_type: object,
    *,
    role: str | None = None,
    command: str | None = None,
    agent: str | None = None,
    context: dict[str, Any] | None = None,
    project_root: Path | str | None = None,
    **extra: Any,
) -> str | None:
    """Record one flowspec-API event through the default tracker; its event id or None."""
    args = legacy_track_args(event_type, role=role, command=command, agent=agent, context=context)
    if args is None:
        return None
    new_type, fields = args
    fields.update(extra)
    return default_tracker().track(new_type, project_root=project_root, **fields)
