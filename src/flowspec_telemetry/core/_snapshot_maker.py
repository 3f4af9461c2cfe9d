"""Writes `_flowspec_snapshot` from a flowspec source tree (a maintainer's tool, not for users).

    python -m flowspec_telemetry.core._snapshot_maker ../shared/flowspec/flowspec-0.4.008 0.4.008 \\
        > src/flowspec_telemetry/core/_flowspec_snapshot.py && ruff format src

It reads the tree exactly as `_flowspec_source` reads an installed flowspec,
so `tests/host/test_catalog_flowspec.py` can check that the snapshot is still
what that source ships.
"""

from __future__ import annotations

import sys
from typing import Any

from flowspec_telemetry.core._flowspec_source import Shipped, read_tree
from flowspec_telemetry.core.roles import catalog_from_shipped

__all__ = ["snapshot_text"]

_SNAPSHOT_HEAD = '''"""What flowspec {release} ships: the built-in catalog (generated, do not edit).

Made by `python -m flowspec_telemetry.core._snapshot_maker SRC {release}` from
flowspec's source tree; `tests/test_catalog_flowspec.py` checks that it still
matches the source in ../shared/flowspec. Names only: roles, commands, agents.
"""

from __future__ import annotations

RELEASE = {release!r}
PRIMARY = {primary!r}
'''


def snapshot_text(shipped: Shipped, release: str) -> str:
    """The `_flowspec_snapshot` module for the release `shipped` was read from."""
    catalog = catalog_from_shipped(shipped)
    roles = tuple(
        (r.id, r.display_name, r.icon, r.agents, r.commands) for r in catalog.roles.values()
    )
    flows = tuple((w.name, w.command, w.agents) for w in catalog.workflows.values())
    lines = [_SNAPSHOT_HEAD.format(release=release, primary=catalog.primary)]
    lines.append("# (id, display name, icon, agents, commands)")
    lines.append("ROLES = " + _literal(roles))
    lines.append("# (name, command, agents)")
    lines.append("WORKFLOWS = " + _literal(flows))
    lines.append("COMMANDS = " + _literal(tuple(sorted(catalog.extra_commands))))
    lines.append("AGENTS = " + _literal(tuple(sorted(catalog.extra_agents))))
    return "\n".join(lines) + "\n"


def _literal(rows: tuple[Any, ...]) -> str:
    body = "".join(f"    {row!r},\n" for row in rows)
    return "(\n" + body + ")\n"


if __name__ == "__main__":  # pragma: no cover - a maintainer's tool for the snapshot
    sys.stdout.write(snapshot_text(read_tree(sys.argv[1]), sys.argv[2]))
