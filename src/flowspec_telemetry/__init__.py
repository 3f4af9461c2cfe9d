"""flowspec-telemetry: privacy-first, local, opt-in role usage analytics.

The public API is what `__all__` lists; everything else may change. Importing
the package stays cheap (standard library only, no typer, rich or YAML), so a
host can import it unconditionally.
"""

from __future__ import annotations

from ._version import __version__

# Names are imported on first use (PEP 562), so `import flowspec_telemetry`
# costs next to nothing and `track` from a shell starts fast: a host that only
# tracks never loads the modules behind `maybe_prompt`, `Event` or the readers.
_EXPORTS = {
    "Catalog": "roles",
    "Change": "control",
    "DEFAULT_CATALOG": "roles",
    "Decision": "consent",
    "Event": "events",
    "NOTICE_VERSION": "consent",
    "PromptResult": "prompt",
    "ReadStats": "store",
    "RoleEvent": "events",
    "Rule": "consent",
    "SCHEMA_VERSION": "events",
    "ToolNames": "names",
    "Tracker": "tracker",
    "decide": "consent",
    "default_tracker": "tracker",
    "disable_telemetry": "control",
    "enable_telemetry": "control",
    "find_project_root": "project",
    "hash_value": "privacy",
    "iter_events": "store",
    "load_catalog": "roles",
    "maybe_prompt": "prompt",
    "parse_line": "events",
    "scrub": "privacy",
    "tail_events": "store",
    "track": "tracker",
    "track_agent_invoked": "helpers",
    "track_command": "helpers",
    "track_handoff": "helpers",
    "track_role_changed": "helpers",
    "track_role_event": "tracker",
    "track_role_selected": "helpers",
}

TYPE_CHECKING = False
if TYPE_CHECKING:  # what type checkers and IDEs see; at run time, __getattr__ below
    from .consent import NOTICE_VERSION, Decision, Rule, decide
    from .control import Change, disable_telemetry, enable_telemetry
    from .events import SCHEMA_VERSION, Event, RoleEvent, parse_line
    from .helpers import (
        track_agent_invoked,
        track_command,
        track_handoff,
        track_role_changed,
        track_role_selected,
    )
    from .names import ToolNames
    from .privacy import hash_value, scrub
    from .project import find_project_root
    from .prompt import PromptResult, maybe_prompt
    from .roles import DEFAULT_CATALOG, Catalog, load_catalog
    from .store import ReadStats, iter_events, tail_events
    from .tracker import Tracker, default_tracker, track, track_role_event


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
