"""The role catalog: which roles, agents and commands a project knows.

The catalog does two jobs. It gives insights their vocabulary (agent ->
home role, command -> workflow), and it is the privacy layer's allow-list:
catalog values are stored as they are, anything else only as a keyed hash.

It comes from the project's committed `flowspec_workflow.yml` when there is
one, else from a built-in copy of flowspec's defaults. A missing, empty or
malformed file never breaks tracking: the default catalog serves and
`Catalog.source` says why.

YAML is parsed at most once per change of the file: the parsed catalog is
kept in memory and, once the person has opted in, as JSON in
`.flowspec/telemetry-catalog.json`, keyed by the file's size and mtime. So the
tracking path imports PyYAML only right after the workflow file changed.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping

from flowspec_telemetry.core._files import write_private
from flowspec_telemetry.core.errors import TelemetryError
from flowspec_telemetry.core.names import FLOWSPEC, ToolNames

__all__ = [
    "CACHE_FILE",
    "DEFAULT_CATALOG",
    "SELECTION_FILE",
    "Catalog",
    "CatalogError",
    "RoleDefinition",
    "Workflow",
    "catalog_from_mapping",
    "load_catalog",
    "parse_workflow_text",
    "read_selected_role",
    "team_policy",
    "write_selected_role",
]

TYPE_CHECKING = False
if TYPE_CHECKING:  # the tracking path never imports typing or pathlib
    from typing import Any, Final

    from flowspec_telemetry.core.names import StrPath


CACHE_FILE: Final = "telemetry-catalog.json"
_CACHE_FORMAT: Final = 1
_MAX_WORKFLOW_BYTES: Final = 1 << 20
# Patterns as text: `re` compiles (and caches) them on first use, which is only
# when a workflow file has to be parsed, never on a steady-state `track` call.
_ID = r"^[A-Za-z0-9][\w.-]{0,63}$"
_AGENT = r"^@?[A-Za-z0-9][\w.-]{0,63}$"
_COMMAND = r"^/[A-Za-z0-9][\w.:-]{0,63}$"
_VETO_TEXT = r"(?mi)^telemetry:\s*(?:#.*)?\n(?:[ \t]+.*\n)*?[ \t]+enabled:\s*(?:false|no|off)\b"


class _Value:
    """Equality and repr from `__slots__`: small value objects without `dataclasses`."""

    __slots__ = ()

    def _fields(self) -> tuple[str, ...]:
        return tuple(type(self).__slots__)

    def _key(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self._fields())

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, _Value) and type(other) is type(self) and self._key() == other._key()
        )

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        fields = ", ".join(f"{n}={getattr(self, n)!r}" for n in self._fields())
        return f"{type(self).__name__}({fields})"


class RoleDefinition(_Value):
    """One role: id, how it is shown, and the agents it owns."""

    __slots__ = ("id", "display_name", "icon", "agents")  # noqa: RUF023 - field order

    def __init__(
        self, id: str, display_name: str, icon: str = "", agents: tuple[str, ...] = ()
    ) -> None:
        self.id = id
        self.display_name = display_name
        self.icon = icon
        self.agents = agents


class Workflow(_Value):
    """One workflow: its command and the agents that run it."""

    __slots__ = ("name", "command", "agents")  # noqa: RUF023 - field order

    def __init__(self, name: str, command: str, agents: tuple[str, ...] = ()) -> None:
        self.name = name
        self.command = command
        self.agents = agents


class Catalog:
    """Roles, workflows and the team policy of one project (build it with `Catalog.build`)."""

    __slots__ = (
        "agent_roles",
        "command_workflows",
        "known_agents",
        "known_commands",
        "known_roles",
        "primary",
        "roles",
        "source",
        "team_telemetry",
        "workflows",
    )

    def __init__(
        self,
        roles: dict[str, RoleDefinition],
        workflows: dict[str, Workflow],
        *,
        primary: str | None = None,
        team_telemetry: bool | None = None,  # the workflow file's telemetry.enabled
        source: str = "built-in default catalog",
        known_roles: frozenset[str] = frozenset(),
        known_agents: frozenset[str] = frozenset(),
        known_commands: frozenset[str] = frozenset(),
        agent_roles: dict[str, tuple[str, ...]] | None = None,
        command_workflows: dict[str, str] | None = None,
    ) -> None:
        self.roles = roles
        self.workflows = workflows
        self.primary = primary
        self.team_telemetry = team_telemetry
        self.source = source
        self.known_roles = known_roles
        self.known_agents = known_agents
        self.known_commands = known_commands
        self.agent_roles = agent_roles or {}
        self.command_workflows = command_workflows or {}

    def __repr__(self) -> str:
        return f"Catalog(roles={sorted(self.roles)!r}, source={self.source!r})"

    @classmethod
    def build(
        cls,
        roles: Iterable[RoleDefinition],
        workflows: Iterable[Workflow],
        *,
        primary: str | None = None,
        team_telemetry: bool | None = None,
        source: str = "built-in default catalog",
    ) -> Catalog:
        role_map = {r.id: r for r in roles}
        flow_map = {w.name: w for w in workflows}
        agent_roles: dict[str, list[str]] = {}
        for role in role_map.values():
            for agent in role.agents:
                agent_roles.setdefault(agent, []).append(role.id)
        agents = set(agent_roles)
        for flow in flow_map.values():
            agents.update(flow.agents)
        return cls(
            roles=role_map,
            workflows=flow_map,
            primary=primary if primary in role_map else None,
            team_telemetry=team_telemetry,
            source=source,
            known_roles=frozenset(role_map),
            known_agents=frozenset(agents),
            known_commands=frozenset(w.command for w in flow_map.values()),
            agent_roles={a: tuple(r) for a, r in agent_roles.items()},
            command_workflows={w.command: w.name for w in flow_map.values()},
        )

    def home_role(self, agent: str | None) -> str | None:
        """The role that owns `agent` (the first, if several do)."""
        if agent is None:
            return None
        owners = self.agent_roles.get(agent)
        return owners[0] if owners else None

    def to_json(self) -> dict[str, Any]:
        return {
            "roles": {
                r.id: {"display_name": r.display_name, "icon": r.icon, "agents": list(r.agents)}
                for r in self.roles.values()
            },
            "workflows": {
                w.name: {"command": w.command, "agents": list(w.agents)}
                for w in self.workflows.values()
            },
            "primary": self.primary,
            "team_telemetry": self.team_telemetry,
            "source": self.source,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Catalog:
        roles = [
            RoleDefinition(
                rid, str(r["display_name"]), str(r.get("icon", "")), tuple(r.get("agents", ()))
            )
            for rid, r in data["roles"].items()
        ]
        flows = [
            Workflow(name, str(w["command"]), tuple(w.get("agents", ())))
            for name, w in data["workflows"].items()
        ]
        return cls.build(
            roles,
            flows,
            primary=data.get("primary"),
            team_telemetry=data.get("team_telemetry"),
            source=str(data.get("source", "")),
        )


def _default_catalog() -> Catalog:
    roles = (
        RoleDefinition("arch", "Architect", "🏗️", ("@software-architect", "@platform-engineer")),
        RoleDefinition(
            "dev", "Developer", "💻", ("@frontend-engineer", "@backend-engineer", "@ai-ml-engineer")
        ),
        RoleDefinition("sec", "Security Engineer", "🔒", ("@secure-by-design-engineer",)),
        RoleDefinition("qa", "QA Engineer", "✅", ("@quality-guardian", "@release-manager")),
        RoleDefinition("ops", "SRE/DevOps", "🚀", ("@sre-agent",)),
        RoleDefinition("all", "All Roles", "🌐", ()),
    )
    flows = (
        Workflow("assess", "/flow:assess", ("@workflow-assessor",)),
        Workflow("specify", "/flow:specify", ("@pm-planner",)),
        Workflow("research", "/flow:research", ("@researcher", "@business-validator")),
        Workflow("plan", "/flow:plan", ("@software-architect", "@platform-engineer")),
        Workflow(
            "implement",
            "/flow:implement",
            ("@frontend-engineer", "@backend-engineer", "@ai-ml-engineer"),
        ),
        Workflow(
            "validate",
            "/flow:validate",
            ("@quality-guardian", "@secure-by-design-engineer", "@release-manager"),
        ),
        Workflow("operate", "/flow:operate", ("@sre-agent",)),
        Workflow("init", "/flow:init", ()),
        Workflow("reset", "/flow:reset", ()),
    )
    return Catalog.build(roles, flows, primary="dev")


DEFAULT_CATALOG: Final = _default_catalog()


class CatalogError(TelemetryError, ValueError):
    """The workflow file cannot be read as a role catalog."""


def _agent_name(raw: Any) -> str | None:
    if isinstance(raw, Mapping):
        raw = raw.get("identity") or raw.get("name")
    if not isinstance(raw, str) or not re.match(_AGENT, raw.strip()):
        return None
    name = raw.strip()
    return name if name.startswith("@") else "@" + name


def catalog_from_mapping(data: Any, *, source: str) -> Catalog:
    """Build a catalog from a parsed workflow file, ignoring what it does not know.

    Raises `CatalogError` when the document has no usable roles section.
    """
    if not isinstance(data, Mapping):
        raise CatalogError("the workflow file is not a mapping")
    roles_section = data.get("roles")
    definitions = roles_section.get("definitions") if isinstance(roles_section, Mapping) else None
    if not isinstance(definitions, Mapping) or not definitions:
        raise CatalogError("no roles.definitions section")
    roles = []
    for rid, body in definitions.items():
        if not isinstance(rid, str) or not re.match(_ID, rid):
            continue
        fields = body if isinstance(body, Mapping) else {}
        agents = fields.get("agents")
        agent_names = tuple(
            a for a in map(_agent_name, agents if isinstance(agents, list) else ()) if a
        )
        display = fields.get("display_name")
        icon = fields.get("icon")
        roles.append(
            RoleDefinition(
                rid,
                display if isinstance(display, str) else rid,
                icon if isinstance(icon, str) else "",
                agent_names,
            )
        )
    if not roles:
        raise CatalogError("roles.definitions names no valid role")
    flows = []
    workflows = data.get("workflows")
    if isinstance(workflows, Mapping):
        for name, body in workflows.items():
            if not isinstance(name, str) or not isinstance(body, Mapping):
                continue
            command = body.get("command")
            if not isinstance(command, str) or not re.match(_COMMAND, command.strip()):
                continue
            agents = body.get("agents")
            agent_names = tuple(
                a for a in map(_agent_name, agents if isinstance(agents, list) else ()) if a
            )
            flows.append(Workflow(name, command.strip(), agent_names))
    primary = roles_section.get("primary") if isinstance(roles_section, Mapping) else None
    telemetry = data.get("telemetry")
    team = telemetry.get("enabled") if isinstance(telemetry, Mapping) else None
    return Catalog.build(
        roles,
        flows,
        primary=primary if isinstance(primary, str) else None,
        team_telemetry=team_policy(team),
        source=source,
    )


_ALLOWS: Final = frozenset({"true", "yes", "on", "1"})


def team_policy(value: Any) -> bool | None:
    """The team's `telemetry.enabled`: True allows, None when absent, False otherwise.

    Privacy first: a veto written any common way (`false`, `"false"`, `no`,
    `0`, `off`) is a veto, and so is a value nobody can read as a yes (`maybe`,
    a list): only an unmistakable yes allows.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in _ALLOWS


def parse_workflow_text(text: str, *, source: str) -> Catalog:
    """Parse YAML text into a catalog; on any failure the default, with the reason.

    The team veto is honoured even when the rest of the file is unusable: a
    malformed file that visibly says `telemetry: enabled: false` still vetoes.
    """
    import yaml  # deferred: only reached when the workflow file changed

    data: Any = None
    try:
        data = yaml.safe_load(text)
        return catalog_from_mapping(data, source=source)
    except (yaml.YAMLError, CatalogError, RecursionError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        telemetry = data.get("telemetry") if isinstance(data, Mapping) else None
        vetoed = bool(re.search(_VETO_TEXT, text)) or (
            isinstance(telemetry, Mapping) and telemetry.get("enabled") is False
        )
        return _fallback(
            f"{source} is malformed: {reason}", team_telemetry=False if vetoed else None
        )


def _fallback(why: str, *, team_telemetry: bool | None = None) -> Catalog:
    """The default catalog, labelled with why the project's file was not used."""
    return Catalog.build(
        DEFAULT_CATALOG.roles.values(),
        DEFAULT_CATALOG.workflows.values(),
        primary=DEFAULT_CATALOG.primary,
        team_telemetry=team_telemetry,
        source=f"built-in default catalog ({why})",
    )


# path -> (file key, catalog, whether the JSON cache on disk matches it)
_memory: dict[str, tuple[tuple[int, int, int], Catalog, bool]] = {}


def _cache_key(path: str) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def load_catalog(
    root: StrPath | None, names: ToolNames = FLOWSPEC, *, write_cache: bool = False
) -> Catalog:
    """The catalog of the project at `root` (the default one when there is no file).

    Order of lookups: memory, then `.flowspec/telemetry-catalog.json`, then
    YAML. `write_cache=True` stores a fresh parse as JSON; callers pass it
    only once the person has opted in, since nothing may be written before.
    """
    if root is None:
        return DEFAULT_CATALOG
    path = os.path.join(root, names.workflow_file)
    key = _cache_key(path)
    if key is None:
        return DEFAULT_CATALOG
    cache_path = os.path.join(root, names.project_dir, CACHE_FILE)
    hit = _memory.get(path)
    if hit is not None and hit[0] == key:
        if write_cache and not hit[2]:
            _memory[path] = (key, hit[1], _write_cache(cache_path, key, hit[1]))
        return hit[1]
    catalog = _read_cache(cache_path, key)
    persisted = catalog is not None
    if catalog is None:
        try:
            with open(path, "rb") as fh:
                raw = fh.read(_MAX_WORKFLOW_BYTES + 1)
        except OSError as exc:
            return _fallback(f"{names.workflow_file} unreadable: {exc.strerror}")
        if len(raw) > _MAX_WORKFLOW_BYTES:
            catalog = _fallback(f"{names.workflow_file} is larger than 1 MiB")
        else:
            catalog = parse_workflow_text(
                raw.decode("utf-8", "replace"), source=names.workflow_file
            )
        if write_cache:
            persisted = _write_cache(cache_path, key, catalog)
    _memory[path] = (key, catalog, persisted)
    return catalog


def _read_cache(cache_path: str, key: tuple[int, int, int]) -> Catalog | None:
    try:
        with open(cache_path, "rb") as fh:
            data = json.loads(fh.read())
        if data.get("format") != _CACHE_FORMAT or data.get("key") != list(key):
            return None
        return Catalog.from_json(data["catalog"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _write_cache(cache_path: str, key: tuple[int, int, int], catalog: Catalog) -> bool:
    """Store the parsed catalog atomically; False when it could not be stored."""
    if not os.path.isdir(os.path.dirname(cache_path)):
        return False
    blob = json.dumps({"format": _CACHE_FORMAT, "key": list(key), "catalog": catalog.to_json()})
    try:
        write_private(cache_path, blob.encode())
    except OSError:
        return False
    return True


# ------------------------------------------------------------ current role

SELECTION_FILE: Final = "telemetry-role.json"


def read_selected_role(project_dir: StrPath) -> str | None:
    """The role of the last `role.selected`/`role.changed`, as stored (catalog id or hash)."""
    try:
        with open(os.path.join(project_dir, SELECTION_FILE), "rb") as fh:
            data = json.loads(fh.read(4096))
    except (OSError, ValueError):
        return None
    role = data.get("role") if isinstance(data, dict) else None
    return role if isinstance(role, str) and len(role) <= 64 else None


def write_selected_role(project_dir: StrPath, role: str) -> None:
    """Remember the person's current role for events that do not name one."""
    write_private(os.path.join(project_dir, SELECTION_FILE), json.dumps({"role": role}).encode())
