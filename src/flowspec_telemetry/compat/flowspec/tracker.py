"""flowspec's `track_role_event` and PII helpers, recording through this package.

Same names and signatures as `flowspec_cli.telemetry.tracker`. What changes is
what happens to an event: it is recorded only with the person's consent (the
same rule as `track()`), mapped onto schema 1.0 by the one legacy mapping
(`core._legacy`), with catalog values kept and every other value stored as a
keyed hash; `context` and `metadata` are never stored (only the keys that
carry a meaning here: `previous_role`, `from_agent`, `to_agent`) and no host
name hash is added. Like `track()`, it never raises into the host.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from flowspec_telemetry.compat.flowspec._record import record
from flowspec_telemetry.compat.flowspec.events import RoleEvent, TelemetryEvent
from flowspec_telemetry.core.privacy import KeyedHasher
from flowspec_telemetry.core.store import EVENTS_FILE
from flowspec_telemetry.core.tracker import default_tracker

DEFAULT_TELEMETRY_DIR = ".flowspec"
DEFAULT_TELEMETRY_FILE = EVENTS_FILE

# flowspec's patterns, anchored so that a run of characters is entered once
# (linear time even for a megabyte of "a"s; flowspec's e-mail pattern is not).
PII_PATTERNS: dict[str, re.Pattern[str]] = {
    "email": re.compile(r"(?<![A-Za-z0-9_.+-])[A-Za-z0-9_.+-]+@[A-Za-z0-9-]+\.[A-Za-z0-9.-]+"),
    "username": re.compile(r"(?<![A-Za-z0-9_-])@[A-Za-z0-9_-]+"),
    "home_path": re.compile(r"/(?:home|Users)/[^/\s]+"),
}
_PROJECT_FIELDS = frozenset({"project", "project_name", "repo", "repository"})
# hash_pii without a salt: a secret key per process, so its hashes are stable
# within a run but cannot be recomputed from a guessed value (flowspec's are a
# plain SHA-256 of the value, guessable for user and host names).
_PROCESS_KEY = os.urandom(32)


def hash_pii(value: str, salt: str = "") -> str:
    """12 hex digits of HMAC-SHA256 of `value`, keyed by `salt` (or a per-process secret)."""
    key = salt.encode("utf-8", "surrogatepass") if salt else _PROCESS_KEY
    return KeyedHasher(key).hexdigest(str(value).encode("utf-8", "surrogatepass"))[:12]


def sanitize_path(path: str | Path) -> str:
    """`/home/NAME/...` and `/Users/NAME/...` with NAME replaced by `<hash>`."""
    text = str(path)
    match = re.match(r"^/(home|Users)/([^/\s]+)(?=/|$)", text)
    if match is None:
        return text
    return f"/{match.group(1)}/<{hash_pii(match.group(2))}>{text[match.end() :]}"


def sanitize_value(value: Any, field_name: str = "") -> Any:
    """flowspec's sanitizer: paths, e-mails, @names and project names hashed, recursively."""
    if value is None:
        return None
    if isinstance(value, dict):
        return {k: sanitize_value(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [sanitize_value(item, field_name) for item in value]
    if not isinstance(value, str | Path):
        return value
    text = str(value)
    if "/" in text or "\\" in text:
        return sanitize_path(text)
    if PII_PATTERNS["email"].search(text):
        return PII_PATTERNS["email"].sub(lambda m: f"<email:{hash_pii(m.group())}>", text)
    if PII_PATTERNS["username"].search(text):
        return PII_PATTERNS["username"].sub(lambda m: f"@<{hash_pii(m.group())}>", text)
    if field_name.lower() in _PROJECT_FIELDS:
        return f"<project:{hash_pii(text)}>"
    return text


def track_role_event(
    event_type: RoleEvent | str,
    *,
    role: str | None = None,
    command: str | None = None,
    agent: str | None = None,
    context: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
    project_root: Path | None = None,
    enabled: bool = True,
) -> TelemetryEvent | None:
    """Record an event if the person opted in; the event, or None when nothing was recorded.

    Never raises (an unknown type, too). `enabled=False` and
    `FLOWSPEC_TELEMETRY_DISABLED` turn it off as in flowspec; so do all of
    this package's consent rules (nothing is recorded before a yes).
    """
    try:
        if not enabled:
            return None
        kind = RoleEvent(event_type)
        if (
            record(
                kind,
                role=role,
                command=command,
                agent=agent,
                context=context,
                project_root=project_root,
            )
            is None
        ):
            return None
        return TelemetryEvent.create(
            kind,
            role=role,
            command=command,
            agent=agent,
            context=sanitize_value(context) if context else None,
            metadata=sanitize_value(metadata) if metadata else None,
        )
    except Exception:  # the host must never see our failures
        return None


def reset_writer() -> None:
    """Forget cached consent and close kept-open files (flowspec's test hook)."""
    default_tracker().invalidate()


__all__ = [
    "DEFAULT_TELEMETRY_DIR",
    "DEFAULT_TELEMETRY_FILE",
    "PII_PATTERNS",
    "hash_pii",
    "reset_writer",
    "sanitize_path",
    "sanitize_value",
    "track_role_event",
]
