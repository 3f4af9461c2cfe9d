"""flowspec's integration helpers: one-call events, agent and workflow context managers.

Same names and signatures as `flowspec_cli.telemetry.integration`. The
context managers pair their start and end events with one `invocation_id` and
measure `duration_ms` (flowspec's emit two unrelated events), so agent and
workflow runs get completion rates here; the host's exception is re-raised
untouched. Every call is a no-op without consent and never raises into the host.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Generator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from flowspec_telemetry.compat.flowspec._record import record
from flowspec_telemetry.compat.flowspec.events import RoleEvent
from flowspec_telemetry.core.events import new_invocation_id

P = ParamSpec("P")
R = TypeVar("R")


def _safe(event_type: RoleEvent, **fields: Any) -> None:
    try:
        record(event_type, **fields)
    except Exception:  # pragma: no cover - record() is built on track(), which never raises
        return


def track_role_selection(
    role: str,
    *,
    command: str | None = None,
    context: dict[str, Any] | None = None,
    project_root: Path | None = None,
) -> None:
    """A role was selected (init, configure), or a template's command run (see README)."""
    _safe(RoleEvent.ROLE_SELECTED, role=role, command=command, project_root=project_root)


def track_role_change(
    new_role: str,
    old_role: str | None = None,
    *,
    command: str | None = None,
    context: dict[str, Any] | None = None,
    project_root: Path | None = None,
) -> None:
    """A person switched from `old_role` to `new_role`."""
    _safe(
        RoleEvent.ROLE_CHANGED,
        role=new_role,
        command=command,
        context={"previous_role": old_role} if old_role else None,
        project_root=project_root,
    )


class _Run:
    """Start and end events of one agent or workflow run: one invocation id, a duration."""

    def __init__(self, start: RoleEvent, done: RoleEvent, failed: RoleEvent, **fields: Any) -> None:
        self.events = (start, done, failed)
        self.fields = fields
        self.invocation_id: str | None = None
        self.started = 0.0

    def begin(self) -> None:
        try:
            self.invocation_id = new_invocation_id()
        except Exception:  # pragma: no cover - os.urandom failing
            self.invocation_id = None
        self.started = time.perf_counter()
        _safe(self.events[0], invocation_id=self.invocation_id, **self.fields)

    def end(self, error: BaseException | None) -> None:
        duration = (time.perf_counter() - self.started) * 1000
        if error is None:
            event, outcome = self.events[1], "success"
        else:
            event = self.events[2]
            outcome = "cancelled" if isinstance(error, KeyboardInterrupt) else "failure"
        _safe(
            event,
            invocation_id=self.invocation_id,
            duration_ms=duration,
            outcome=outcome,
            **self.fields,
        )


@contextmanager
def track_agent_invocation(
    agent: str,
    *,
    role: str | None = None,
    command: str | None = None,
    context: dict[str, Any] | None = None,
    project_root: Path | None = None,
) -> Generator[None, None, None]:
    """`agent.invoked` on entry, then `agent.completed` or `agent.failed` (re-raised)."""
    run = _Run(
        RoleEvent.AGENT_STARTED,
        RoleEvent.AGENT_COMPLETED,
        RoleEvent.AGENT_FAILED,
        agent=agent,
        role=role,
        command=command,
        project_root=project_root,
    )
    run.begin()
    try:
        yield
    except BaseException as exc:
        run.end(exc)
        raise
    run.end(None)


def track_agent_invocation_decorator(
    agent: str,
    *,
    role: str | None = None,
    command: str | None = None,
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """`track_agent_invocation` around every call of the decorated function."""

    def decorator(func: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            with track_agent_invocation(agent, role=role, command=command):
                return func(*args, **kwargs)

        return wrapper

    return decorator


def track_handoff(
    from_agent: str,
    to_agent: str,
    *,
    role: str | None = None,
    command: str | None = None,
    context: dict[str, Any] | None = None,
    project_root: Path | None = None,
) -> None:
    """A handoff from `from_agent` to `to_agent` was clicked."""
    _safe(
        RoleEvent.HANDOFF_CLICKED,
        role=role,
        agent=to_agent,
        command=command,
        context={"from_agent": from_agent, "to_agent": to_agent},
        project_root=project_root,
    )


def track_command_execution(
    command: str,
    *,
    role: str | None = None,
    context: dict[str, Any] | None = None,
    project_root: Path | None = None,
) -> None:
    """A run of `command` (counted as a run; no completion rate without an end, see README)."""
    _safe(RoleEvent.COMMAND_EXECUTED, role=role, command=command, project_root=project_root)


@contextmanager
def track_workflow(
    workflow_name: str,
    *,
    role: str | None = None,
    command: str | None = None,
    context: dict[str, Any] | None = None,
    project_root: Path | None = None,
) -> Generator[None, None, None]:
    """`workflow.started`, then `workflow.completed` (outcome success or failure; re-raised).

    The workflow's name is free text and is not stored; its command is.
    """
    run = _Run(
        RoleEvent.WORKFLOW_STARTED,
        RoleEvent.WORKFLOW_COMPLETED,
        RoleEvent.WORKFLOW_FAILED,
        role=role,
        command=command,
        project_root=project_root,
    )
    run.begin()
    try:
        yield
    except BaseException as exc:
        run.end(exc)
        raise
    run.end(None)


__all__ = [
    "track_agent_invocation",
    "track_agent_invocation_decorator",
    "track_command_execution",
    "track_handoff",
    "track_role_change",
    "track_role_selection",
    "track_workflow",
]
