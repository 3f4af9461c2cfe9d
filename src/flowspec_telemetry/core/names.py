"""Every name derived from the host tool's name, in one place.

The library serves any spec-driven tool: `flowspec` is only the default. The
tool name fixes the project folder, the environment prefix, the workflow file
and the user config folder, so another tool reuses the library by building a
`ToolNames("acme")` and nothing else is hard-coded.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import TypeAlias

    StrPath: TypeAlias = str | os.PathLike[str]
    """A path as text or a path object: the tracking path works on text (no pathlib import)."""

__all__ = [
    "DEFAULT_TOOL",
    "FLOWSPEC",
    "ToolNames",
]

DEFAULT_TOOL = "flowspec"
# flowspec's security agent also serves the validate workflow of its `qa` role.
_KNOWN_SECURITY_AGENTS: dict[str, tuple[str, ...]] = {"flowspec": ("@secure-by-design-engineer",)}
# The README section with the full privacy notice. Its anchor is an explicit
# `<a id="privacy-notice">` there, so renaming the heading never breaks the
# link that the prompt, `status` and `--help` print.
NOTICE_ANCHOR = "privacy-notice"
NOTICE_URL = "https://github.com/jpoley/flowspec-telemetry#" + NOTICE_ANCHOR


class ToolNames:
    """Every host-specific name for one host tool (a value object).

    Besides the file and variable names derived from `tool`, it names the
    roles question 3 ("do developers use security agents?") is about, as
    the host's catalog spells them: `developer_role` and `security_role` (role
    ids), and `security_agents`, agents that count as security agents even
    when the catalog lists them under another role. A catalog without those
    ids is still answered: `analysis.question_roles` finds its developer and
    security roles by name (see there).
    """

    __slots__ = ("collector_url", "developer_role", "security_agents", "security_role", "tool")

    def __init__(
        self,
        tool: str = DEFAULT_TOOL,
        *,
        developer_role: str = "dev",
        security_role: str = "sec",
        security_agents: tuple[str, ...] | None = None,
        collector_url: str | None = None,
    ) -> None:
        self.tool = tool
        # Where weekly share reports are uploaded in `share` mode: the host's
        # setting (`<PREFIX>TELEMETRY_COLLECTOR_URL` overrides it). This package
        # has no default endpoint, and never takes one from the repository.
        self.collector_url = collector_url
        self.developer_role = developer_role
        self.security_role = security_role
        if security_agents is None:  # what the host is known to ship
            security_agents = _KNOWN_SECURITY_AGENTS.get(tool, ())
        self.security_agents = tuple(security_agents)

    def _key(self) -> tuple[str, str, str, tuple[str, ...], str | None]:
        return (
            self.tool,
            self.developer_role,
            self.security_role,
            self.security_agents,
            self.collector_url,
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ToolNames) and other._key() == self._key()

    def __hash__(self) -> int:
        return hash(("ToolNames", *self._key()))

    def __repr__(self) -> str:
        return f"ToolNames({self.tool!r})"

    def resolved_collector_url(self) -> str | None:
        """The collector URL in force: `<PREFIX>TELEMETRY_COLLECTOR_URL`, else `collector_url`."""
        value = os.environ.get(self.env("TELEMETRY_COLLECTOR_URL")) or self.collector_url or ""
        return value.strip() or None

    @property
    def project_dir(self) -> str:
        """The per-project folder, e.g. `.flowspec`."""
        return f".{self.tool}"

    @property
    def env_prefix(self) -> str:
        """The environment prefix, e.g. `FLOWSPEC_`."""
        return self.tool.upper().replace("-", "_") + "_"

    @property
    def workflow_file(self) -> str:
        """The committed workflow file with the role catalog and team policy."""
        return f"{self.tool}_workflow.yml"

    def env(self, suffix: str) -> str:
        """Full name of one of the tool's environment variables."""
        return self.env_prefix + suffix

    def config_dir(self) -> str:
        """Where the person's global answer lives (XDG on POSIX, APPDATA on Windows)."""
        home = os.path.expanduser("~")
        if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
            base = os.environ.get("APPDATA") or os.path.join(home, "AppData", "Roaming")
            return os.path.join(base, self.tool)
        base = os.environ.get("XDG_CONFIG_HOME") or ""
        if not base or not os.path.isabs(base):
            base = os.path.join(home, ".config")
        return os.path.join(base, self.tool)

    def user_config_dir(self) -> Path:
        """`config_dir()` as a `Path`."""
        from pathlib import Path

        return Path(self.config_dir())


FLOWSPEC = ToolNames()
