"""flowspec-telemetry: privacy-first, local, opt-in role usage analytics.

The public API is what `__all__` lists; everything else may change. Importing
the package stays cheap (standard library only, no typer, rich or YAML), so a
host can import it unconditionally.
"""

from __future__ import annotations

from flowspec_telemetry._version import __version__

# Names are imported on first use (PEP 562), so `import flowspec_telemetry`
# costs next to nothing and `track` from a shell starts fast: a host that only
# tracks never loads the modules behind `maybe_prompt`, `Event` or the readers.
_EXPORTS = {
    "Catalog": "core.roles",
    "Change": "consent.answers",
    "DEFAULT_CATALOG": "core.roles",
    "Decision": "core.consent_rules",
    "Event": "core.typed_event",
    "NOTICE_VERSION": "core.consent_rules",
    "PromptResult": "consent.prompt",
    "ReadStats": "core.store",
    "RoleEvent": "core.events",
    "Rule": "core.consent_rules",
    "StoreError": "core.errors",
    "TelemetryError": "core.errors",
    "SCHEMA_VERSION": "core.events",
    "ToolNames": "core.names",
    "Tracker": "core.tracker",
    "decide": "core.consent_rules",
    "default_tracker": "core.tracker",
    "disable_telemetry": "consent.answers",
    "enable_telemetry": "consent.answers",
    "find_project_root": "core.project",
    "hash_value": "core.privacy",
    "iter_events": "history.reader",
    "load_catalog": "core.roles",
    "maybe_prompt": "consent.prompt",
    "parse_line": "core.events",
    "scrub": "core.privacy",
    "tail_events": "core.store",
    "track": "core.tracker",
    "track_agent_invoked": "core.track_helpers",
    "track_command": "core.track_helpers",
    "track_handoff": "core.track_helpers",
    "track_role_changed": "core.track_helpers",
    "track_role_event": "core.tracker",
    "track_role_selected": "core.track_helpers",
}

TYPE_CHECKING = False
if TYPE_CHECKING:  # what type checkers and IDEs see; at run time, __getattr__ below
    from flowspec_telemetry.consent.answers import Change, disable_telemetry, enable_telemetry
    from flowspec_telemetry.consent.prompt import PromptResult, maybe_prompt
    from flowspec_telemetry.core.consent_rules import NOTICE_VERSION, Decision, Rule, decide
    from flowspec_telemetry.core.errors import StoreError, TelemetryError
    from flowspec_telemetry.core.events import SCHEMA_VERSION, RoleEvent, parse_line
    from flowspec_telemetry.core.names import ToolNames
    from flowspec_telemetry.core.privacy import hash_value, scrub
    from flowspec_telemetry.core.project import find_project_root
    from flowspec_telemetry.core.roles import DEFAULT_CATALOG, Catalog, load_catalog
    from flowspec_telemetry.core.store import ReadStats, tail_events
    from flowspec_telemetry.core.track_helpers import (
        track_agent_invoked,
        track_command,
        track_handoff,
        track_role_changed,
        track_role_selected,
    )
    from flowspec_telemetry.core.tracker import Tracker, default_tracker, track, track_role_event
    from flowspec_telemetry.core.typed_event import Event
    from flowspec_telemetry.history.reader import iter_events


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "DEFAULT_CATALOG",
    "NOTICE_VERSION",
    "SCHEMA_VERSION",
    "Catalog",
    "Change",
    "Decision",
    "Event",
    "PromptResult",
    "ReadStats",
    "RoleEvent",
    "Rule",
    "StoreError",
    "TelemetryError",
    "ToolNames",
    "Tracker",
    "__version__",
    "decide",
    "default_tracker",
    "disable_telemetry",
    "enable_telemetry",
    "find_project_root",
    "hash_value",
    "iter_events",
    "load_catalog",
    "maybe_prompt",
    "parse_line",
    "scrub",
    "tail_events",
    "track",
    "track_agent_invoked",
    "track_command",
    "track_handoff",
    "track_role_changed",
    "track_role_event",
    "track_role_selected",
]
