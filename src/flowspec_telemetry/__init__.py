"""flowspec-telemetry: privacy-first, local, opt-in role usage analytics.

The public API is what `__all__` lists; everything else may change. Importing
the package stays cheap (standard library only, no typer, rich or YAML), so a
host can import it unconditionally.
"""

from __future__ import annotations

from ._version import __version__
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
