"""One run, counted once: the dedup ledger shared by every source that sees commands.

A flowspec command run can be seen three ways at once: Claude Code's hooks
(the prompt, the SlashCommand/Skill tool, Stop), flowspec's own lifecycle
events (`implement.started`, `implement.completed`, through
`.flowspec/hooks/hooks.yaml`) and the templates' `track-role ... --command`
call. Each source sees each run once, so the rule is simple:

    the same phase (started, or ended) of the same command (or agent), seen
    by a DIFFERENT source while the run is open or within `WINDOW_NS` (two hours) after it
    ended, is the same run and is counted once.

A source that sees the same command again is a new run (someone ran it
twice). Ends pair with the open run, so the event carries the run's
`invocation_id` (and a duration when the start was seen), whichever source
saw which end.

The ledger lives in the hook state file (`_hook_state`), under its lock.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Final

    from flowspec_telemetry.core.tracker import Tracker
    from flowspec_telemetry.integrations._hook_state import HookState

__all__ = [
    "SOURCES",
    "WINDOW_NS",
    "Claim",
    "claim",
    "claim_command",
    "hook_counts_command",
]

WINDOW_NS: Final = 2 * 3600 * 1_000_000_000
_OPEN_FOR_NS: Final = 24 * 3600 * 1_000_000_000
SOURCES: Final = frozenset({"claude-code", "flowspec-hooks", "template"})
_ENDS: Final = frozenset({"ended", "completed", "failed"})


class Claim:
    """The run a phase belongs to, and whether this source counts it.

    `counted` is False when another source already counted this phase of the
    run: record nothing. `invocation_id` is the run's id either way (a source
    that did not count the start still pairs its own end with it).
    """

    __slots__ = ("counted", "duration_ms", "invocation_id")

    def __init__(self, invocation_id: str, duration_ms: int | None, counted: bool = True) -> None:
        self.invocation_id = invocation_id
        self.duration_ms = duration_ms
        self.counted = counted

    def __repr__(self) -> str:
        return f"Claim({self.invocation_id!r}, {self.duration_ms!r}, counted={self.counted})"


def _live(state: HookState, now_ns: int) -> list[dict[str, Any]]:
    kept = []
    for run in state.runs:
        end, start = run.get("end"), run.get("t0")
        if isinstance(end, int):
            if now_ns - end < WINDOW_NS:
                kept.append(run)
        elif isinstance(start, int) and now_ns - start < _OPEN_FOR_NS:
            kept.append(run)
    state.runs[:] = kept
    return kept


def claim(
    state: HookState,
    key: str,
    phase: str,
    source: str,
    now_ns: int,
    *,
    invocation_id: str | None = None,
    new_id: Any = None,
) -> Claim:
    """The run `phase` of `key` belongs to, and whether `source` counts it (`Claim.counted`).

    `key` names what ran (`command:/flow:implement`, `agent:@x`, as stored);
    `invocation_id` pins the run when the source knows it (an end pairing
    with its own start); `new_id` makes an invocation id for a new run.
    """
    if new_id is None:
        from flowspec_telemetry.core.events import new_invocation_id as new_id
    runs = _live(state, now_ns)
    mine = [r for r in runs if r.get("k") == key]
    if phase == "started":
        for run in reversed(mine):
            if run.get("end") is None:
                seen = run.setdefault("s", [])
                if not isinstance(seen, list) or source in seen:
                    break  # this source's earlier run is still open: this is a new one
                seen.append(source)
                return Claim(str(run.get("inv")), None, counted=False)
        inv = invocation_id or new_id()
        state.runs.append({"k": key, "inv": inv, "t0": now_ns, "end": None, "s": [source], "e": []})
        return Claim(inv, None)
    if phase not in _ENDS:
        raise ValueError(f"unknown phase {phase!r}")
    candidates = [r for r in mine if r.get("inv") == invocation_id] if invocation_id else []
    candidates = candidates or list(reversed(mine))
    for run in candidates:
        ended = run.setdefault("e", [])
        if not isinstance(ended, list) or source in ended:
            continue
        ended.append(source)
        if run.get("end") is not None:  # another source already ended this run
            return Claim(str(run.get("inv")), None, counted=False)
        run["end"] = now_ns
        start = run.get("t0")
        duration = (now_ns - start) // 1_000_000 if isinstance(start, int) else None
        return Claim(str(run.get("inv")), duration)
    inv = invocation_id or new_id()
    state.runs.append({"k": key, "inv": inv, "t0": None, "end": now_ns, "s": [], "e": [source]})
    return Claim(inv, None)


def claim_command(
    root: str,
    command: str,
    phase: str,
    source: str,
    *,
    tracker: Tracker | None = None,
    now_ns: int | None = None,
) -> Claim | None:
    """`claim` for one command, under the state file's lock (for the template call path).

    Returns a Claim to record with, or None for a duplicate. When telemetry is
    off or the state cannot be used, returns a Claim with a fresh id: the
    caller's own consent check decides, and a broken state file never stops
    a recording.
    """
    import os
    import time

    from flowspec_telemetry.core.events import new_invocation_id
    from flowspec_telemetry.core.tracker import default_tracker
    from flowspec_telemetry.integrations._hook_state import STATE_FILE, LockedState

    tracker = tracker or default_tracker()
    now = time.time_ns() if now_ns is None else now_ns
    stored = tracker.stored("command", command, root)
    folder = os.path.join(root, tracker.names.project_dir)
    if stored is None or not os.path.isdir(folder):
        return Claim(new_invocation_id(), None)
    try:
        with LockedState(os.path.join(folder, STATE_FILE)) as state:
            found = claim(state, "command:" + stored, phase, source, now)
            state.prune(now)
    except OSError:
        return Claim(new_invocation_id(), None)
    return found if found.counted else None


def hook_counts_command(root: str, command: str, tracker: Tracker | None = None) -> bool:
    """True when a hook is counting (or just counted) a run of `command`: a template call skips."""
    return claim_command(root, command, "completed", "template", tracker=tracker) is None
