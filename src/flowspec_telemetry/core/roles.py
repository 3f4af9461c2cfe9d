"""The role catalog: which roles, agents and commands a project knows.

The catalog does two jobs. It gives insights their vocabulary (agent ->
home role, command -> workflow), and it is the privacy layer's allow-list:
catalog values are stored as they are, anything else only as a keyed hash.
So it must know what the host really uses, or the five questions cannot be
answered:

* **built-in**: every role, command and agent the flowspec release ships.
  A snapshot of the current release is part of this package
  (`_flowspec_snapshot`, checked against flowspec's source by a test); when
  the flowspec package is installed, what its templates and default workflow
  name is added (read from its files on a cache miss, never imported).
* **project**: everything the project's `flowspec_workflow.yml` adds, in
  any version of the format: `roles.definitions.*` (with `commands`),
  `workflows.*` (with or without a `roles` section), `custom_workflows`, and
  agents named anywhere in it. The project file extends the built-in
  catalog; an empty or missing section never empties it.

Only a file that cannot be read safely or that YAML cannot parse falls back
to the built-in catalog, and `Catalog.source` says why. The file is read with
`read_bounded` (regular files only, at most 1 MiB, never blocking) and parsed
with a bounded YAML pass (aliases, nesting and nodes counted first), so a
planted FIFO, a 50 MB file or an alias bomb costs nothing.

The team policy (the veto) is read from `metadata.telemetry.enabled`, the
place flowspec's schema allows, and from the older root `telemetry:` key. It
fails closed: anything that is not an unmistakable yes is a veto, and so is a
policy that cannot be read; `Catalog.policy` names the file, key and value.

YAML is parsed at most once per change of the file: the catalog is kept in
memory and, once the person has opted in, as JSON in
`.flowspec/telemetry-catalog.json`, keyed by the file's size, mtime and inode
and by the installed flowspec's templates. So the tracking path imports
PyYAML only right after the workflow file changed.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping

from flowspec_telemetry.core import _flowspec_snapshot as snapshot
from flowspec_telemetry.core._files import write_private
from flowspec_telemetry.core._read import UnsafeFileError, read_bounded
from flowspec_telemetry.core.errors import TelemetryError
from flowspec_telemetry.core.names import FLOWSPEC, ToolNames

__all__ = [
    "CACHE_FILE",
    "DEFAULT_CATALOG",
    "SELECTION_FILE",
    "Catalog",
    "CatalogError",
    "Policy",
    "RoleDefinition",
    "Workflow",
    "bounded_yaml",
    "catalog_from_mapping",
    "command_spellings",
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
_CACHE_FORMAT: Final = 2
MAX_WORKFLOW_BYTES: Final = 1 << 20
MAX_CACHE_BYTES: Final = 4 << 20
# Bounds of the YAML pass: a real workflow file has no alias, a few hundred
# nodes and a nesting depth below 10.
MAX_YAML_ALIASES: Final = 50
MAX_YAML_NODES: Final = 100_000
MAX_YAML_DEPTH: Final = 48
_MAX_WALK: Final = 50_000  # nodes visited looking for agents named anywhere
_MAX_NAMES: Final = 2_000  # roles, commands or agents taken from one file
# Patterns as text: `re` compiles (and caches) them on first use, which is only
# when a workflow file has to be parsed, never on a steady-state `track` call.
_ID = r"^[A-Za-z0-9][\w.-]{0,63}\Z"
_AGENT = r"^@?[A-Za-z0-9][\w.-]{0,63}(?::[A-Za-z0-9][\w.-]{0,63})?\Z"
_MENTION = r"^@[A-Za-z0-9][\w.-]{0,63}\Z"
_COMMAND = r"^/?[A-Za-z0-9][\w.-]{0,63}(?::[A-Za-z0-9][\w.-]{0,63})?\Z"
# A `telemetry` key in text YAML could not parse (linear: no nested quantifier).
_POLICY_KEY_TEXT = r"(?im)(?:^|[{,])[ \t-]*[\"']?telemetry[\"']?[ \t]*:"


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
    """One role: id, how it is shown, the agents it owns and its own commands."""

    __slots__ = ("id", "display_name", "icon", "agents", "commands")  # noqa: RUF023 - field order

    def __init__(
        self,
        id: str,
        display_name: str,
        icon: str = "",
        agents: tuple[str, ...] = (),
        commands: tuple[str, ...] = (),
    ) -> None:
        self.id = id
        self.display_name = display_name
        self.icon = icon
        self.agents = agents
        self.commands = commands


class Workflow(_Value):
    """One workflow: its command and the agents that run it."""

    __slots__ = ("name", "command", "agents")  # noqa: RUF023 - field order

    def __init__(self, name: str, command: str, agents: tuple[str, ...] = ()) -> None:
        self.name = name
        self.command = command
        self.agents = agents


class Policy(_Value):
    """The team policy as read: which file and key said what, and whether it allows.

    `allows` is True only for an unmistakable yes, False for a veto (any other
    value, or a policy that could not be read), None when there is none.
    """

    __slots__ = ("file", "key", "value", "allows")  # noqa: RUF023 - field order

    def __init__(self, file: str, key: str, value: str, allows: bool | None) -> None:
        self.file = file
        self.key = key
        self.value = value
        self.allows = allows

    def describe(self) -> str:
        """One line for `status`: "metadata.telemetry.enabled is 'no' in flowspec_workflow.yml"."""
        return f"{self.key} is {self.value} in {self.file}"

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "key": self.key, "value": self.value, "allows": self.allows}


class Catalog:
    """Roles, workflows and the team policy of one project (build it with `Catalog.build`)."""

    __slots__ = (
        "agent_roles",
        "command_workflows",
        "counts",
        "extra_agents",
        "extra_commands",
        "known_agents",
        "known_commands",
        "known_roles",
        "policy",
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
        team_telemetry: bool | None = None,
        source: str = "built-in catalog",
        known_roles: frozenset[str] = frozenset(),
        known_agents: frozenset[str] = frozenset(),
        known_commands: frozenset[str] = frozenset(),
        agent_roles: dict[str, tuple[str, ...]] | None = None,
        command_workflows: dict[str, str] | None = None,
        extra_commands: tuple[str, ...] = (),
        extra_agents: tuple[str, ...] = (),
        policy: Policy | None = None,
        counts: dict[str, Any] | None = None,
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
        self.extra_commands = extra_commands
        self.extra_agents = extra_agents
        self.policy = policy
        self.counts = counts or {}

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
        source: str = "built-in catalog",
        commands: Iterable[str] = (),
        agents: Iterable[str] = (),
        policy: Policy | None = None,
        counts: dict[str, Any] | None = None,
    ) -> Catalog:
        role_map = {r.id: r for r in roles}
        flow_map = {w.name: w for w in workflows}
        agent_roles: dict[str, list[str]] = {}
        for role in role_map.values():
            for agent in role.agents:
                agent_roles.setdefault(agent, []).append(role.id)
        extra_agents = tuple(dict.fromkeys(agents))
        extra_commands = tuple(dict.fromkeys(commands))
        known_agents = set(agent_roles)
        known_agents.update(extra_agents)
        known_commands = set(extra_commands)
        for flow in flow_map.values():
            known_agents.update(flow.agents)
            known_commands.add(flow.command)
        for role in role_map.values():
            known_commands.update(role.commands)
        if team_telemetry is None and policy is not None:
            team_telemetry = policy.allows
        return cls(
            roles=role_map,
            workflows=flow_map,
            primary=primary if primary in role_map else None,
            team_telemetry=team_telemetry,
            source=source,
            known_roles=frozenset(role_map),
            known_agents=frozenset(known_agents),
            known_commands=frozenset(known_commands),
            agent_roles={a: tuple(r) for a, r in agent_roles.items()},
            command_workflows={w.command: w.name for w in flow_map.values()},
            extra_commands=extra_commands,
            extra_agents=extra_agents,
            policy=policy,
            counts=counts,
        )

    def home_role(self, agent: str | None) -> str | None:
        """The role that owns `agent` (the first, if several do)."""
        if agent is None:
            return None
        owners = self.agent_roles.get(agent)
        return owners[0] if owners else None

    def summary(self) -> str:
        """What the catalog holds and where from, in one line (for `status`)."""
        total = (
            f"{len(self.known_roles)} roles, {len(self.known_commands)} commands, "
            f"{len(self.known_agents)} agents"
        )
        added = self.counts.get("added")
        if isinstance(added, Mapping):
            return (
                f"{total}: built-in ({self.counts.get('builtin', 'flowspec')}) plus "
                f"{added.get('roles', 0)} roles, {added.get('commands', 0)} commands and "
                f"{added.get('agents', 0)} agents from {self.source}"
            )
        return f"{total}: {self.source}"

    def to_json(self) -> dict[str, Any]:
        return {
            "roles": {
                r.id: {
                    "display_name": r.display_name,
                    "icon": r.icon,
                    "agents": list(r.agents),
                    "commands": list(r.commands),
                }
                for r in self.roles.values()
            },
            "workflows": {
                w.name: {"command": w.command, "agents": list(w.agents)}
                for w in self.workflows.values()
            },
            "commands": list(self.extra_commands),
            "agents": list(self.extra_agents),
            "primary": self.primary,
            "policy": self.policy.to_json() if self.policy is not None else None,
            "team_telemetry": self.team_telemetry,
            "source": self.source,
            "counts": self.counts,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Catalog:
        roles = [
            RoleDefinition(
                rid,
                str(r["display_name"]),
                str(r.get("icon", "")),
                tuple(map(str, r.get("agents", ()))),
                tuple(map(str, r.get("commands", ()))),
            )
            for rid, r in data["roles"].items()
        ]
        flows = [
            Workflow(name, str(w["command"]), tuple(map(str, w.get("agents", ()))))
            for name, w in data["workflows"].items()
        ]
        raw_policy = data.get("policy")
        policy = None
        if isinstance(raw_policy, Mapping):
            allows = raw_policy.get("allows")
            policy = Policy(
                str(raw_policy["file"]),
                str(raw_policy["key"]),
                str(raw_policy["value"]),
                allows if isinstance(allows, bool) else None,
            )
        team = data.get("team_telemetry")
        counts = data.get("counts")
        return cls.build(
            roles,
            flows,
            primary=data.get("primary"),
            team_telemetry=team if isinstance(team, bool) else None,
            source=str(data.get("source", "")),
            commands=map(str, data.get("commands", ())),
            agents=map(str, data.get("agents", ())),
            policy=policy,
            counts=counts if isinstance(counts, dict) else None,
        )


class CatalogError(TelemetryError, ValueError):
    """The workflow file cannot be read as a role catalog."""


# ------------------------------------------------------------ spelling


def command_spellings(value: str) -> tuple[str, ...]:
    """The catalog spellings a host's command value may stand for, best first.

    Hosts spell one command several ways: `/flow:validate` (a prompt, the
    SlashCommand tool), `flow:validate` (the Skill tool), `/flow:validate
    feature-x` (with arguments). Only the first word counts; a missing slash
    is added.
    """
    text = value.strip()
    if not text:
        return ()
    token = text.split(maxsplit=1)[0]
    if token.startswith("/"):
        return (token,)
    return (token, "/" + token)


def _command_name(raw: object, *, namespace: str | None = None) -> str | None:
    """A command as the catalog stores it (`/flow:implement`), or None."""
    if isinstance(raw, Mapping):
        raw = raw.get("command") or raw.get("name")
    if not isinstance(raw, str):
        return None
    text = raw.strip()
    if not re.match(_COMMAND, text):
        return None
    if not text.startswith("/"):
        text = f"/{namespace}:{text}" if namespace and ":" not in text else "/" + text
    return text


def _agent_name(raw: object) -> str | None:
    if isinstance(raw, Mapping):
        raw = raw.get("identity") or raw.get("name")
    if not isinstance(raw, str) or not re.match(_AGENT, raw.strip()):
        return None
    name = raw.strip()
    return name if name.startswith("@") else "@" + name


def _agent_list(raw: object) -> tuple[str, ...]:
    items = raw if isinstance(raw, list) else ()
    return tuple(dict.fromkeys(a for a in map(_agent_name, items[:_MAX_NAMES]) if a))


# ------------------------------------------------------------ the built-in catalog


def _snapshot_catalog() -> Catalog:
    roles = [RoleDefinition(*row) for row in snapshot.ROLES]
    flows = [Workflow(*row) for row in snapshot.WORKFLOWS]
    return Catalog.build(
        roles,
        flows,
        primary=snapshot.PRIMARY,
        source=f"built-in catalog (flowspec {snapshot.RELEASE})",
        commands=snapshot.COMMANDS,
        agents=snapshot.AGENTS,
        counts={"builtin": f"flowspec {snapshot.RELEASE}"},
    )


DEFAULT_CATALOG: Final = _snapshot_catalog()


def _merge(base: Catalog, extra: Catalog, *, source: str, label: str) -> Catalog:
    """`base` extended by `extra`: roles and workflows merged, never removed."""
    roles = dict(base.roles)
    for rid, role in extra.roles.items():
        old = roles.get(rid)
        if old is None:
            roles[rid] = role
            continue
        roles[rid] = RoleDefinition(
            rid,
            role.display_name if role.display_name != rid else old.display_name,
            role.icon or old.icon,
            tuple(dict.fromkeys((*old.agents, *role.agents))),
            tuple(dict.fromkeys((*old.commands, *role.commands))),
        )
    flows = dict(base.workflows)
    for name, flow in extra.workflows.items():
        old_flow = flows.get(name)
        agents = (*old_flow.agents, *flow.agents) if old_flow else flow.agents
        flows[name] = Workflow(name, flow.command, tuple(dict.fromkeys(agents)))
    added = {
        "roles": len(extra.known_roles - base.known_roles),
        "commands": len(extra.known_commands - base.known_commands),
        "agents": len(extra.known_agents - base.known_agents),
    }
    counts = {"builtin": base.counts.get("builtin", label), "added": added}
    return Catalog.build(
        roles.values(),
        flows.values(),
        primary=extra.primary or base.primary,
        source=source,
        commands=(*base.extra_commands, *extra.extra_commands),
        agents=(*base.extra_agents, *extra.extra_agents),
        policy=extra.policy,
        counts=counts,
    )


def builtin_catalog(paths: Iterable[str] | None = None) -> Catalog:
    """The snapshot, plus what an installed flowspec package ships (read, never imported)."""
    from flowspec_telemetry.core import _flowspec_source

    try:
        shipped = _flowspec_source.read_release(paths)
    except (OSError, ValueError, RecursionError):  # pragma: no cover - defensive
        shipped = None
    if shipped is None:
        return DEFAULT_CATALOG
    catalog = catalog_from_shipped(shipped)
    merged = _merge(DEFAULT_CATALOG, catalog, source="installed flowspec", label="")
    return Catalog.build(
        merged.roles.values(),
        merged.workflows.values(),
        primary=merged.primary,
        source=f"built-in catalog (flowspec {snapshot.RELEASE} and the installed flowspec)",
        commands=merged.extra_commands,
        agents=merged.extra_agents,
        counts={"builtin": f"flowspec {snapshot.RELEASE} and the installed flowspec's templates"},
    )


def catalog_from_shipped(shipped: Any) -> Catalog:
    """The catalog a flowspec release ships (`_flowspec_source.Shipped`)."""
    catalog = Catalog.build(
        (), (), commands=sorted(shipped.commands), agents=sorted(shipped.agents)
    )
    for doc in shipped.documents:
        found = catalog_from_mapping(doc, source="flowspec", base=None)
        catalog = _merge(catalog, found, source="flowspec", label="flowspec")
    extra_roles = [RoleDefinition(r, r) for r in sorted(shipped.roles) if r not in catalog.roles]
    if extra_roles:
        catalog = _merge(
            catalog, Catalog.build(extra_roles, ()), source="flowspec", label="flowspec"
        )
    return catalog


# ------------------------------------------------------------ reading a workflow file


def catalog_from_mapping(data: Any, *, source: str, base: Catalog | None = None) -> Catalog:
    """The catalog a parsed workflow file stands for, extending `base` when one is given.

    Reads every version of flowspec's format and ignores what it does not
    know; raises `CatalogError` only when the document is not a mapping.
    """
    if not isinstance(data, Mapping):
        kind = "a list" if isinstance(data, list) else "empty" if data is None else "not a mapping"
        raise CatalogError(f"the workflow file is {kind}, not a mapping of sections")
    roles: list[RoleDefinition] = []
    commands: list[str] = []
    roles_section = data.get("roles")
    definitions = roles_section.get("definitions") if isinstance(roles_section, Mapping) else None
    if isinstance(definitions, Mapping):
        for rid, body in list(definitions.items())[:_MAX_NAMES]:
            if not isinstance(rid, str) or not re.match(_ID, rid):
                continue
            fields = body if isinstance(body, Mapping) else {}
            raw_commands = fields.get("commands")
            role_commands = tuple(
                dict.fromkeys(
                    c
                    for c in (
                        _command_name(x, namespace=rid)
                        for x in (raw_commands if isinstance(raw_commands, list) else ())[
                            :_MAX_NAMES
                        ]
                    )
                    if c
                )
            )
            display = fields.get("display_name")
            icon = fields.get("icon")
            roles.append(
                RoleDefinition(
                    rid,
                    display if isinstance(display, str) and display else rid,
                    icon if isinstance(icon, str) else "",
                    _agent_list(fields.get("agents")),
                    role_commands,
                )
            )
    flows: list[Workflow] = []
    workflows = data.get("workflows")
    if isinstance(workflows, Mapping):
        for name, body in list(workflows.items())[:_MAX_NAMES]:
            if not isinstance(name, str) or not isinstance(body, Mapping):
                continue
            command = _command_name(body.get("command"))
            if command is None:
                continue
            flows.append(Workflow(name, command, _agent_list(body.get("agents"))))
    custom = data.get("custom_workflows")
    if isinstance(custom, Mapping):
        for body in list(custom.values())[:_MAX_NAMES]:
            if isinstance(body, Mapping):
                command = _command_name(body.get("command"))
                if command is not None:
                    commands.append(command)
    primary = roles_section.get("primary") if isinstance(roles_section, Mapping) else None
    found = Catalog.build(
        roles,
        flows,
        primary=primary if isinstance(primary, str) else None,
        source=source,
        commands=commands,
        agents=_agents_anywhere(data),
        policy=read_policy(data, source),
    )
    if base is None:
        return found
    return _merge(base, found, source=source, label=base.counts.get("builtin", "flowspec"))


def _agents_anywhere(data: Any) -> list[str]:
    """Agents named anywhere: `agents:` lists, `identity:` values and `@name` strings.

    Bounded walk (nodes visited, names kept), so even a hostile document that
    got past the YAML bounds costs little.
    """
    found: dict[str, None] = {}
    stack: list[tuple[object, str | None]] = [(data, None)]
    seen = 0
    while stack and seen < _MAX_WALK and len(found) < _MAX_NAMES:
        node, key = stack.pop()
        seen += 1
        if isinstance(node, Mapping):
            for k, v in node.items():
                stack.append((v, k if isinstance(k, str) else None))
        elif isinstance(node, list):
            if key == "agents":
                for agent in _agent_list(node):
                    found[agent] = None
            stack.extend((v, None) for v in node[:_MAX_WALK])
        elif isinstance(node, str):
            text = node.strip()
            if key == "identity" and re.match(_AGENT, text):
                found[text if text.startswith("@") else "@" + text] = None
            elif text.startswith("@") and re.match(_MENTION, text):
                found[text] = None
    return list(found)


_ALLOWS: Final = frozenset({"true", "yes", "on", "1", "y", "enabled", "allow", "allowed"})


def team_policy(value: Any) -> bool | None:
    """A policy value: True for an unmistakable yes, None when absent, False otherwise.

    Privacy first: a veto written any common way (`false`, `"false"`, `no`,
    `0`, `off`) is a veto, and so is a value nobody can read as a yes (`maybe`,
    a list, a mapping): only an unmistakable yes allows.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str | int | float):
        return str(value).strip().lower() in _ALLOWS
    return False


def _shown(value: Any) -> str:
    """A policy value as `status` prints it: short, one line, its YAML type visible."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        text = value if len(value) <= 40 else value[:40] + "..."
        return repr(text)
    if isinstance(value, int | float):
        return str(value)
    if value is None:
        return "empty"
    return f"a {type(value).__name__}"


def read_policy(data: Mapping[str, Any], file: str) -> Policy | None:
    """The team policy of a parsed workflow file: `metadata.telemetry`, then root `telemetry`.

    Both places are read; when both say something, a veto in either wins.
    `telemetry: false` and `telemetry: {enabled: false}` mean the same; a
    `telemetry` entry that says nothing clear (`telemetry: {}`, `telemetry:`)
    is a veto too, since only an unmistakable yes allows.
    """
    found: list[Policy] = []
    metadata = data.get("metadata")
    places = []
    if isinstance(metadata, Mapping) and "telemetry" in metadata:
        places.append(("metadata.telemetry", metadata["telemetry"]))
    if "telemetry" in data:
        places.append(("telemetry", data["telemetry"]))
    for key, section in places:
        if isinstance(section, Mapping):
            if "enabled" in section:
                value = section["enabled"]
                found.append(
                    Policy(file, key + ".enabled", _shown(value), bool(team_policy(value)))
                )
            else:
                found.append(Policy(file, key + ".enabled", "missing", False))
        else:
            found.append(Policy(file, key, _shown(section), bool(team_policy(section))))
    vetoes = [p for p in found if not p.allows]
    chosen = vetoes or found
    return chosen[0] if chosen else None


def bounded_yaml(text: str) -> Any:
    """`yaml.safe_load`, after a first pass that refuses aliases, depth and size beyond bounds.

    PyYAML builds an alias as a shared reference, so a "billion laughs"
    document loads small, but anything that then walks or prints it (a
    policy value, the JSON cache) expands it exponentially; and deep nesting
    exhausts the C stack of the libyaml composer. The first pass only counts
    parser events (libyaml when available), so it is linear in the text.
    """
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    aliases = depth = 0
    starts = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
    ends = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
    for nodes, event in enumerate(yaml.parse(text, Loader=loader), 1):
        if isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > MAX_YAML_ALIASES:
                raise CatalogError(f"it uses more than {MAX_YAML_ALIASES} YAML aliases")
        elif isinstance(event, starts):
            depth += 1
            if depth > MAX_YAML_DEPTH:
                raise CatalogError(f"it nests deeper than {MAX_YAML_DEPTH} levels")
        elif isinstance(event, ends):
            depth -= 1
        if nodes > MAX_YAML_NODES:
            raise CatalogError(f"it has more than {MAX_YAML_NODES} YAML nodes")
    return yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader


def _unreadable_policy(file: str, why: str, text: str | None) -> Policy | None:
    """The policy of a file whose content could not be used: fail closed.

    A file that could not be read safely at all (special file, too large,
    not UTF-8) might hold a veto nobody can see: that is a veto. A file that
    was read but does not parse is a veto when it mentions a `telemetry` key.
    """
    if text is None:
        return Policy(file, "the whole file", f"unreadable ({why})", False)
    if re.search(_POLICY_KEY_TEXT, text[:MAX_WORKFLOW_BYTES]):
        return Policy(file, "telemetry", f"unreadable ({why})", False)
    return None


def parse_workflow_text(text: str, *, source: str, base: Catalog | None = None) -> Catalog:
    """Parse YAML text into a catalog; on any failure the built-in one, with the reason."""
    import yaml  # deferred: only reached when the workflow file changed

    builtin = base if base is not None else DEFAULT_CATALOG
    try:
        data = bounded_yaml(text)
        return catalog_from_mapping(data, source=source, base=builtin)
    except (yaml.YAMLError, RecursionError, ValueError) as exc:  # CatalogError is a ValueError
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
            reason = f"{exc.problem or 'YAML error'} (line {exc.problem_mark.line + 1})"
        if isinstance(exc, CatalogError) and "not a mapping" in reason:
            return _fallback(f"{source}: {reason}", None, builtin)
        kind = "cannot be used" if isinstance(exc, CatalogError) else "is malformed"
        policy = _unreadable_policy(source, reason, text)
        return _fallback(f"{source} {kind}: {reason}", policy, builtin)


def _fallback(why: str, policy: Policy | None, base: Catalog = DEFAULT_CATALOG) -> Catalog:
    """The built-in catalog, labelled with why the project's file was not used."""
    return Catalog.build(
        base.roles.values(),
        base.workflows.values(),
        primary=base.primary,
        source=f"{base.source.split(' (')[0]} ({why})",
        commands=base.extra_commands,
        agents=base.extra_agents,
        policy=policy,
        counts=base.counts,
    )


# ------------------------------------------------------------ loading and caching

# path -> (key, catalog, whether the JSON cache on disk matches it)
_memory: dict[str, tuple[list[object], Catalog, bool]] = {}
_builtin: dict[str, Catalog] = {}


def _file_key(path: str) -> list[object] | None:
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return [st.st_mtime_ns, st.st_size, st.st_ino, st.st_mode]


def _builtin_for(key: str) -> Catalog:
    hit = _builtin.get(key)
    if hit is None:
        hit = _builtin[key] = builtin_catalog() if key else DEFAULT_CATALOG
    return hit


def load_catalog(
    root: StrPath | None, names: ToolNames = FLOWSPEC, *, write_cache: bool = False
) -> Catalog:
    """The catalog of the project at `root` (the built-in one when there is no file).

    Order of lookups: memory, then `.flowspec/telemetry-catalog.json`, then
    the files. `write_cache=True` stores a fresh result as JSON; callers pass
    it only once the person has opted in, since nothing may be written before.
    """
    from flowspec_telemetry.core import _flowspec_source

    installed = _flowspec_source.installed_key()
    if root is None:
        return _builtin_for(installed) if installed else DEFAULT_CATALOG
    path = os.path.join(root, names.workflow_file)
    file_key = _file_key(path)
    if file_key is None and not installed:
        return DEFAULT_CATALOG
    key: list[object] = [file_key, installed]
    cache_path = os.path.join(root, names.project_dir, CACHE_FILE)
    hit = _memory.get(path)
    if hit is not None and hit[0] == key:
        if write_cache and not hit[2]:
            _memory[path] = (key, hit[1], _write_cache(cache_path, key, hit[1]))
        return hit[1]
    catalog = _read_cache(cache_path, key)
    persisted = catalog is not None
    if catalog is None:
        builtin = _builtin_for(installed)
        catalog = builtin if file_key is None else _read_workflow(path, names, builtin)
        if write_cache:
            persisted = _write_cache(cache_path, key, catalog)
    if len(_memory) > 64:
        _memory.clear()
    _memory[path] = (key, catalog, persisted)
    return catalog


_NO_BUILTIN: Final = Catalog.build((), (), source="catalog")


def _read_workflow(path: str, names: ToolNames, builtin: Catalog) -> Catalog:
    """The project's catalog: flowspec's file extends flowspec's built-in one.

    Another host tool (`ToolNames("acme")`) has no built-in vocabulary here:
    its file is its whole catalog.
    """
    if names != FLOWSPEC:
        builtin = _NO_BUILTIN
    name = names.workflow_file
    try:
        raw = read_bounded(path, MAX_WORKFLOW_BYTES)
    except UnsafeFileError as exc:
        return _fallback(
            f"{name} is {exc.reason}", _unreadable_policy(name, exc.reason, None), builtin
        )
    except OSError as exc:
        why = exc.strerror or "unreadable"
        return _fallback(f"{name} unreadable: {why}", _unreadable_policy(name, why, None), builtin)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        why = "not UTF-8"  # a policy in another encoding cannot be read: fail closed
        return _fallback(f"{name} is {why}", _unreadable_policy(name, why, None), builtin)
    return parse_workflow_text(text, source=name, base=builtin)


def _read_cache(cache_path: str, key: list[object]) -> Catalog | None:
    try:
        data = json.loads(read_bounded(cache_path, MAX_CACHE_BYTES))
        if data.get("format") != _CACHE_FORMAT or data.get("key") != key:
            return None
        return Catalog.from_json(data["catalog"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
        return None


def _write_cache(cache_path: str, key: list[object], catalog: Catalog) -> bool:
    """Store the catalog atomically; False when it could not be stored."""
    folder = os.path.dirname(cache_path)
    if not os.path.isdir(folder) or os.path.islink(folder):
        return False
    try:
        blob = json.dumps({"format": _CACHE_FORMAT, "key": key, "catalog": catalog.to_json()})
        write_private(cache_path, blob.encode())
    except (OSError, ValueError, RecursionError):
        return False
    return True


# ------------------------------------------------------------ current role

SELECTION_FILE: Final = "telemetry-role.json"


def read_selected_role(project_dir: StrPath) -> str | None:
    """The role of the last `role.selected`/`role.changed`, as stored (catalog id or hash)."""
    try:
        data = json.loads(read_bounded(os.path.join(project_dir, SELECTION_FILE), 4096))
    except (OSError, ValueError):
        return None
    role = data.get("role") if isinstance(data, dict) else None
    return role if isinstance(role, str) and len(role) <= 64 else None


def write_selected_role(project_dir: StrPath, role: str) -> None:
    """Remember the person's current role for events that do not name one."""
    write_private(os.path.join(project_dir, SELECTION_FILE), json.dumps({"role": role}).encode())
