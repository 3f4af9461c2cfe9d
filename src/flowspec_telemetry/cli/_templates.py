"""flowspec's template call forms on the fast path: `track-role`, `track-agent`, `track-handoff`.

flowspec's slash-command templates end with lines such as
`flowspec telemetry track-role "$CURRENT_ROLE" --command /flow:implement -q`.
This module accepts exactly those forms (the arguments and options of
flowspec 0.4's `telemetry` sub-app: `-c/--command`, `-r/--role`,
`-p/--project-root`, `-q/--quiet`), so a template can call
`flowspec-telemetry track-role ...` at the cold start of `track` (standard
library only: no typer, no rich), and the same words work when the typer app
is mounted where flowspec's own sub-app was.

Each call means what the same call meant to flowspec's module (one mapping,
`core._legacy.legacy_track_args`, shared with the reader of its old lines):
`track-role ROLE --command C` is a run of C by ROLE whose end is not
recorded (a setup command such as `/flow:init` is a role selection),
`track-agent AGENT` an agent invocation (`@` added), `track-handoff FROM TO`
a clicked handoff.

One run is counted once: when the Claude Code hooks (or another source) have
already counted the start of this run of C in this project, `track-role`
records nothing (`integrations._runs.claim_command`, source "template").
"""

from __future__ import annotations

import os
import sys

from flowspec_telemetry.cli.exit_codes import ExitCode
from flowspec_telemetry.cli.fast import UsageError  # bad usage: one line, exit 2

TYPE_CHECKING = False
if TYPE_CHECKING:  # no typing at run time: this is the cold-start path
    from collections.abc import Sequence
    from typing import Final

PROG: Final = "flowspec-telemetry"
# name -> (positional names, {option spelling: keyword})
_FORMS: Final = {
    "track-role": (
        ("ROLE",),
        {"--command": "command", "-c": "command", "--project-root": "root", "-p": "root"},
    ),
    "track-agent": (
        ("AGENT",),
        {
            "--command": "command",
            "-c": "command",
            "--role": "role",
            "-r": "role",
            "--project-root": "root",
            "-p": "root",
        },
    ),
    "track-handoff": (
        ("SOURCE", "TARGET"),
        {"--role": "role", "-r": "role", "--project-root": "root", "-p": "root"},
    ),
}
NAMES: Final = frozenset(_FORMS)
_WHAT: Final = {
    "track-role": "a command run by ROLE (flowspec's `track-role`; with a setup command, "
    "a role selection)",
    "track-agent": "an agent invocation (flowspec's `track-agent`)",
    "track-handoff": "a handoff from agent SOURCE to agent TARGET that was clicked",
}


def usage(name: str, prog: str = PROG) -> str:
    positional, options = _FORMS[name]
    lines = [
        f"Usage: {prog} {name} {' '.join(positional)} [OPTIONS]",
        "",
        f"Record {_WHAT[name]} if you have opted in; exits 0 silently when telemetry is off.",
        "The call form of flowspec's templates, on the fast path.",
        "",
        "Options:",
    ]
    if "--command" in options:
        lines.append("  -c, --command COMMAND      workflow command, e.g. /flow:implement")
    if "--role" in options:
        lines.append("  -r, --role ROLE            the person's role")
    lines += [
        "  -p, --project-root DIR     the project folder (default: found from the cwd)",
        "  -q, --quiet                do not print the event id",
        "  -h, --help                 show this message",
        "",
    ]
    return "\n".join(lines)


def parse(name: str, argv: Sequence[str]) -> tuple[list[str], dict[str, str], bool]:
    """(positional values, options by keyword, quiet), as click would parse flowspec's form."""
    positional, options = _FORMS[name]
    values: list[str] = []
    found: dict[str, str] = {}
    quiet = False
    args = list(argv)
    i = 0
    only_positional = False
    while i < len(args):
        arg = args[i]
        i += 1
        if only_positional or arg == "-" or not arg.startswith("-"):
            values.append(arg)
            continue
        if arg == "--":
            only_positional = True
            continue
        if arg in ("-q", "--quiet"):
            quiet = True
            continue
        spelled, eq, value = arg.partition("=") if arg.startswith("--") else (arg[:2], "", arg[2:])
        key = options.get(spelled)
        if key is None:
            raise UsageError(f"no such option {spelled[:40]!r} for {name}")
        if not eq and not value:
            if i >= len(args):
                raise UsageError(f"option {spelled} needs a value")
            value = args[i]
            i += 1
        found[key] = value  # the last one wins, as with click
    if len(values) < len(positional):
        raise UsageError(f"{name} needs {' '.join(positional)}")
    if len(values) > len(positional):
        shown = values[len(positional)]
        shown = shown if len(shown) <= 40 and shown.isprintable() else "(unprintable)"
        raise UsageError(f"unexpected argument {shown!r}: {name} takes {len(positional)}")
    root = found.get("root")
    if root is not None and not os.path.isdir(root):
        raise UsageError(f"--project-root {root[:200]!r} is not a folder")
    return values, found, quiet


def run(name: str, argv: Sequence[str], prog: str = PROG) -> int:
    """Record one template call; 0 also when telemetry is off or the run was already counted."""
    if any(a in ("-h", "--help") for a in argv):
        sys.stdout.write(usage(name, prog))
        return ExitCode.OK
    try:
        values, found, quiet = parse(name, argv)
    except UsageError as exc:
        sys.stderr.write(f"{prog}: error: {exc}\n")
        return ExitCode.USAGE
    event_id = record(name, values, found)
    if event_id and not quiet:
        sys.stdout.write(event_id + "\n")
    return ExitCode.OK


def record(name: str, values: Sequence[str], found: dict[str, str]) -> str | None:
    """The event id recorded for one parsed call, or None (off, a duplicate, nothing to record)."""
    try:
        return _record(name, values, found)
    except Exception:  # a template line must never fail the command it ends
        return None


def _record(name: str, values: Sequence[str], found: dict[str, str]) -> str | None:
    from flowspec_telemetry.core._legacy import legacy_track_args
    from flowspec_telemetry.core.project import find_root
    from flowspec_telemetry.core.tracker import default_tracker

    command = found.get("command") or None
    role = found.get("role") or None
    if name == "track-role":
        mapped = legacy_track_args("role.selected", role=values[0] or None, command=command)
    elif name == "track-agent":
        mapped = legacy_track_args("agent.invoked", role=role, agent=values[0], command=command)
    else:
        context = {"from_agent": values[0], "to_agent": values[1]}
        mapped = legacy_track_args("handoff.clicked", role=role, context=context)
    if mapped is None:
        return None
    event_type, kwargs = mapped
    tracker = default_tracker()
    given = found.get("root")
    if event_type.startswith("command.") and command is not None:
        root = find_root(given if given is not None else os.getcwd(), tracker.names)
        if root is None or not tracker.enabled(root):
            return None
        from flowspec_telemetry.integrations._runs import claim_command

        phase = event_type.split(".", 1)[1]
        claim = claim_command(root, command, phase, "template", tracker=tracker)
        if claim is None:
            return None  # the hooks (or another source) counted this run already
        kwargs["invocation_id"] = claim.invocation_id
        given = root
    return tracker.track(event_type, project_root=given, **kwargs)
