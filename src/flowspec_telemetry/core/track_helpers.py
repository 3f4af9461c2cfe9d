"""One-line helpers for the events a role system emits, over `track()`.

They exist so a host writes `track_handoff(a, b, clicked=True)` instead of
remembering wire strings and field names, and so `track_command` can pair a
command's start with its end (one `invocation_id`, a measured duration) without
the host keeping any state. Like `track()`, none of them ever raises into the
host, and `track_command` never swallows or alters the host's own exception.
"""

from __future__ import annotations

import time
from contextlib import ContextDecorator
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from flowspec_telemetry.core.events import RoleEvent, new_invocation_id
from flowspec_telemetry.core.tracker import Tracker, default_tracker

__all__ = [
    "track_agent_invoked",
    "track_command",
    "track_handoff",
    "track_role_changed",
    "track_role_selected",
]


def _tracker(tracker: Tracker | None) -> Tracker:
    return tracker if tracker is not None else default_tracker()


def track_role_selected(
    role: str,
    *,
    source: str = "init",
    project_root: Path | str | None = None,
    tracker: Tracker | None = None,
) -> str | None:
    """A person picked `role` (at `flowspec init`, or later with `source="cli"`)."""
    return _tracker(tracker).track(
        RoleEvent.ROLE_SELECTED, role=role, source=source, project_root=project_root
    )


def track_role_changed(
    old: str | None,
    new: str,
    *,
    source: str = "cli",
    project_root: Path | str | None = None,
    tracker: Tracker | None = None,
) -> str | None:
    """A person switched roles; later events default to `new`."""
    return _tracker(tracker).track(
        RoleEvent.ROLE_CHANGED,
        role=new,
        previous_role=old,
        source=source,
        project_root=project_root,
    )


def track_agent_invoked(
    agent: str,
    *,
    role: str | None = None,
    command: str | None = None,
    session_id: str | None = None,
    project_root: Path | str | None = None,
    tracker: Tracker | None = None,
) -> str | None:
    """An agent was started; `role` defaults to the person's current role."""
    return _tracker(tracker).track(
        RoleEvent.AGENT_INVOKED,
        agent=agent,
        role=role,
        command=command,
        session_id=session_id,
        project_root=project_root,
    )


def track_handoff(
    from_agent: str,
    to_agent: str,
    *,
    clicked: bool,
    role: str | None = None,
    command: str | None = None,
    project_root: Path | str | None = None,
    tracker: Tracker | None = None,
) -> str | None:
    """A handoff was offered (`clicked=False`) or taken (`clicked=True`)."""
    return _tracker(tracker).track(
        RoleEvent.HANDOFF_CLICKED if clicked else RoleEvent.HANDOFF_OFFERED,
        from_agent=from_agent,
        to_agent=to_agent,
        role=role,
        command=command,
        project_root=project_root,
    )


class track_command(ContextDecorator):  # noqa: N801 - used like a function: `with track_command(...)`
    """Emit `command.started`, then `command.completed` or `command.failed`.

    As a context manager::

        with track_command("/flow:implement", role="dev"):
            run_implement()

    or as a decorator (each call is its own invocation, so recursion and
    threads are fine)::

        @track_command("/flow:validate")
        def validate(): ...

    All three events share one `invocation_id`; the end events carry
    `duration_ms`. An exception from the host's code is recorded as
    `command.failed` (`outcome` "failure", or "cancelled" for
    KeyboardInterrupt) and re-raised untouched.
    """

    def __init__(
        self,
        command: str,
        *,
        role: str | None = None,
        session_id: str | None = None,
        project_root: Path | str | None = None,
        tracker: Tracker | None = None,
    ) -> None:
        self.command = command
        self.role = role
        self.session_id = session_id
        self.project_root = project_root
        self.tracker = _tracker(tracker)
        self.invocation_id: str | None = None
        self._started = 0.0

    def _recreate_cm(self) -> track_command:
        # ContextDecorator reuses one instance per decorated function; a fresh
        # one per call keeps concurrent and nested invocations apart.
        return track_command(
            self.command,
            role=self.role,
            session_id=self.session_id,
            project_root=self.project_root,
            tracker=self.tracker,
        )

    def _emit(self, event_type: RoleEvent, **fields: Any) -> None:
        self.tracker.track(
            event_type,
            command=self.command,
            role=self.role,
            session_id=self.session_id,
            invocation_id=self.invocation_id,
            project_root=self.project_root,
            **fields,
        )

    def __enter__(self) -> track_command:
        try:
            self.invocation_id = new_invocation_id()
        except Exception:  # pragma: no cover - os.urandom failing
            self.invocation_id = None
        self._started = time.perf_counter()
        self._emit(RoleEvent.COMMAND_STARTED)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> Literal[False]:
        duration = (time.perf_counter() - self._started) * 1000
        if exc_type is None:
            self._emit(RoleEvent.COMMAND_COMPLETED, duration_ms=duration, outcome="success")
        else:
            outcome = "cancelled" if issubclass(exc_type, KeyboardInterrupt) else "failure"
            self._emit(RoleEvent.COMMAND_FAILED, duration_ms=duration, outcome=outcome)
        return False  # never swallow the host's exception
