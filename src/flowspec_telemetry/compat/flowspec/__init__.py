"""`flowspec_cli.telemetry`'s public API, recording through flowspec-telemetry.

flowspec switches by changing its import lines::

    from flowspec_telemetry.compat.flowspec import RoleEvent, track_role_event
    from flowspec_telemetry.compat.flowspec.integration import track_agent_invocation

The modules (`events`, `tracker`, `writer`, `config`, `integration`, `cli`)
and their names, argument shapes and return types are flowspec's; the rules
are this package's: nothing is recorded before the person's yes, values
outside the role catalog are stored only as keyed hashes, free `context` and
`metadata` are never stored, and no call raises into the host. The README's
"The flowspec compat module" lists every behaviour that differs and why.
"""

from __future__ import annotations

from flowspec_telemetry.compat.flowspec.config import (
    TelemetryConfig,
    disable_telemetry,
    enable_telemetry,
    is_telemetry_enabled,
    load_telemetry_config,
    save_telemetry_config,
)
from flowspec_telemetry.compat.flowspec.events import RoleEvent, TelemetryEvent
from flowspec_telemetry.compat.flowspec.integration import (
    track_agent_invocation,
    track_agent_invocation_decorator,
    track_command_execution,
    track_handoff,
    track_role_change,
    track_role_selection,
    track_workflow,
)
from flowspec_telemetry.compat.flowspec.tracker import (
    hash_pii,
    reset_writer,
    sanitize_path,
    sanitize_value,
    track_role_event,
)
from flowspec_telemetry.compat.flowspec.writer import TelemetryWriter

__all__ = [
    "RoleEvent",
    "TelemetryConfig",
    "TelemetryEvent",
    "TelemetryWriter",
    "disable_telemetry",
    "enable_telemetry",
    "hash_pii",
    "is_telemetry_enabled",
    "load_telemetry_config",
    "reset_writer",
    "sanitize_path",
    "sanitize_value",
    "save_telemetry_config",
    "track_agent_invocation",
    "track_agent_invocation_decorator",
    "track_command_execution",
    "track_handoff",
    "track_role_change",
    "track_role_event",
    "track_role_selection",
    "track_workflow",
]
