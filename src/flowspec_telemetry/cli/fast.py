"""The fast path of the console script: `track` and `hook` without typer or rich.

Hosts call `flowspec-telemetry track ...` unconditionally, often on every
command, so its cold start must stay close to a bare interpreter's: this
module parses its few options by hand and imports only the standard library
and the tracking core. `cli.entry.main` (the console script) calls it for
those two and hands every other subcommand to the typer app; the app's own
`track` and `hook` commands (for hosts that mount it) call it too.
"""

from __future__ import annotations

import os
import sys

from flowspec_telemetry.cli.exit_codes import ExitCode
from flowspec_telemetry.core.errors import TelemetryError
from flowspec_telemetry.core.events import OUTCOMES, RoleEvent, did_you_mean

TYPE_CHECKING = False
if TYPE_CHECKING:  # no typing at run time: this is the cold-start path
    from collections.abc import Sequence
    from typing import Final

__all__ = [
    "HOOK_USAGE",
    "PROG",
    "TRACK_USAGE",
    "UsageError",
    "parse_track_args",
    "run_hook",
    "run_track",
]

PROG: Final = "flowspec-telemetry"
_TRACK_OPTIONS: Final = {
    "--role": "role",
    "--previous-role": "previous_role",
    "--command": "command",
    "--agent": "agent",
    "--agent-role": "agent_role",
    "--from-agent": "from_agent",
    "--to-agent": "to_agent",
    "--session-id": "session_id",
    "--invocation-id": "invocation_id",
    "--duration-ms": "duration_ms",
    "--outcome": "outcome",
    "--source": "source",
    "--project": "project_root",
}
_VALID_TYPES: Final = ", ".join(e.value for e in RoleEvent)
TRACK_USAGE: Final = f"""Usage: {PROG} track EVENT_TYPE [OPTIONS]

Record one event if you have opted in; exits 0 silently when telemetry is off.
Prints the new event id; `command.started` prints its invocation id instead
(made here unless --invocation-id is given), to pass to the end event:

  inv=$({PROG} track command.started --command /flow:implement)
  {PROG} track command.completed --command /flow:implement --invocation-id "$inv"

Event types: {_VALID_TYPES}

Options:
  --role ROLE              the person's role (default: $FLOWSPEC_ROLE, the
                           project's last selection, roles.primary)
  --previous-role ROLE     role.changed: the role switched away from
  --command COMMAND        workflow command, e.g. /flow:implement
  --agent AGENT            agent identity, e.g. @backend-engineer
  --agent-role ROLE        the agent's home role (default: from the catalog)
  --from-agent AGENT       handoff source agent
  --to-agent AGENT         handoff target agent
  --session-id ID          host session id (stored only as a keyed hash)
  --invocation-id ID       pairs started/completed/failed events
  --duration-ms N          duration in milliseconds (whole number >= 0)
  --outcome OUTCOME        success, failure, cancelled, timeout or error
  --source SOURCE          where a role was selected (init, cli, ...)
  --project DIR            the project folder (default: found from the cwd)
  -q, --quiet              print nothing
  -h, --help               show this message
"""


class UsageError(TelemetryError):
    """Bad command-line usage: reported in one line, exit 2."""


def _fail(message: str) -> int:
    sys.stderr.write(f"{PROG}: error: {message}\n")
    return ExitCode.USAGE


def parse_track_args(argv: Sequence[str]) -> tuple[str, dict[str, object], bool]:
    """Split `track` arguments into (event type, keyword arguments, quiet)."""
    event_type: str | None = None
    kwargs: dict[str, object] = {}
    quiet = False
    args = list(argv)
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg in ("-q", "--quiet"):
            quiet = True
            continue
        if arg.startswith("--"):
            name, eq, value = arg.partition("=")
            key = _TRACK_OPTIONS.get(name)
            if key is None:
                raise UsageError(f"no such option {name!r} for track (see `{PROG} track --help`)")
            if not eq:
                if i >= len(args):
                    raise UsageError(f"option {name} needs a value")
                value = args[i]
                i += 1
            if key in kwargs:
                raise UsageError(f"option {name} given twice")
            kwargs[key] = value
            continue
        if arg.startswith("-") and arg != "-":
            raise UsageError(f"no such option {arg!r} for track (see `{PROG} track --help`)")
        if event_type is not None:
            raise UsageError(f"unexpected argument {arg!r}: track takes one EVENT_TYPE")
        event_type = arg
    if event_type is None:
        raise UsageError(f"track needs an EVENT_TYPE, one of: {_VALID_TYPES}")
    if event_type not in {e.value for e in RoleEvent}:
        shown = (
            event_type if len(event_type) <= 40 and event_type.isprintable() else "(unprintable)"
        )
        raise UsageError(
            f"unknown event type {shown!r}{did_you_mean(event_type)}; valid types: {_VALID_TYPES}"
        )
    if "duration_ms" in kwargs:
        raw = str(kwargs["duration_ms"])
        if not raw.isdigit():
            raise UsageError("--duration-ms takes a whole number of milliseconds >= 0")
        kwargs["duration_ms"] = int(raw)
    if "outcome" in kwargs and kwargs["outcome"] not in OUTCOMES:
        raise UsageError(f"--outcome takes one of: {', '.join(sorted(OUTCOMES))}")
    if "project_root" in kwargs and not os.path.isdir(str(kwargs["project_root"])):
        raise UsageError(f"--project {kwargs['project_root']!r} is not a folder")
    return event_type, kwargs, quiet


def run_track(argv: Sequence[str]) -> int:
    if any(a in ("-h", "--help") for a in argv):
        sys.stdout.write(TRACK_USAGE)
        return ExitCode.OK
    try:
        event_type, kwargs, quiet = parse_track_args(argv)
    except UsageError as exc:
        return _fail(str(exc))
    from flowspec_telemetry.core.tracker import track

    if event_type == RoleEvent.COMMAND_STARTED.value and "invocation_id" not in kwargs:
        from flowspec_telemetry.core.events import new_invocation_id

        kwargs["invocation_id"] = new_invocation_id()
    event_id = track(event_type, **kwargs)  # type: ignore[arg-type]
    if event_id and not quiet:
        pairs = event_type == RoleEvent.COMMAND_STARTED.value
        sys.stdout.write(f"{kwargs['invocation_id'] if pairs else event_id}\n")
    return ExitCode.OK


HOOK_USAGE: Final = f"""Usage: {PROG} hook claude-code < payload.json
       {PROG} hook flowspec          (the event in $HOOK_EVENT)

Map one Claude Code hook payload (JSON on stdin), or one flowspec lifecycle
event (JSON in HOOK_EVENT, as flowspec's hook runner passes it), to telemetry
events. Only the workflow command and agent names are read; prompts, paths,
tool inputs and task ids are never recorded. Always exits 0 and prints
nothing, so it never disturbs the agent or the workflow. Install them with
`{PROG} install-hooks` (Claude Code) and `{PROG} install-hooks --flowspec`.
"""


def run_hook(argv: Sequence[str]) -> int:
    """`hook claude-code`: exit 0 and print nothing, whatever arrives on stdin."""
    if any(a in ("-h", "--help") for a in argv):
        sys.stdout.write(HOOK_USAGE)
        return ExitCode.OK
    if list(argv) not in (["claude-code"], ["flowspec"]):
        return _fail("hook takes one adapter name: claude-code or flowspec")
    try:
        if argv[0] == "flowspec":
            from flowspec_telemetry.integrations.flowspec_hooks import handle_env

            handle_env()  # never reads stdin: it is flowspec's own
        else:
            from flowspec_telemetry.integrations.claude_code import handle_stdin

            handle_stdin()
    except Exception:  # noqa: S110 - a hook must never disturb the agent
        pass
    return ExitCode.OK


def closed_pipe() -> int:
    """The reader of our output went away (`view | head`): stop quietly, exit 0.

    Not an error: the reader has all it wanted, and every command treats it
    the same way. Standard output is pointed at /dev/null so the
    interpreter's final flush cannot complain on stderr.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
    return ExitCode.OK
