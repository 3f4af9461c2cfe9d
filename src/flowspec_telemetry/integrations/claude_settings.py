"""Adding and removing our hook entries in a project's `.claude/settings.json`.

The file belongs to the person: it holds their other hooks and settings. So
the merge is conservative:

* a file that is not a JSON object is refused, never "repaired";
* only entries whose command is ours are added or removed; everything else
  keeps its order and values, and the file keeps its indentation, so parts we
  did not touch stay byte-for-byte the same (for files in the usual
  `json.dumps(indent=N)` shape that Claude Code writes);
* running it twice changes nothing the second time;
* before the first change the original is copied to `settings.json.bak`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from flowspec_telemetry.core._files import write_private
from flowspec_telemetry.core.errors import TelemetryError

__all__ = [
    "HOOK_COMMAND",
    "HOOK_EVENTS",
    "TOOL_MATCHER",
    "Change",
    "SettingsError",
    "add_hooks",
    "apply",
    "plan",
    "remove_hooks",
    "settings_path",
]

HOOK_COMMAND: Final = "flowspec-telemetry hook claude-code"
TOOL_MATCHER: Final = "Task|Agent|SlashCommand"
# hook event -> matcher (None: the event takes no matcher)
HOOK_EVENTS: Final[dict[str, str | None]] = {
    "UserPromptSubmit": None,
    "PreToolUse": TOOL_MATCHER,
    "PostToolUse": TOOL_MATCHER,
    "Stop": None,
}


class SettingsError(TelemetryError, ValueError):
    """The settings file cannot be changed safely."""


@dataclass(frozen=True, slots=True)
class Change:
    """What a run did (or, with a dry run, would do)."""

    path: Path
    before: str | None
    after: str
    backup: Path | None

    @property
    def changed(self) -> bool:
        return self.before != self.after


def settings_path(root: Path) -> Path:
    return root / ".claude" / "settings.json"


def _is_ours(entry: object, command: str) -> bool:
    return (
        isinstance(entry, dict)
        and entry.get("type") == "command"
        and entry.get("command") == command
    )


def _indent_of(text: str) -> int | str:
    m = re.search(r"^\{\s*\n([ \t]+)\S", text)
    if not m:
        return 2
    return len(m.group(1)) if set(m.group(1)) == {" "} else m.group(1)


def _load(text: str | None, path: Path) -> dict[str, Any]:
    if text is None or not text.strip():
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SettingsError(
            f"{path} is not valid JSON ({exc.msg}, line {exc.lineno}); not touching it"
        ) from None
    if not isinstance(data, dict):
        raise SettingsError(f"{path} is not a JSON object; not touching it")
    hooks = data.get("hooks", {})
    if not isinstance(hooks, dict):
        raise SettingsError(f"{path}: `hooks` is not an object; not touching it")
    for event in HOOK_EVENTS:
        if event in hooks and not isinstance(hooks[event], list):
            raise SettingsError(f"{path}: `hooks.{event}` is not a list; not touching it")
    return data


def add_hooks(data: dict[str, Any], command: str = HOOK_COMMAND) -> dict[str, Any]:
    """`data` with our entries present once per hook event (idempotent)."""
    hooks = data.setdefault("hooks", {})
    for event, matcher in HOOK_EVENTS.items():
        groups = hooks.setdefault(event, [])
        present = any(
            isinstance(g, dict) and any(_is_ours(h, command) for h in g.get("hooks", []) or [])
            for g in groups
        )
        if present:
            continue
        group: dict[str, Any] = {}
        if matcher is not None:
            group["matcher"] = matcher
        group["hooks"] = [{"type": "command", "command": command}]
        groups.append(group)
    return data


def remove_hooks(data: dict[str, Any], command: str = HOOK_COMMAND) -> dict[str, Any]:
    """`data` without our entries; groups and sections left empty by us are removed."""
    hooks = data.get("hooks")
    if not isinstance(hooks, dict):
        return data
    for event in list(hooks):
        groups = hooks[event]
        if not isinstance(groups, list):
            continue
        kept = []
        for group in groups:
            inner = group.get("hooks") if isinstance(group, dict) else None
            if isinstance(inner, list) and any(_is_ours(h, command) for h in inner):
                rest = [h for h in inner if not _is_ours(h, command)]
                if rest:
                    kept.append({**group, "hooks": rest})
            else:
                kept.append(group)
        if kept:
            hooks[event] = kept
        else:
            del hooks[event]
    if not hooks:
        del data["hooks"]
    return data


def plan(root: Path, *, remove: bool = False, command: str = HOOK_COMMAND) -> Change:
    """Compute the change without writing anything."""
    path = settings_path(root)
    if path.is_symlink():
        raise SettingsError(f"{path} is a symbolic link; not touching it")
    try:
        before: str | None = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        before = None
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path} cannot be read ({exc}); not touching it") from None
    data = _load(before, path)
    if remove and before is None:
        return Change(path, None, "", None)
    data = remove_hooks(data, command) if remove else add_hooks(data, command)
    indent = _indent_of(before) if before else 2
    after = json.dumps(data, indent=indent, ensure_ascii=False)
    if before is None or before.endswith("\n"):
        after += "\n"
    if before is not None and json.loads(before) == data:
        after = before  # nothing to do: keep the bytes exactly
    return Change(path, before, after, path.with_name(path.name + ".bak") if before else None)


def apply(change: Change) -> None:
    """Write a planned change atomically, after backing up the original once."""
    if not change.changed:
        return
    change.path.parent.mkdir(parents=True, exist_ok=True)
    mode = change.path.stat().st_mode & 0o777 if change.before is not None else 0o644
    if change.backup is not None and not change.backup.exists():
        try:  # the original, byte for byte and with its mode; never over an existing backup
            write_private(change.backup, change.path.read_bytes(), replace=False, mode=mode)
        except FileExistsError:
            pass  # made meanwhile by another run: the first backup is the one to keep
    write_private(change.path, change.after.encode("utf-8"), mode=mode)
