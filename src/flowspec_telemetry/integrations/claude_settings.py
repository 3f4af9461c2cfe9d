"""Adding and removing our hook entries in a project's `.claude/settings.json`.

The file belongs to the person: it holds their other hooks and settings. So
the merge is conservative:

* a file that is not a JSON object is refused, never "repaired";
* only entries whose command is ours (`flowspec-telemetry hook claude-code`,
  by name or by absolute path) are added or removed; everything else keeps
  its order and values, and the file keeps its indentation, so parts we did
  not touch stay byte-for-byte the same (for files in the usual
  `json.dumps(indent=N)` shape that Claude Code writes);
* running it twice changes nothing the second time; running it with another
  command form (`--absolute`) replaces our entries instead of adding more;
* before the first change the original is copied to `settings.json.bak`;
* a symlinked `.claude/`, a symlink or special file at `settings.json` or at
  `settings.json.bak` is refused: nothing is ever written through a link
  (see `_config_file`).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from flowspec_telemetry.integrations._config_file import (
    ConfigFileError,
    backup_path,
    read_config,
    write_config,
)

__all__ = [
    "HOOK_ARGS",
    "HOOK_COMMAND",
    "HOOK_EVENTS",
    "PROGRAM",
    "TOOL_MATCHER",
    "Change",
    "SettingsError",
    "absolute_command",
    "add_hooks",
    "apply",
    "command_on_path",
    "is_hook_command",
    "plan",
    "remove_hooks",
    "settings_path",
]

PROGRAM: Final = "flowspec-telemetry"
HOOK_ARGS: Final = ("hook", "claude-code")
HOOK_COMMAND: Final = f"{PROGRAM} hook claude-code"
TOOL_MATCHER: Final = "Task|Agent|SlashCommand|Skill"
# hook event -> matcher (None: the event takes no matcher); every signal the adapter maps
HOOK_EVENTS: Final[dict[str, str | None]] = {
    "UserPromptSubmit": None,
    "PreToolUse": TOOL_MATCHER,
    "PostToolUse": TOOL_MATCHER,
    "PostToolUseFailure": TOOL_MATCHER,
    "SubagentStart": None,
    "SubagentStop": None,
    "Stop": None,
    "SessionEnd": None,
}


class SettingsError(ConfigFileError):
    """The settings file cannot be changed safely."""


@dataclass(frozen=True, slots=True)
class Change:
    """What a run did (or, with a dry run, would do)."""

    path: Path
    before: str | None
    after: str
    backup: Path | None
    root: Path | None = None

    @property
    def changed(self) -> bool:
        return self.before != self.after


def settings_path(root: Path) -> Path:
    return root / ".claude" / "settings.json"


def command_on_path(program: str = PROGRAM) -> str | None:
    """Where `program` resolves on this PATH (what a hook's shell would run), or None."""
    return shutil.which(program)


def absolute_command(args: tuple[str, ...] = HOOK_ARGS, program: str = PROGRAM) -> str:
    """The hook command with this installation's absolute path (for `--absolute`).

    The console script next to the running interpreter (a venv's bin/), else
    the one on PATH; `SettingsError` when neither exists.
    """
    beside = Path(sys.executable).with_name(program)
    found = str(beside) if beside.exists() else command_on_path(program)
    if found is None:
        raise SettingsError(f"cannot find this installation's {program} script; not writing hooks")
    return " ".join(shlex.quote(part) for part in (os.path.abspath(found), *args))


def is_hook_command(command: object, args: tuple[str, ...] = HOOK_ARGS) -> bool:
    """Whether a hook command runs our adapter, by name or by any path to our script."""
    if not isinstance(command, str):
        return False
    try:
        argv = shlex.split(command)
    except ValueError:
        return False
    return (
        len(argv) == len(args) + 1
        and tuple(argv[1:]) == args
        and os.path.basename(argv[0]) == PROGRAM
    )


def _is_ours(entry: object) -> bool:
    return (
        isinstance(entry, dict)
        and entry.get("type") == "command"
        and is_hook_command(entry.get("command"))
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
    except RecursionError:
        raise SettingsError(f"{path} nests too deeply; not touching it") from None
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
    """`data` with our entries present once per hook event, in `command`'s form (idempotent)."""
    hooks = data.setdefault("hooks", {})
    for event, matcher in HOOK_EVENTS.items():
        groups = hooks.setdefault(event, [])
        current = any(
            isinstance(g, dict)
            and g.get("matcher") == matcher
            and any(
                isinstance(h, dict) and h.get("type") == "command" and h.get("command") == command
                for h in g.get("hooks", []) or []
            )
            for g in groups
        )
        if current:
            continue
        _remove_from(hooks, event)
        groups = hooks.setdefault(event, [])
        group: dict[str, Any] = {}
        if matcher is not None:
            group["matcher"] = matcher
        group["hooks"] = [{"type": "command", "command": command}]
        groups.append(group)
    return data


def _remove_from(hooks: dict[str, Any], event: str) -> None:
    groups = hooks.get(event)
    if not isinstance(groups, list):
        return
    kept = []
    for group in groups:
        inner = group.get("hooks") if isinstance(group, dict) else None
        if isinstance(inner, list) and any(_is_ours(h) for h in inner):
            rest = [h for h in inner if not _is_ours(h)]
            if rest:
                kept.append({**group, "hooks": rest})
        else:
            kept.append(group)
    if kept:
        hooks[event] = kept
    else:
        del hooks[event]


def remove_hooks(data: dict[str, Any], command: str = HOOK_COMMAND) -> dict[str, Any]:
    """`data` without our entries (any form); groups and sections left empty by us are removed."""
    del command  # every form of our command is removed
    hooks = data.get("hooks")
    if not isinstance(hooks, dict):
        return data
    for event in list(hooks):
        _remove_from(hooks, event)
    if not hooks:
        del data["hooks"]
    return data


def plan(root: Path, *, remove: bool = False, command: str = HOOK_COMMAND) -> Change:
    """Compute the change without writing anything."""
    path = settings_path(root)
    try:
        before = read_config(path, root)
    except ConfigFileError as exc:
        raise SettingsError(str(exc)) from None
    data = _load(before, path)
    if remove and before is None:
        return Change(path, None, "", None, root)
    data = remove_hooks(data, command) if remove else add_hooks(data, command)
    indent = _indent_of(before) if before else 2
    after = json.dumps(data, indent=indent, ensure_ascii=False)
    if before is None or before.endswith("\n"):
        after += "\n"
    if before is not None and json.loads(before) == data:
        after = before  # nothing to do: keep the bytes exactly
    backup = backup_path(path) if before is not None else None
    return Change(path, before, after, backup, root)


def apply(change: Change) -> None:
    """Write a planned change atomically, after backing up the original once."""
    if not change.changed:
        return
    root = change.root if change.root is not None else change.path.parent.parent
    try:
        write_config(change.path, root, change.before, change.after)
    except ConfigFileError as exc:
        raise SettingsError(str(exc)) from None
