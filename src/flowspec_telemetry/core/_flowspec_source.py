"""What a flowspec release ships: its commands, agents and roles, read from its files.

Two users: the catalog, when the flowspec package is installed next to this
one (its templates and default workflow are read on a catalog cache miss,
never on a steady-state `track` call), and the test that compares the
built-in snapshot (`_flowspec_snapshot`) with flowspec's source. Both read the
same way, so the snapshot is exactly what this module finds in the release it
was made from (`python -m flowspec_telemetry.core._snapshot_maker SRC RELEASE`
writes it).

Nothing here imports flowspec: importing `flowspec_cli` costs over a second
(typer, rich, its whole CLI). Commands come from the file names under
`templates/commands/<namespace>/<name>.md` (`/flow:implement`; a file named
like its folder, `vibe/vibe.md`, is also `/vibe`), agents from the
`@mentions`, `identity:` lines, `track-agent` calls and `subagent_type`
values in the templates and from the agent files' `name:`, and the default
roles and workflows from the literal tables in `workflow/migration.py`, read
with `ast.literal_eval` (no code of it runs).
"""

from __future__ import annotations

import os
import sys

from flowspec_telemetry.core._read import read_bounded

TYPE_CHECKING = False
if TYPE_CHECKING:  # imported on every catalog lookup (installed_key): keep it light
    from collections.abc import Iterable, Mapping
    from typing import Any

__all__ = ["Shipped", "find_installed", "installed_key", "read_release", "read_tree"]

_MAX_TEMPLATE_BYTES = 1 << 20
_NAME = r"[a-z][a-z0-9]*(?:-[a-z0-9]+)+"  # agents are kebab-case with at least one hyphen
# Patterns as text, compiled by `re` on first use (a catalog cache miss), not at import.
_AGENT_PATTERNS = (
    # an @mention not glued to a word, path or version (`actions/checkout@v4`, `a@b.c`)
    r"(?<![\w./@-])@(" + _NAME + r")\b(?![.@/])",
    r"identity:\s*[\"']?@?([a-z][a-z0-9-]*)",
    r"track-agent\s+@?([a-z][a-z0-9-]*)",
    r"subagent_type[\"']?\s*[=:]\s*[\"']([a-z][a-z0-9:-]*)",
)
_FRONTMATTER_NAME = r"(?m)\A---[ \t]*\n(?:(?!---).*\n){0,40}?name:[ \t]*[\"']?([a-z][a-z0-9-]*)"
_COMMAND_FILE = r"^[a-z][a-z0-9_-]*\Z"
_TRACK_ROLE = r"track-role\s+([a-z][a-z0-9]{0,15})\b"
_PLACEHOLDERS = ("your-", "agent-identity", "example-")
_DEFAULT_TABLES = ("DEFAULT_ROLES", "DEFAULT_AGENT_LOOPS", "DEFAULT_CUSTOM_WORKFLOWS")


class Shipped:
    """Commands, agents and workflow-file tables found in one flowspec release."""

    __slots__ = ("agents", "commands", "documents", "origin", "roles")

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.roles: set[str] = set()  # roles its docs and templates track (`track-role pm`)
        self.commands: set[str] = set()
        self.agents: set[str] = set()
        self.documents: list[Mapping[str, Any]] = []  # workflow-file shaped mappings

    def add_templates(self, templates: str) -> None:
        """Commands and agents of one `templates/` folder."""
        import re

        commands_dir = os.path.join(templates, "commands")
        for namespace in _listdir(commands_dir):
            folder = os.path.join(commands_dir, namespace)
            if not re.match(_COMMAND_FILE, namespace) or not os.path.isdir(folder):
                continue
            for entry in _listdir(folder):
                stem, ext = os.path.splitext(entry)
                if ext != ".md" or not re.match(_COMMAND_FILE, stem):
                    continue
                self.commands.add(f"/{namespace}:{stem}")
                if stem == namespace:
                    self.commands.add(f"/{namespace}")
                self._scan(os.path.join(folder, entry))
        for sub in ("partials", "agents", "skills"):
            for path in _walk_md(os.path.join(templates, sub)):
                self._scan(path, named=sub == "agents")

    def _scan(self, path: str, *, named: bool = False) -> None:
        import re

        try:
            text = read_bounded(path, _MAX_TEMPLATE_BYTES).decode("utf-8", "replace")
        except OSError:
            return
        for pattern in _AGENT_PATTERNS:
            self.agents.update(
                "@" + m for m in re.findall(pattern, text) if not m.startswith(_PLACEHOLDERS)
            )
        self.roles.update(re.findall(_TRACK_ROLE, text))
        if named:
            m = re.match(_FRONTMATTER_NAME, text)
            if m:
                self.agents.add("@" + m.group(1))

    def add_telemetry_docs(self, package: str) -> None:
        """Roles flowspec's own telemetry commands document (`track-role pm -c /flow:init`)."""
        self._scan(os.path.join(package, "telemetry", "cli.py"))

    def add_migration_defaults(self, migration_py: str) -> None:
        """The default roles/agent loops/custom workflows flowspec's own migration writes."""
        import ast

        try:
            tree = ast.parse(read_bounded(migration_py, _MAX_TEMPLATE_BYTES))
        except (OSError, SyntaxError, ValueError):
            return
        doc: dict[str, Any] = {}
        for node in tree.body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
                if isinstance(target, ast.Name) and target.id in _DEFAULT_TABLES:
                    try:
                        doc[target.id.removeprefix("DEFAULT_").lower()] = ast.literal_eval(
                            node.value
                        )
                    except (ValueError, TypeError, SyntaxError, RecursionError):
                        continue
        if doc:
            self.documents.append(doc)

    def add_workflow_file(self, path: str) -> None:
        """A workflow file the release ships (its default `flowspec_workflow.yml`)."""
        import yaml

        try:
            data = yaml.safe_load(read_bounded(path, _MAX_TEMPLATE_BYTES))
        except (OSError, yaml.YAMLError, RecursionError):
            return
        if isinstance(data, dict):
            self.documents.append(data)


def _listdir(path: str) -> list[str]:
    try:
        return sorted(os.listdir(path))
    except OSError:
        return []


def _walk_md(root: str) -> Iterable[str]:
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            if name.endswith(".md"):
                yield os.path.join(folder, name)


def read_tree(source: str) -> Shipped:
    """A flowspec source tree (a checkout or the release tarball, extracted)."""
    shipped = Shipped(source)
    for templates in (
        os.path.join(source, "templates"),
        os.path.join(source, "src", "flowspec_cli", "templates"),
    ):
        shipped.add_templates(templates)
    package = os.path.join(source, "src", "flowspec_cli")
    shipped.add_migration_defaults(os.path.join(package, "workflow", "migration.py"))
    shipped.add_telemetry_docs(package)
    for rel in ("flowspec_workflow.yml", os.path.join("memory", "flowspec_workflow.yml")):
        shipped.add_workflow_file(os.path.join(source, rel))
    return shipped


def find_installed(paths: Iterable[str] | None = None) -> tuple[str | None, str | None]:
    """(templates folder, migration.py) of the importable `flowspec_cli`, without importing it.

    An editable install has the templates in site-packages and the code in
    the source tree, so each is looked up on its own along `sys.path`.
    """
    templates = migration = None
    for entry in sys.path if paths is None else paths:
        package = os.path.join(entry or ".", "flowspec_cli")
        if entry.endswith(".zip") or not os.path.isdir(package):
            continue  # one stat for each entry without flowspec (the usual case)
        if templates is None and os.path.isdir(os.path.join(package, "templates", "commands")):
            templates = os.path.join(package, "templates")
        if migration is None:
            candidate = os.path.join(package, "workflow", "migration.py")
            if os.path.isfile(candidate):
                migration = candidate
        if templates is not None and migration is not None:
            break
    return templates, migration


def installed_key(paths: Iterable[str] | None = None) -> str:
    """Names the installed flowspec's templates as they are now ("" when none is installed).

    Part of the catalog cache key: reinstalling or upgrading flowspec changes
    the folders' inodes or modification times, so the cached catalog is
    rebuilt. Only numbers: the key is stored in the project, and a path could
    hold a user name.
    """
    templates, _ = find_installed(paths)
    if templates is None:
        return ""
    parts = []
    commands = os.path.join(templates, "commands")
    for folder in [templates, commands, *(os.path.join(commands, n) for n in _listdir(commands))]:
        try:
            st = os.stat(folder)
            parts.append(f"{st.st_dev}:{st.st_ino}:{st.st_mtime_ns}")
        except OSError:
            parts.append("-")
    return "|".join(parts)


def read_release(paths: Iterable[str] | None = None) -> Shipped | None:
    """What the installed flowspec ships, or None when it is not installed."""
    templates, migration = find_installed(paths)
    if templates is None:
        return None
    shipped = Shipped(os.path.dirname(templates))
    shipped.add_templates(templates)
    if migration is not None:
        shipped.add_migration_defaults(migration)
        shipped.add_telemetry_docs(os.path.dirname(os.path.dirname(migration)))
    return shipped
