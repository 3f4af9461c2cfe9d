"""The privacy notice and the schema, both generated from `events`.

`events.EVENT_TYPES`, `events.FIELDS` and `events.NEVER_COLLECTED` are the one
definition of what is recorded. The notice people read before saying yes, the
`schema` command and the code that writes events all come from it, so they
cannot drift apart. `fingerprint()` digests that definition; a test pins it
per `consent.NOTICE_VERSION`, so changing what is collected without bumping
the notice version (which asks everyone again) fails the build.

Standard library only: the prompt and the CLI render the text returned here.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from flowspec_telemetry._version import __version__
from flowspec_telemetry.core import events, privacy, roles, store
from flowspec_telemetry.core.consent_rules import NOTICE_VERSION
from flowspec_telemetry.core.events import (
    EVENT_TYPES,
    FIELDS,
    NEVER_COLLECTED,
    RoleEvent,
    Sensitivity,
)
from flowspec_telemetry.core.names import FLOWSPEC, ToolNames

__all__ = [
    "CLI",
    "Section",
    "fingerprint",
    "notice",
    "notice_text",
    "sample_event",
    "schema",
    "sensitivity_label",
]

CLI: Final = "flowspec-telemetry"
_SENSITIVITY_LABEL: Final = {
    Sensitivity.GENERATED: "made by the library",
    Sensitivity.CATALOG_OR_HASH: "raw catalog value, anything else a keyed hash",
    Sensitivity.HASH: "keyed hash",
    Sensitivity.MEASURED: "measured number or fixed word",
    Sensitivity.COARSE: "coarse fact (no names, no paths)",
}


def sensitivity_label(value: Sensitivity) -> str:
    """Short words for a field's treatment, as `schema` and the notice show them."""
    return _SENSITIVITY_LABEL[value]


def schema() -> dict[str, Any]:
    """Every event type, field and never-collected item, as JSON-ready data."""
    return {
        "schema_version": events.SCHEMA_VERSION,
        "notice_version": NOTICE_VERSION,
        "common_fields": list(events.common_fields()),
        "fields": [
            {
                "name": f.name,
                "purpose": f.purpose,
                "sensitivity": sensitivity_label(f.sensitivity),
                "treatment": f.sensitivity.value,
                "example": f.example,
            }
            for f in FIELDS
        ],
        "event_types": [
            {
                "event_type": spec.event_type.value,
                "purpose": spec.purpose,
                "fields": list(spec.fields),
            }
            for spec in EVENT_TYPES.values()
        ],
        "never_collected": list(NEVER_COLLECTED),
    }


def fingerprint() -> str:
    """A digest of what the notice promises (not of its wording around it)."""
    data = schema()
    data.pop("notice_version")
    for f in data["fields"]:
        f.pop("example")
    blob = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def _platform() -> str:
    if sys.platform.startswith("linux"):
        return "linux"
    return {"darwin": "macos", "win32": "windows", "cygwin": "windows"}.get(sys.platform, "other")


def sample_event(root: Path | None, names: ToolNames = FLOWSPEC) -> dict[str, Any]:
    """An event as this project would record it now: its catalog, its salt if any.

    Nothing is written: without a salt yet (nobody said yes), the hashes use a
    throwaway one, so they look exactly like the real ones will. Without a
    project (`root` None) the sample has no `project_id`: none would exist.
    """
    catalog = roles.load_catalog(root, names)
    salt: bytes | None = None
    if root is not None:
        try:
            salt = privacy.read_salt(root / names.project_dir)
        except OSError:
            salt = None
    salt = salt or secrets.token_bytes(privacy.SALT_BYTES)
    role = catalog.primary or next(iter(catalog.roles), None)
    agents = catalog.roles[role].agents if role in catalog.roles else ()
    agent = agents[0] if agents else next(iter(sorted(catalog.known_agents)), None)
    command = next(
        (w.command for w in catalog.workflows.values() if agent in w.agents),
        next(iter(sorted(catalog.known_commands)), None),
    )
    event: dict[str, Any] = {
        "schema_version": events.SCHEMA_VERSION,
        "event_id": events.new_event_id(),
        "timestamp": events.utc_timestamp(),
        "event_type": RoleEvent.AGENT_INVOKED.value,
        "role": role,
        "command": command,
        "agent": agent,
    }
    if root is not None:  # outside a project nothing is recorded, so there is no project id
        event["project_id"] = privacy.hash_value("project:" + os.path.realpath(root), salt)
    home = catalog.home_role(agent)
    if home is not None:
        event["agent_role"] = home
    event["session_id"] = privacy.hash_value("sample-session", salt)
    event["context"] = {
        "os": _platform(),
        "python": f"{sys.version_info[0]}.{sys.version_info[1]}",
        "tool_version": __version__,
        "ci": bool(os.environ.get("CI")),
    }
    return {k: v for k, v in event.items() if v is not None}


@dataclass(frozen=True, slots=True)
class Section:
    """One part of the notice: a heading and its lines."""

    title: str
    lines: tuple[str, ...]


def notice(root: Path | None, names: ToolNames = FLOWSPEC) -> list[Section]:
    """The privacy notice for the project at `root` (or for no project)."""
    tool = names.tool
    if root is not None:
        where = str(store.events_path(root, names))
    else:
        where = f"{names.project_dir}/{store.EVENTS_FILE} in each project you use {tool} in"
    sample = json.dumps(sample_event(root, names), separators=(",", ":"), ensure_ascii=True)
    collected = tuple(
        f"- {f.name}: {f.purpose} ({sensitivity_label(f.sensitivity)})" for f in FIELDS
    )
    kinds = ", ".join(spec.event_type.value for spec in EVENT_TYPES.values())
    return [
        Section(
            f"{tool} telemetry: privacy notice (version {NOTICE_VERSION})",
            (  # one paragraph a line: the CLI wraps it to the terminal
                f"{tool} can record which roles, workflow commands and agents you use, so its "
                "maintainers learn which roles, commands and handoffs help. It is off until you "
                "say yes, it stays on this machine, and nothing is ever sent anywhere.",
            ),
        ),
        Section(
            "What is collected: one line per event, like this real sample for this project"
            if root is not None
            else "What is collected: one line per event, like this sample",
            (
                sample,
                *(
                    ()
                    if root is not None
                    else (
                        "(Outside a project nothing is recorded; in a project each event also "
                        "has project_id, a keyed hash of the project's folder.)",
                    )
                ),
                "",
                f"Event types: {kinds}.",
                "Fields:",
                *collected,
            ),
        ),
        Section(
            "Never collected",
            (
                *(f"- {item}" for item in NEVER_COLLECTED),
                "Role, agent and command names outside your project's catalog are stored only "
                "as keyed hashes (HMAC-SHA256 with a secret salt that never leaves the project).",
            ),
        ),
        Section(
            "Where it is stored",
            (
                f"{where} (readable only by you), next to a secret salt; "
                "old events are rotated into compressed archives in the same folder.",
            ),
        ),
        Section(
            "Your controls",
            (
                f"{CLI} view       see the latest events",
                f"{CLI} export     export everything (json, jsonl, csv)",
                f"{CLI} clear      delete every event, archive and the salt",
                f"{CLI} disable    stop recording (or set DO_NOT_TRACK=1)",
                f"{CLI} status     see whether it is on and why",
            ),
        ),
    ]


def notice_text(root: Path | None, names: ToolNames = FLOWSPEC) -> str:
    """The notice as plain text."""
    parts = []
    for section in notice(root, names):
        parts.append(section.title)
        parts.extend(f"  {line}" if line else "" for line in section.lines)
        parts.append("")
    return "\n".join(parts)
