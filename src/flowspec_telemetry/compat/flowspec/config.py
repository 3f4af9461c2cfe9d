"""flowspec's consent API (`TelemetryConfig`, enable/disable/is-enabled), over this package's.

Same names, signatures and return types as `flowspec_cli.telemetry.config`.
The answer itself is this package's consent record in the same file
(`.flowspec/telemetry-config.json`, which keeps flowspec's keys), so both
tools read one verdict: `is_telemetry_enabled` is this package's decision
(DO_NOT_TRACK, the environment, the team veto and the person's answers
included), and `enable_telemetry` / `disable_telemetry` record the person's
answer for that project. Every function fails safe and never raises.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flowspec_telemetry.consent import answers
from flowspec_telemetry.core import consent_rules, store
from flowspec_telemetry.core._files import write_private

CONFIG_DIR = ".flowspec"
CONFIG_FILE = consent_rules.CONFIG_FILE
ENV_TELEMETRY_DISABLED = "FLOWSPEC_TELEMETRY_DISABLED"
ENV_TELEMETRY_DEBUG = "FLOWSPEC_TELEMETRY_DEBUG"
_MAX_BYTES = 65536


@dataclass
class TelemetryConfig:
    """flowspec's view of a consent record."""

    enabled: bool = False
    consent_given_at: str | None = None
    consent_version: str = "1.0"
    data_retention_days: int = 90
    metadata: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled,
            "consent_given_at": self.consent_given_at,
            "consent_version": self.consent_version,
            "data_retention_days": self.data_retention_days,
            "metadata": self.metadata,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TelemetryConfig:
        """From a parsed record; a key of the wrong type takes its default."""
        enabled = data.get("enabled", False)
        given = data.get("consent_given_at")
        version = data.get("consent_version", "1.0")
        days = data.get("data_retention_days", 90)
        meta = data.get("metadata", {})
        return cls(
            enabled=enabled if isinstance(enabled, bool) else False,
            consent_given_at=given if isinstance(given, str) else None,
            consent_version=version if isinstance(version, str) else "1.0",
            data_retention_days=days
            if isinstance(days, int) and not isinstance(days, bool)
            else 90,
            metadata=meta if isinstance(meta, dict) else {},
        )

    def record_consent(self) -> None:
        """Mark as consented now (in memory; `save_telemetry_config` records it)."""
        self.enabled = True
        self.consent_given_at = datetime.now(UTC).isoformat()

    def revoke_consent(self) -> None:
        """Mark as not consented, keeping when consent was given."""
        self.enabled = False


def _root(project_root: Path | None) -> Path:
    return Path(project_root) if project_root is not None else Path.cwd()


def get_config_path(project_root: Path | None = None) -> Path:
    """`PROJECT/.flowspec/telemetry-config.json`."""
    return _root(project_root) / CONFIG_DIR / CONFIG_FILE


def load_telemetry_config(project_root: Path | None = None) -> TelemetryConfig:
    """The project's record as flowspec reads it; the default (off) when absent or unreadable.

    Read without following a link or blocking on a special file, at most 64 KiB.
    """
    path = get_config_path(project_root)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return TelemetryConfig()
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return TelemetryConfig()
        data = json.loads(os.read(fd, _MAX_BYTES))
    except (OSError, ValueError, UnicodeDecodeError, RecursionError):
        return TelemetryConfig()
    finally:
        os.close(fd)
    return TelemetryConfig.from_dict(data) if isinstance(data, dict) else TelemetryConfig()


def _keep_flowspec_keys(path: Path, config: TelemetryConfig) -> None:
    """Put the keys a host saved (its consent time, retention, metadata) into the record.

    The answer itself, its version and every other key stay as this package
    wrote them (its record keeps flowspec's keys on its own).
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        try:
            data = (
                json.loads(os.read(fd, _MAX_BYTES)) if stat.S_ISREG(os.fstat(fd).st_mode) else None
            )
        finally:
            os.close(fd)
    except (OSError, ValueError, UnicodeDecodeError, RecursionError):
        return
    if not isinstance(data, dict):
        return
    if config.consent_given_at is not None:
        data["consent_given_at"] = config.consent_given_at
    data["data_retention_days"] = config.data_retention_days
    data["metadata"] = config.metadata
    write_private(path, (json.dumps(data, indent=2) + "\n").encode())


def _record(project_root: Path | None, answer: str, config: TelemetryConfig | None = None) -> bool:
    root = _root(project_root)
    try:
        store.ensure_project_dir(root)
        answers.record_answer(answer, scope="project", project_root=root)
        if config is not None:
            _keep_flowspec_keys(get_config_path(root), config)
    except (OSError, ValueError, LookupError):
        return False
    return True


def save_telemetry_config(config: TelemetryConfig, project_root: Path | None = None) -> bool:
    """Record `config.enabled` as the person's answer for this project, with the host's keys."""
    return _record(project_root, "yes" if config.enabled else "no", config)


def is_telemetry_enabled(project_root: Path | None = None) -> bool:
    """Whether an event would be recorded for this project now. Never raises."""
    try:
        return answers.current_decision(_root(project_root)).enabled
    except Exception:
        return False


def enable_telemetry(project_root: Path | None = None) -> bool:
    """Record the person's yes for this project (consent time: now); True when recorded."""
    return _record(project_root, "yes")


def disable_telemetry(project_root: Path | None = None) -> bool:
    """Record the person's no for this project; the time consent was given is kept."""
    return _record(project_root, "no")


__all__ = [
    "CONFIG_DIR",
    "CONFIG_FILE",
    "ENV_TELEMETRY_DEBUG",
    "ENV_TELEMETRY_DISABLED",
    "TelemetryConfig",
    "disable_telemetry",
    "enable_telemetry",
    "get_config_path",
    "is_telemetry_enabled",
    "load_telemetry_config",
    "save_telemetry_config",
]
