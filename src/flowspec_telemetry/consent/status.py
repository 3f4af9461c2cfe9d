"""What `status` reports: the decision and its rule, the records, and the store.

Counting is cheap on purpose: events are counted as lines (one event per
line) with a fast newline count, archives included; `stats` gives exact
totals with unreadable lines set apart. The oldest and newest events come
from the first and last readable lines only.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from flowspec_telemetry.consent.answers import current_decision
from flowspec_telemetry.core import consent_rules, permissions, roles, store
from flowspec_telemetry.core.consent_rules import NOTICE_VERSION, ConsentFileError
from flowspec_telemetry.core.names import FLOWSPEC, ToolNames

__all__ = [
    "count_lines",
    "flowspec_module",
    "gather",
    "storage",
]

_BLOCK = 1 << 20


def count_lines(path: Path) -> int:
    """Non-final newlines plus a final unterminated line (gz archives decompressed)."""
    opener = gzip.open if path.name.endswith(".gz") else open
    lines = 0
    last = b"\n"
    try:
        with opener(path, "rb") as fh:
            while block := fh.read(_BLOCK):
                lines += block.count(b"\n")
                last = block[-1:]
    except FileNotFoundError:
        return 0
    except (OSError, EOFError):
        pass
    return lines + (last != b"\n")


def _first_event(path: Path) -> dict[str, Any] | None:
    return next(store.iter_file(path), None)


def storage(root: Path, names: ToolNames = FLOWSPEC) -> dict[str, Any]:
    folder = root / names.project_dir
    live = folder / store.EVENTS_FILE
    archives = store.archive_paths(folder)
    files = [*archives, live]
    size = 0
    for path in files:
        try:
            size += os.path.getsize(path)
        except OSError:
            continue
    oldest = None
    for path in files:
        first = _first_event(path)
        if first is not None:
            oldest = first.get("timestamp")
            break
    newest_events = store.tail_events(root, 1, names)
    newest = newest_events[-1].get("timestamp") if newest_events else None
    return {
        "folder": str(folder),
        "events_file": str(live),
        "archives": len(archives),
        "events": sum(count_lines(p) for p in files),
        "bytes": size,
        "oldest": oldest if isinstance(oldest, str) else None,
        "newest": newest if isinstance(newest, str) else None,
    }


def _record(path: Path, *, project: bool) -> tuple[dict[str, Any] | None, str | None]:
    """One answer as `status` shows it: what it says, who wrote it, and whether it counts.

    flowspec's `metadata` is never shown: only the keys that decide are.
    """
    try:
        record = consent_rules.read_record(path, follow_symlinks=not project)
    except ConsentFileError as exc:
        return {"path": str(path), "corrupt": True, "reason": exc.reason}, str(exc)
    if record is None:
        return None, None
    why = None if record.says_no else consent_rules.distrust(record, path, project=project)
    data: dict[str, Any] = {
        "path": str(path),
        "answer": record.answer,
        "enabled": record.enabled,
        "decided_at": record.decided_at,
        "notice_version": record.notice_version,
        "writer": record.writer,
        "current": record.current(),
        "counts": why is None,
        "not_counted_because": why,
    }
    if record.ask_again_after:
        data["ask_again_after"] = record.ask_again_after
    return data, None


_FLOWSPEC_OFF_ENV: Final = frozenset({"1", "true", "yes"})


def flowspec_module(
    root: Path, names: ToolNames, env: Mapping[str, str], decision_enabled: bool
) -> dict[str, Any]:
    """What flowspec 0.4's own telemetry module reads here, and whether it agrees with us.

    That module (`flowspec_cli.telemetry`) reads only `.flowspec/telemetry-config.json`
    of the folder it runs in, honours only `FLOWSPEC_TELEMETRY_DISABLED`, and
    takes any truthy `enabled` as a yes: not DO_NOT_TRACK, not the global
    answer, not the team policy. When it reads yes, `flowspec telemetry
    track-role/track-agent/track-handoff` (the lines in its templates) append
    its own lines, with an unsalted host-name hash, to the events file.
    """
    path = consent_rules.project_config_path(root, names)
    enabled: bool | None
    try:
        found = consent_rules.read_file(path, follow_symlinks=True)
    except ConsentFileError:
        found, enabled = None, None  # flowspec's module would fail on it (or hang on a FIFO)
    else:
        enabled = False
    if found is not None:
        try:
            data = json.loads(found[0])
            enabled = bool(data.get("enabled", False)) if isinstance(data, dict) else False
        except (ValueError, UnicodeDecodeError, RecursionError):
            enabled = False  # its loader falls back to "disabled"
    env_off = env.get("FLOWSPEC_TELEMETRY_DISABLED", "").lower() in _FLOWSPEC_OFF_ENV
    writer_on = bool(enabled) and not env_off
    return {
        "path": str(path),
        "reads_enabled": enabled,
        "writer_on": writer_on,
        "agrees": writer_on == decision_enabled,
        "installed": importlib.util.find_spec("flowspec_cli") is not None,
    }


def _shared(root: Path, names: ToolNames) -> dict[str, Any]:
    """How many share reports left this project, the last one, the mode and the epsilon spent."""
    from flowspec_telemetry.consent._share import share_decision
    from flowspec_telemetry.core.ledger import summary
    from flowspec_telemetry.report.sharing import budget_status

    mode = share_decision(root, names)
    return summary(root, names) | {
        "mode": {"mode": mode.mode, "rule": mode.rule, "share_since": mode.share_since},
        "budget": budget_status(root, names),
    }


def _store_report(
    root: Path | None, names: ToolNames
) -> tuple[dict[str, Any] | None, list[str], list[str]]:
    """(storage, problems, permission notes): what is stored and what stops it being recorded.

    Loose modes are tightened on the way (see `permissions`); a store that
    cannot be read is a problem to report, never a traceback.
    """
    if root is None:
        return None, [], []
    tightened = permissions.tighten(root, names)
    found = permissions.problems(root, names)
    if permissions.read_refusal(root, names) is not None:
        return None, found, tightened
    try:
        stored = storage(root, names)
    except OSError as exc:
        found.append(f"cannot read the stored events: {exc.strerror or exc}")
        stored = None
    return stored, found, tightened


def gather(
    root: Path | None, names: ToolNames = FLOWSPEC, environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Everything `status` shows, as JSON-ready data."""
    env = os.environ if environ is None else environ
    decision = current_decision(root, names, environ)
    warnings: list[str] = []
    records: dict[str, Any] = {}
    scopes = [("global", consent_rules.global_config_path(names))]
    if root is not None:
        scopes.insert(0, ("project", consent_rules.project_config_path(root, names)))
    for scope, path in scopes:
        data, warning = _record(path, project=scope == "project")
        records[scope] = data
        if warning:
            warnings.append(warning)
    catalog = roles.load_catalog(root, names)
    stored, store_problems, tightened = _store_report(root, names)
    variables = ("DO_NOT_TRACK", names.env("TELEMETRY_DISABLED"), names.env("TELEMETRY_ENABLED"))
    return {
        "enabled": decision.enabled,
        "rule": decision.rule.name.lower(),
        "reason": decision.reason,
        "environment": {name: env.get(name) for name in variables},
        "project": str(root) if root is not None else None,
        "consent": records,
        "notice_version": NOTICE_VERSION,
        "catalog_source": catalog.source if root is not None else None,
        "team_policy": catalog.team_telemetry if root is not None else None,
        "catalog": catalog.summary() if root is not None else None,
        "team_policy_detail": (
            catalog.policy.to_json() if root is not None and catalog.policy is not None else None
        ),
        "storage": stored,
        "problems": store_problems,
        "tightened": tightened,
        "shared": _shared(root, names) if root is not None else None,
        "warnings": warnings,
        "flowspec_module": (
            flowspec_module(root, names, env, decision.enabled) if root is not None else None
        ),
    }
