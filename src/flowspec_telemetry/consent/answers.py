"""Recording a person's yes or no, and saying what still overrides it.

`enable_telemetry()` and `disable_telemetry()` are what the `enable` and
`disable` commands call, and what a host calls from its own settings screen.
Both write the answer with the time and the notice version, make the
in-process tracker forget its cached decision, and return a `Change` that
names the rule deciding *now*: an answer can be outvoted by `DO_NOT_TRACK`,
an environment variable, the team policy, or (for a global answer) the
person's own answer for this project.

A corrupt consent file is never overwritten silently: `ConsentFileError`
is raised before anything is written, naming the file and how to fix it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from flowspec_telemetry.core import consent_rules, roles, store
from flowspec_telemetry.core.consent_rules import ConsentFileError, ConsentRecord, Decision
from flowspec_telemetry.core.errors import TelemetryError
from flowspec_telemetry.core.names import FLOWSPEC, ToolNames
from flowspec_telemetry.core.project import find_project_root

__all__ = [
    "Change",
    "NoProjectError",
    "Scope",
    "current_decision",
    "disable_telemetry",
    "enable_telemetry",
    "read_records",
    "record_answer",
    "team_allows",
]

Scope = Literal["global", "project"]


class NoProjectError(TelemetryError, LookupError):
    """A project-scoped action outside any project."""

    def __init__(self, names: ToolNames = FLOWSPEC) -> None:
        super().__init__(
            f"not in a {names.tool} project (no {names.project_dir}/ or {names.workflow_file} "
            "in this folder or above)"
        )


@dataclass(frozen=True, slots=True)
class Change:
    """What `enable_telemetry`/`disable_telemetry` did and what decides now."""

    answer: str  # "yes" or "no"
    scope: Scope
    path: Path
    before: ConsentRecord | None
    decision: Decision  # the effective decision after the change
    also: tuple[Path, ...] = ()  # other records set to the same answer (see `record_answer`)

    @property
    def changed(self) -> bool:
        return self.before is None or not self.before.current() or self.before.answer != self.answer

    @property
    def overridden(self) -> bool:
        """Whether another rule outvotes the answer just recorded."""
        return self.decision.enabled != (self.answer == "yes")


def team_allows(root: Path | None, names: ToolNames = FLOWSPEC) -> bool:
    """Rule 3: False when the committed workflow file vetoes telemetry."""
    return root is None or roles.load_catalog(root, names).team_telemetry is not False


def current_decision(
    root: Path | None, names: ToolNames = FLOWSPEC, environ: Mapping[str, str] | None = None
) -> Decision:
    """The decision with the rule that made it, as `status` reports it."""
    return consent_rules.decide(
        root, names=names, team_allows=lambda: team_allows(root, names), environ=environ
    )


def read_records(
    root: Path | None, names: ToolNames = FLOWSPEC
) -> dict[str, tuple[Path, ConsentRecord | None]]:
    """The project and global records; raises `ConsentFileError` for a corrupt one."""
    out: dict[str, tuple[Path, ConsentRecord | None]] = {}
    if root is not None:
        path = consent_rules.project_config_path(root, names)
        out["project"] = (path, consent_rules.read_record(path))
    path = consent_rules.global_config_path(names)
    out["global"] = (path, consent_rules.read_record(path, follow_symlinks=True))
    return out


def _flowspec_yes(root: Path, names: ToolNames) -> Path | None:
    """The project record when it switches flowspec's own writer on and is ours to rewrite."""
    path = consent_rules.project_config_path(root, names)
    try:
        record = consent_rules.read_record(path)
    except ConsentFileError:
        return None
    if record is None or not record.enabled or consent_rules.foreign_folder(root, names):
        return None
    uid = os.geteuid() if hasattr(os, "geteuid") else None
    if uid is not None and record.owner_uid != uid:
        return None
    return path


def record_answer(
    answer: str,
    *,
    scope: Scope = "global",
    project_root: Path | str | None = None,
    names: ToolNames = FLOWSPEC,
    environ: Mapping[str, str] | None = None,
    ask_again_after: str | None = None,
) -> Change:
    """Write `answer` ("yes", "no", "later") for `scope` and report the effect.

    A project answer goes into `.flowspec/` with its `.gitignore` (so `git add
    -A` never stages it) and keeps flowspec's own keys, so flowspec's module
    reads the same verdict. A global no given in a project whose record
    switches flowspec's own writer on is written there too: "no" means no
    everywhere the person is, and that writer reads only the project file.
    """
    root = find_project_root(project_root, names)
    if scope == "project" and root is None:
        raise NoProjectError(names)
    if scope == "project" and root is not None:
        foreign = consent_rules.foreign_folder(root, names)
        if foreign is not None:
            raise ConsentFileError(
                consent_rules.project_config_path(root, names),
                "",
                message=f"{foreign} belongs to another user; your answer is not written "
                "into somebody else's folder (use --global)",
            )
    # The file being written must be sound: it is never overwritten silently.
    # A yes also needs every other record readable (a corrupt one may have
    # been a no that it would outvote); a no must never be blocked by one.
    if answer == "yes":
        path, before = read_records(root, names)[scope]
    else:
        project = scope == "project" and root is not None
        path = (
            consent_rules.project_config_path(root, names)
            if project and root is not None
            else consent_rules.global_config_path(names)
        )
        before = consent_rules.read_record(path, follow_symlinks=not project)
    also: list[Path] = []
    if scope == "project" and root is not None:
        store.ensure_project_dir(root, names)
    elif answer == "no" and root is not None:
        found = _flowspec_yes(root, names)
        if found is not None:
            also.append(found)
    record = consent_rules.new_record(answer, ask_again_after=ask_again_after, previous=before)
    consent_rules.write_record(path, record)
    for other in also:
        previous = consent_rules.read_record(other)
        consent_rules.write_record(other, consent_rules.new_record("no", previous=previous))
    from flowspec_telemetry.core.tracker import default_tracker

    default_tracker().invalidate()
    decision = current_decision(root, names, environ)
    return Change(answer, scope, path, before, decision, tuple(also))


def enable_telemetry(
    *,
    scope: Scope = "global",
    project_root: Path | str | None = None,
    names: ToolNames = FLOWSPEC,
) -> Change:
    """Record yes (for you everywhere, or for this project only)."""
    return record_answer("yes", scope=scope, project_root=project_root, names=names)


def disable_telemetry(
    *,
    scope: Scope = "global",
    project_root: Path | str | None = None,
    names: ToolNames = FLOWSPEC,
) -> Change:
    """Record no (for you everywhere, or for this project only)."""
    return record_answer("no", scope=scope, project_root=project_root, names=names)
