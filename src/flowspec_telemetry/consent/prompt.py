"""The consent prompt: asked once, only on an interactive terminal.

A host calls `maybe_prompt()` at init. It asks only when all of these hold:
stdin and stdout are a terminal, `CI` is not set, no environment variable or
team policy decides anyway, and the person has no current answer (none yet,
one for an older notice version, or a "later" whose seven days are up).
Otherwise it prints nothing, writes nothing and returns why (the `prompt`
command prints that reason in one line).

A host with a `--telemetry/--no-telemetry` flag passes `answer=True/False`:
the answer is recorded without a question (even in CI: the person said so).

The question comes after a short notice of three lines (`short_notice`),
wrapped to the terminal, with a pointer to the full one (`notice`). It is
rendered with rich, imported only when a question is shown, so calling
`maybe_prompt()` costs a host nothing on the common path.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final, TextIO

from flowspec_telemetry.consent.answers import Scope, record_answer, team_allows
from flowspec_telemetry.core import consent_rules
from flowspec_telemetry.core.names import FLOWSPEC, ToolNames
from flowspec_telemetry.core.project import find_project_root

__all__ = [
    "LATER_DAYS",
    "PromptResult",
    "in_ci",
    "maybe_prompt",
    "why_not_ask",
]

LATER_DAYS: Final = 7
_YES: Final = frozenset({"y", "yes"})
_NO: Final = frozenset({"", "n", "no"})
_LATER: Final = frozenset({"l", "later"})
_NOT_CI: Final = frozenset({"", "0", "false", "no"})
INTERRUPTED: Final = "interrupted"
QUESTION: Final = "Turn on telemetry? [y]es / [N]o / [l]ater: "


@dataclass(frozen=True, slots=True)
class PromptResult:
    """What `maybe_prompt()` did: asked or not, the answer recorded, and why."""

    asked: bool
    answer: str | None  # "yes", "no", "later", or None when nothing was recorded
    reason: str
    path: Path | None = None
    error: str | None = None  # e.g. a corrupt consent file; nothing was written
    interrupted: bool = False  # Ctrl-C at the question; nothing was recorded


def in_ci(environ: dict[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    return env.get("CI", "").strip().lower() not in _NOT_CI


def _now() -> datetime:
    return datetime.now(UTC)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def why_not_ask(
    root: Path | None, names: ToolNames = FLOWSPEC, *, now: datetime | None = None
) -> str | None:
    """None when the person should be asked now; else the reason not to.

    Raises `ConsentFileError` when a consent record is corrupt.
    """
    by_env = consent_rules.env_rule(names)
    if by_env is not None:
        return f"not asked: {by_env.reason}"
    if not team_allows(root, names):
        return f"not asked: the team policy in {names.workflow_file} turns telemetry off"
    today = _stamp(now or _now())
    paths = [consent_rules.global_config_path(names)]
    if root is not None:
        paths.insert(0, consent_rules.project_config_path(root, names))
    for path in paths:
        record = consent_rules.read_record(path)
        if record is None or not record.current():
            continue
        if record.answer == "later":
            if record.ask_again_after and record.ask_again_after > today:
                return f"not asked: you said later; asking again after {record.ask_again_after}"
            continue
        return f"not asked: already answered {record.answer} ({path})"
    return None


def _interactive(stdin: TextIO, stdout: TextIO) -> bool:
    try:
        return stdin.isatty() and stdout.isatty()
    except (AttributeError, ValueError, OSError):
        return False


def short_notice(root: Path | None, names: ToolNames = FLOWSPEC) -> tuple[str, ...]:
    """The prompt's few lines: what, where, never, and where the full notice is.

    The full notice (`notice`) is about 60 lines: shown before the question,
    its start and the sample event scroll away in a 50-row terminal before
    the question appears. These lines fit on any screen; `notice` and the
    README section behind `NOTICE_URL` say the rest.
    """
    from flowspec_telemetry.consent.notice import CLI
    from flowspec_telemetry.core.names import NOTICE_URL

    tool = names.tool
    where = "of this project" if root is not None else "of each project"
    return (
        f"Telemetry for {tool} is off until you say yes.",
        f"It would record which roles, commands and agents you use, in {names.project_dir}/ "
        f"{where} (never prompts, code, paths or names); nothing is sent anywhere.",
        f"Full notice: `{CLI} notice` or {NOTICE_URL}",
    )


def _ask(root: Path | None, names: ToolNames, stdin: TextIO, stdout: TextIO) -> str | None:
    """Show the short notice and read yes / no / later.

    None on end of input; `INTERRUPTED` on Ctrl-C. Lines are wrapped at word
    boundaries to the terminal's width, so the question is always on screen.
    """
    from rich.console import Console
    from rich.text import Text

    console = Console(file=stdout, highlight=False)
    title, *rest = short_notice(root, names)
    try:
        console.print(Text(title, style="bold"))
        for text in rest:
            console.print(Text(text))
        for _ in range(3):
            # Written directly, not through rich's buffer: a Ctrl-C that lands
            # while rich is writing would make it write the question again.
            stdout.write(QUESTION)
            stdout.flush()
            line = stdin.readline()
            if not line:
                stdout.write("\n")
                return None
            reply = line.strip().lower()
            if reply in _YES:
                return "yes"
            if reply in _NO:
                return "no"
            if reply in _LATER:
                return "later"
            console.print(Text("Please answer y, n or l (Enter means no)."))
    except KeyboardInterrupt:
        stdout.write("\n")
        stdout.flush()
        return INTERRUPTED
    return "no"


def _confirm(answer: str, until: str | None, stdout: TextIO) -> None:
    from rich.console import Console
    from rich.text import Text

    from flowspec_telemetry.consent.notice import CLI

    if answer == "yes":
        text = f"Thank you: telemetry is on. Turn it off any time with `{CLI} disable`."
    elif answer == "later":
        text = f"Telemetry stays off; we will ask again after {until}."
    else:
        text = f"Telemetry stays off and you will not be asked again (`{CLI} enable` to change)."
    Console(file=stdout, highlight=False).print(Text(text))


def maybe_prompt(
    answer: bool | None = None,
    *,
    project_root: Path | str | None = None,
    names: ToolNames = FLOWSPEC,
    scope: Scope = "global",
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    now: datetime | None = None,
) -> PromptResult:
    """Ask for consent if (and only if) it is time to; never raises.

    `answer=True/False` records yes/no without asking (a host's
    `--telemetry/--no-telemetry` flag). The answer is the person's own, so by
    default it is recorded globally; `scope="project"` keeps it to this project.
    """
    try:
        root = find_project_root(project_root, names)
        if answer is not None:
            word = "yes" if answer else "no"
            change = record_answer(word, scope=scope, project_root=root, names=names)
            return PromptResult(False, word, "answered by flag", change.path)
        stdin = stdin or sys.stdin
        stdout = stdout or sys.stdout
        if in_ci():
            return PromptResult(False, None, "not asked: CI is set")
        if not _interactive(stdin, stdout):
            return PromptResult(False, None, "not asked: not an interactive terminal")
        why = why_not_ask(root, names, now=now)
        if why is not None:
            return PromptResult(False, None, why)
        reply = _ask(root, names, stdin, stdout)
        if reply is None:
            return PromptResult(True, None, "no answer given; nothing recorded")
        if reply == INTERRUPTED:
            return PromptResult(True, None, "interrupted; nothing recorded", interrupted=True)
        until = _stamp((now or _now()) + timedelta(days=LATER_DAYS)) if reply == "later" else None
        change = record_answer(
            reply, scope=scope, project_root=root, names=names, ask_again_after=until
        )
        _confirm(reply, until, stdout)
        return PromptResult(True, reply, "answered", change.path)
    except consent_rules.ConsentFileError as exc:
        return PromptResult(False, None, "not asked: a consent file is corrupt", error=str(exc))
    except Exception as exc:  # a host's init must never fail because of us
        return PromptResult(False, None, "not asked: internal error", error=type(exc).__name__)
