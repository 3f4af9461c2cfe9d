"""Which roles and agents question 3 is about, decided by the host's names and catalog.

"Do developer-role users invoke security agents?" needs three things no
literal can know for every host: the id of the developer role, the id of
the security role, and the set of security agents. They come from the
host's `ToolNames` and the project's role catalog, in this order:

* developer role: `names.developer_role` when the catalog has that id; else
  the first catalog role whose id or display name starts with "develop"
  (Developer, Development), else with "dev" (devs); else the catalog's
  `roles.primary`, the role its users most often work in; else none (then
  question 3 says no developer invocation was recorded).
* security role: `names.security_role` when the catalog has it; else the
  first role whose id or display name contains "sec" (Security Engineer,
  AppSec, SecOps); else none.
* security agents: the security role's agents in the catalog, plus
  `names.security_agents` (agents the host ships as security agents,
  whichever role lists them).

So another tool (or a flowspec project with its own catalog) gets question 3
answered for its own roles, and flowspec's answers are what they always were.
"""

from __future__ import annotations

from dataclasses import dataclass

from flowspec_telemetry.core.names import FLOWSPEC, ToolNames
from flowspec_telemetry.core.roles import DEFAULT_CATALOG, Catalog

__all__ = ["QuestionRoles", "question_roles"]


@dataclass(frozen=True, slots=True)
class QuestionRoles:
    """The roles and agents question 3 asks about, for one catalog."""

    developer_role: str | None
    security_role: str | None
    security_agents: frozenset[str]


def _find(catalog: Catalog, wanted: str, *, prefix: bool) -> str | None:
    for rid, role in catalog.roles.items():
        for text in (rid.lower(), role.display_name.lower()):
            if text.startswith(wanted) if prefix else wanted in text:
                return rid
    return None


def _developer(catalog: Catalog) -> str | None:
    return _find(catalog, "develop", prefix=True) or _find(catalog, "dev", prefix=True)


def question_roles(
    catalog: Catalog = DEFAULT_CATALOG, names: ToolNames = FLOWSPEC
) -> QuestionRoles:
    """Question 3's developer role, security role and security agents (see the module)."""
    roles = catalog.roles
    developer = names.developer_role if names.developer_role in roles else None
    if developer is None:
        developer = _developer(catalog)
    if developer is None and catalog.primary in roles:
        developer = catalog.primary
    security = names.security_role if names.security_role in roles else None
    if security is None:
        security = _find(catalog, "sec", prefix=False)
    agents = set(names.security_agents)
    if security is not None:
        agents.update(roles[security].agents)
    return QuestionRoles(developer, security, frozenset(agents))
