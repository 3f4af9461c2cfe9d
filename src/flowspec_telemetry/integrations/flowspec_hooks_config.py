"""Adding and removing our entry in a project's `.flowspec/hooks/hooks.yaml`.

The file is flowspec's (`flowspec init` writes one, with comments, and the
team adds its own hooks), so the change is made in the text, not by dumping
YAML again: our entry is appended as a block at the end of the `hooks:`
list, or cut out again, and every other byte (comments, order, quoting)
stays as it was. The result is parsed again and must equal the old document
plus (or minus) exactly our entry; anything else (a flow-style list, an odd
layout) is refused with the entry to add by hand. A file that is not valid
YAML, not a mapping, or whose `hooks` is not a list is refused and left as
it was; a symlink or special file anywhere on the way too (`_config_file`).
Running it twice changes nothing; the original is backed up once.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Final

from flowspec_telemetry.integrations._config_file import (
    ConfigFileError,
    backup_path,
    read_config,
    write_config,
)
from flowspec_telemetry.integrations.claude_settings import (
    PROGRAM,
    Change,
    SettingsError,
    is_hook_command,
)
from flowspec_telemetry.integrations.flowspec_hooks import EVENT_TYPES, HOOK_NAME

__all__ = ["HOOK_ARGS", "HOOK_COMMAND", "entry_text", "hooks_path", "plan"]

HOOK_ARGS: Final = ("hook", "flowspec")
HOOK_COMMAND: Final = f"{PROGRAM} hook flowspec"
_HEADER: Final = '# Flowspec Hooks Configuration\nversion: "1.0"\n\nhooks:\n'


def hooks_path(root: Path) -> Path:
    """`.flowspec/hooks/hooks.yaml`, or the `.yml` flowspec also reads when only that exists."""
    folder = root / ".flowspec" / "hooks"
    yaml_path = folder / "hooks.yaml"
    yml = folder / "hooks.yml"
    if not yaml_path.exists() and not yaml_path.is_symlink() and yml.exists():
        return yml
    return yaml_path


def entry(command: str = HOOK_COMMAND) -> dict[str, Any]:
    """Our hook as flowspec's `HookDefinition` reads it."""
    return {
        "name": HOOK_NAME,
        "description": (
            "Records which workflow commands and agents run (flowspec-telemetry; "
            "nothing is recorded unless you opted in)"
        ),
        "events": [{"type": t} for t in EVENT_TYPES],
        "command": command,
        "timeout": 10,
        "fail_mode": "continue",
        "enabled": True,
    }


def entry_text(command: str = HOOK_COMMAND, indent: str = "  ") -> str:
    """Our entry as a YAML block list item (`indent` is the list's own indentation)."""
    body = entry(command)
    inner = indent + "  "
    lines = [
        f"{indent}# Added by `flowspec-telemetry install-hooks --flowspec`",
        f"{indent}- name: {body['name']}",
        f"{inner}description: {_quote(body['description'])}",
        f"{inner}events:",
        *(f"{inner}  - type: {_quote(t)}" for t in EVENT_TYPES),
        f"{inner}command: {_quote(command)}",
        f"{inner}timeout: {body['timeout']}",
        f"{inner}fail_mode: {body['fail_mode']}",
        f"{inner}enabled: true",
    ]
    return "\n".join(lines) + "\n"


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _is_ours(hook: object) -> bool:
    return isinstance(hook, dict) and (
        hook.get("name") == HOOK_NAME or is_hook_command(hook.get("command"), HOOK_ARGS)
    )


def _load(text: str | None, path: Path) -> dict[str, Any] | None:
    if text is None:
        return None
    if not text.strip():
        return {}
    import yaml

    from flowspec_telemetry.core.roles import CatalogError, bounded_yaml

    try:
        data = bounded_yaml(text)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark is not None else "?"
        raise SettingsError(
            f"{path} is not valid YAML ({exc.problem or 'parse error'}, line {line}); "
            "not touching it"
        ) from None
    except (yaml.YAMLError, CatalogError, RecursionError) as exc:
        raise SettingsError(f"{path} is not valid YAML ({exc}); not touching it") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SettingsError(f"{path} is not a YAML mapping; not touching it")
    hooks = data.get("hooks")
    if hooks is not None and not isinstance(hooks, list):
        raise SettingsError(f"{path}: `hooks` is not a list; not touching it")
    return data


_TOP_KEY = re.compile(r"^[^\s#-]")  # a line that starts a new top-level key


def _hooks_section(lines: list[str]) -> tuple[int, int] | None:
    """(index of the `hooks:` line, index after the section's last content line)."""
    start = next((i for i, line in enumerate(lines) if re.match(r"^hooks\s*:", line)), None)
    if start is None:
        return None
    end = start + 1
    last = start + 1
    while end < len(lines):
        line = lines[end]
        if _TOP_KEY.match(line):
            break
        if line.strip() and not line.lstrip().startswith("#"):
            last = end + 1
        end += 1
    return start, last


def _item_indent(lines: list[str], start: int, stop: int) -> str:
    for line in lines[start + 1 : stop]:
        m = re.match(r"^([ \t]*)- ", line)
        if m:
            return m.group(1)
    return "  "


def _added(text: str, command: str) -> str | None:
    """`text` with our entry appended to its hooks list, or None when the layout is not plain."""
    if not text.strip():
        return _HEADER + entry_text(command)
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    section = _hooks_section(lines)
    if section is None:
        return "".join(lines) + "\nhooks:\n" + entry_text(command)
    start, stop = section
    head = lines[start].split("#", 1)[0].rstrip()
    if head.split(":", 1)[1].strip() == "[]":
        lines[start] = "hooks:\n"
        return "".join(lines[: start + 1]) + entry_text(command) + "".join(lines[start + 1 :])
    if head.split(":", 1)[1].strip():
        return None  # flow style or an inline value: not ours to rewrite
    indent = _item_indent(lines, start, stop)
    return "".join(lines[:stop]) + entry_text(command, indent) + "".join(lines[stop:])


def _removed(text: str) -> str | None:
    """`text` without our entry (and the comment line we put above it)."""
    lines = text.splitlines(keepends=True)
    section = _hooks_section(lines)
    if section is None:
        return None
    start, stop = section
    for i in range(start + 1, stop):
        m = re.match(r"^([ \t]*)- +name: *[\"']?" + re.escape(HOOK_NAME) + r"[\"']?\s*$", lines[i])
        if not m:
            continue
        indent = len(m.group(1))
        end = i + 1
        while end < stop:
            line = lines[end]
            if line.strip() and len(line) - len(line.lstrip()) <= indent:
                break
            end += 1
        first = i
        if first > start + 1 and lines[first - 1].strip().startswith(
            "# Added by `flowspec-telemetry"
        ):
            first -= 1
        return "".join(lines[:first] + lines[end:])
    return None


def plan(root: Path, *, remove: bool = False, command: str = HOOK_COMMAND) -> Change:
    """Compute the change to hooks.yaml without writing anything."""
    path = hooks_path(root)
    try:
        before = read_config(path, root)
    except ConfigFileError as exc:
        raise SettingsError(str(exc)) from None
    data = _load(before, path)
    hooks = list((data or {}).get("hooks") or [])
    ours = [h for h in hooks if _is_ours(h)]
    backup = backup_path(path) if before is not None else None
    if remove:
        if before is None or not ours:
            return Change(path, before, before or "", None, root)
        after = before
        for _ in ours:
            cut = _removed(after)
            if cut is None:
                break
            after = cut
        expected = {**(data or {}), "hooks": [h for h in hooks if not _is_ours(h)]}
    else:
        if ours == [entry(command)]:
            return Change(path, before, before or "", backup, root)
        base = before or ""
        for _ in ours:  # another form of our entry (another command path): replace it
            cut = _removed(base)
            if cut is None:
                raise SettingsError(
                    f"{path}: cannot replace our old entry safely; remove it by hand"
                )
            base = cut
        added = _added(base, command)
        if added is None:
            raise SettingsError(
                f"{path}: `hooks` is not a plain block list; not touching it "
                "(add our entry by hand: README, flowspec's own events)"
            )
        after = added
        kept = [h for h in hooks if not _is_ours(h)]
        expected = {**(data or {"version": "1.0"}), "hooks": [*kept, entry(command)]}
    got = _load(after, path)
    if got != expected:
        raise SettingsError(f"{path}: cannot merge safely (its layout is unusual); not touching it")
    return Change(path, before, after, backup, root)


def apply(change: Change) -> None:
    """Write a planned change atomically, after backing up the original once."""
    if not change.changed:
        return
    root = change.root if change.root is not None else change.path.parents[2]
    try:
        write_config(change.path, root, change.before, change.after)
    except ConfigFileError as exc:
        raise SettingsError(str(exc)) from None
