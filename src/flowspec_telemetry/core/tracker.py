"""`track()`: the thin, never-failing facade a host calls on every action.

Cost model. A host may call `track()` thousands of times, often with
telemetry off, so the call is built around caches revalidated at most once a
second per project (`REVALIDATE_SECONDS`):

* consent off: environment checks plus a dictionary lookup (no file access);
* consent on: value normalisation, one HMAC per new free value, `json.dumps`,
  and one `fstat` + `write()` on a kept-open O_APPEND descriptor (see
  `store.Appender`); the store rotates when the file is full (`rotation`).

Consent environment variables (DO_NOT_TRACK and friends) and `FLOWSPEC_ROLE`
are read on every call, so they take effect at once; a consent change written
by another process, a rotation, a `clear` or `FLOWSPEC_TELEMETRY_DEBUG` is
picked up within a second.

Failure model. Nothing here raises into the host: every error is caught,
the event is dropped, and with FLOWSPEC_TELEMETRY_DEBUG=1 the reason is
printed to stderr (scrubbed, never the values). Nothing is printed to stdout.
"""

from __future__ import annotations

import _thread
import _weakref
import math
import os
import re
import sys
import time

from flowspec_telemetry._version import __version__
from flowspec_telemetry.core import consent_rules, events, privacy, roles, rotation, store
from flowspec_telemetry.core._legacy import LEGACY_TYPES, legacy_track_args
from flowspec_telemetry.core.events import (
    EVENT_TYPE_VALUES,
    OUTCOMES,
    RoleEvent,
    did_you_mean,
    dumps_line,
)
from flowspec_telemetry.core.names import FLOWSPEC, ToolNames
from flowspec_telemetry.core.project import find_root

TYPE_CHECKING = False
if TYPE_CHECKING:  # the tracking path never imports typing or pathlib
    from collections.abc import Callable
    from typing import Any, Final

    from flowspec_telemetry.core.names import StrPath

__all__ = [
    "REVALIDATE_SECONDS",
    "Tracker",
    "default_tracker",
]

REVALIDATE_SECONDS: Final = 1.0
# How long a call waits for another thread's call on the same tracker. A call
# takes microseconds (a rotation a few milliseconds); past this the event is
# dropped rather than the host kept waiting on a stuck file system.
LOCK_TIMEOUT_SECONDS: Final = 0.25
_get_ident = _thread.get_ident
# Exactly what this package writes, ASCII only: one of our keyed hashes, and
# our invocation ids (`inv_` + a ULID: 26 Crockford base32 characters, the first
# at most 7 since the time part has 48 bits). A value of another shape (a
# Unicode digit, a lower-case letter, an I, L, O or U) is not ours: it is hashed.
_STORED_HASH: Final = re.compile(r"hmac:[0-9a-f]{16}", re.ASCII)
_OUR_INVOCATION: Final = re.compile(r"inv_[0-7][0-9A-HJKMNP-TV-Z]{25}", re.ASCII)
_SELECTIONS: Final = frozenset({RoleEvent.ROLE_SELECTED.value, RoleEvent.ROLE_CHANGED.value})
_SOURCES: Final = frozenset(
    {"init", "cli", "config", "prompt", "hook", "env", "api", "ide", "switch"}
)


class _ProjectState:
    """What one project needs per call, refreshed at most once per second."""

    __slots__ = (
        "allowed",
        "appender",
        "catalog",
        "counted",
        "deadline",
        "debug",
        "folder",
        "hasher",
        "hashes",
        "policy",
        "project_id",
        "root",
        "rotate_at",
        "salt",
        "selected_role",
    )

    def __init__(self, root: str, deadline: float, allowed: bool) -> None:
        self.root = root
        self.deadline = deadline
        self.allowed = allowed  # the person's answer and the team policy (env rules on top)
        self.folder: str | None = None
        self.salt: bytes | None = None
        self.hasher: privacy.KeyedHasher | None = None
        self.project_id: str | None = None
        self.catalog = roles.DEFAULT_CATALOG
        self.selected_role: str | None = None  # as stored: a catalog id or a keyed hash
        self.hashes: dict[str, str] = {}
        self.appender: store.Appender | None = None
        self.policy = rotation.Policy()
        self.rotate_at = 0  # file size at which to check for rotation (0: not yet known)
        self.counted = rotation.LineCount()  # lines of the live file so far (kept, not recounted)
        self.debug = False

    def close(self) -> None:
        if self.appender is not None:
            self.appender.close()
            self.appender = None


def _platform() -> str:
    if sys.platform.startswith("linux"):
        return "linux"
    if sys.platform == "darwin":
        return "macos"
    if sys.platform in ("win32", "cygwin"):
        return "windows"
    return "other"


def _text(value: object) -> str | None:
    """Any argument as text; None when there is nothing to record."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", "surrogateescape")
    return str(value)


class Tracker:
    """Records events for one host tool; `track()` uses a shared default instance."""

    def __init__(
        self,
        names: ToolNames = FLOWSPEC,
        *,
        tool_version: str | None = None,
        clock: Callable[[], int] | None = None,
        synthetic: bool = False,
    ) -> None:
        """`clock` returns nanoseconds since the epoch; the demo uses it to replay history.

        `synthetic=True` is for simulated data about nobody (the demo): the
        environment's consent rules (DO_NOT_TRACK ...) speak for the person at
        the keyboard, so they do not apply to it; the project's recorded answer
        still does.
        """
        self.names = names
        self._lock = _thread.allocate_lock()
        self._owner: int | None = None  # thread id of the call in progress
        _forget_dead_and_add(self)
        self._clock = clock
        self._synthetic = synthetic
        self._env_debug = names.env("TELEMETRY_DEBUG")
        self._env_role = names.env("ROLE")
        self._roots: dict[str, tuple[float, str | None]] = {}
        self._explicit: dict[object, str] = {}
        self._projects: dict[str, _ProjectState] = {}
        self._sink: Callable[[dict[str, Any]], object] | None = None  # see `set_sink`
        self._sink_salt = b""
        given = _text(tool_version)
        version = privacy.version_text(given) if given else __version__
        self._context: dict[str, Any] = {
            "os": _platform(),
            "python": f"{sys.version_info[0]}.{sys.version_info[1]}",
            "tool_version": version,
            "ci": bool(os.environ.get("CI")),
        }

    # ---------------------------------------------------------------- public

    def track(
        self,
        event_type: RoleEvent | str,
        *,
        role: object = None,
        previous_role: object = None,
        command: object = None,
        agent: object = None,
        agent_role: object = None,
        from_agent: object = None,
        to_agent: object = None,
        session_id: object = None,
        invocation_id: object = None,
        duration_ms: object = None,
        outcome: object = None,
        source: object = None,
        legacy_type: object = None,
        project_root: StrPath | None = None,
    ) -> str | None:
        """Record one event; return its `event_id`, or None when nothing was recorded.

        `legacy_type` is for the flowspec compat layer: the type flowspec's
        earlier API called the event (one of its 15 wire strings, else ignored).
        Never raises and never prints to stdout. Safe to call from any number of
        threads at once: calls on one tracker take turns (see `_turn`), so no
        thread ever writes through a descriptor another one closed.
        """
        lock = self._lock  # inlined `_turn`: this is the hot path
        if lock.acquire(False):
            self._owner = _get_ident()
        elif not self._wait_turn():
            self._debug(f"not recorded ({_safe_type(event_type)}): the tracker is busy")
            return None
        try:
            etype = event_type.value if isinstance(event_type, RoleEvent) else event_type
            if etype not in EVENT_TYPE_VALUES:
                if os.environ.get(self._env_debug):
                    hint = did_you_mean(str(etype), EVENT_TYPE_VALUES)
                    self._debug(f"not recorded: unknown event type ({_safe_type(etype)}){hint}")
                return None
            retried = False
            while True:  # twice at most: once more if the file was deleted under us
                state = self._state_for(project_root, create=True)
                if state is None:
                    if os.environ.get(self._env_debug):
                        self._debug(f"not recorded ({etype}): {self._why_off(project_root)}")
                    return None
                values = _Values(state)
                role_v = values.free(role, state.catalog.known_roles)
                if role_v is None:
                    role_v = self.current_role_of(state, values)
                agent_v = values.agent(agent)
                now_ns = self._clock() if self._clock is not None else None
                event: dict[str, Any] = {
                    "schema_version": events.SCHEMA_VERSION,
                    "event_id": "evt_" + events.ulid(now_ns),
                    "timestamp": events.utc_timestamp(now_ns),
                    "event_type": etype,
                    "role": role_v,
                    "command": values.command(command),
                    "agent": agent_v,
                    "project_id": state.project_id,
                }
                values.add_optional(
                    event,
                    agent_v,
                    previous_role=previous_role,
                    agent_role=agent_role,
                    from_agent=from_agent,
                    to_agent=to_agent,
                    session_id=session_id,
                    invocation_id=invocation_id,
                    duration_ms=duration_ms,
                    outcome=outcome,
                    source=source,
                )
                if isinstance(legacy_type, str) and legacy_type in LEGACY_TYPES:
                    event["legacy_type"] = legacy_type
                event["context"] = self._context
                if state.debug:
                    self._hint_hashed(state, event, role=role, command=command, agent=agent)
                try:
                    event_id = self._write(state, event)
                except store.FileGone:  # cleared or compacted away: build it again, anew
                    if retried:
                        raise
                    retried = True
                    continue
                if event_id and etype in _SELECTIONS and role_v and role_v != state.selected_role:
                    self._remember_role(state, role_v)
                return event_id
        except Exception as exc:  # the host must never see our failures
            self._debug(f"not recorded ({_safe_type(event_type)}): {type(exc).__name__}: {exc}")
            return None
        finally:
            self._owner = None
            lock.release()

    def _remember_role(self, state: _ProjectState, role: str) -> None:
        state.selected_role = role
        try:
            if state.folder is not None and self._sink is None:
                roles.write_selected_role(state.folder, role)
        except OSError as exc:  # the event is recorded; only the default role is not
            self._debug(f"current role not remembered: {exc.strerror}")

    def current_role_of(self, state: _ProjectState, values: _Values | None = None) -> str | None:
        """The person's role: $FLOWSPEC_ROLE, else the last selection, else `roles.primary`."""
        from_env = os.environ.get(self._env_role)
        if from_env:
            return (values or _Values(state)).free(from_env, state.catalog.known_roles)
        return state.selected_role or state.catalog.primary

    def current_role(self, project_root: StrPath | None = None) -> str | None:
        """The role events get when they name none (None when telemetry is off). Never raises."""
        if not self._turn():
            return None
        try:
            state = self._state_for(project_root, create=True)
            return self.current_role_of(state) if state is not None else None
        except Exception:
            return None
        finally:
            self._end_turn()

    def stored(self, field: str, value: object, project_root: StrPath | None = None) -> str | None:
        """How `value` would be stored in `field` ("role", "command" or "agent"), or None when off.

        Adapters that must remember a value between processes keep this form,
        never the raw one; `track()` accepts it back unchanged.
        """
        if not self._turn():
            return None
        try:
            state = self._state_for(project_root, create=True)
            if state is None:
                return None
            values = _Values(state)
            if field == "agent":
                return values.agent(value)
            if field == "command":
                return values.command(value)
            return values.free(value, state.catalog.known_roles)
        except Exception:
            return None
        finally:
            self._end_turn()

    def keyed_hash(self, value: str, project_root: StrPath | None = None) -> str | None:
        """The project's keyed hash of `value`, or None when telemetry is off."""
        if not self._turn():
            return None
        try:
            state = self._state_for(project_root, create=True)
            return _Values(state).hashed(value) if state is not None else None
        except Exception:
            return None
        finally:
            self._end_turn()

    def catalog(self, project_root: StrPath | None = None) -> roles.Catalog:
        """The catalog in force for the project (the default one when off). Never raises."""
        if not self._turn():
            return roles.DEFAULT_CATALOG
        try:
            state = self._state_for(project_root, create=True)
            return state.catalog if state is not None else roles.DEFAULT_CATALOG
        except Exception:
            return roles.DEFAULT_CATALOG
        finally:
            self._end_turn()

    def enabled(self, project_root: StrPath | None = None) -> bool:
        """Whether an event tracked now would be recorded. Never raises."""
        if not self._turn():
            return False
        try:
            return self._state_for(project_root, create=False) is not None
        except Exception:
            return False
        finally:
            self._end_turn()

    def set_sink(self, sink: Callable[[dict[str, Any]], object] | None) -> None:
        """Hand every event to `sink` instead of writing it; None writes to files again.

        For hosts' tests (`flowspec_telemetry.testing.capture_events`): while a
        sink is set, each event is built exactly as it would be stored (catalog
        values kept, the rest keyed-hashed with a salt that lives in memory)
        and given to the sink as the parsed JSON line, as if the person had
        opted in; consent is not asked, no file or folder is read for it and
        nothing is written anywhere. The project is found as usual, else the
        working folder stands in for it.
        """
        self.close()
        self._projects.clear()
        self._roots.clear()
        self._explicit.clear()
        self._sink = sink
        self._sink_salt = os.urandom(privacy.SALT_BYTES)

    def invalidate(self) -> None:
        """Forget cached consent and project state (after `enable`/`disable`/`clear`)."""
        if not self._turn():
            return  # a call is in progress: it revalidates within a second anyway
        try:
            self._close()
            self._roots.clear()
            self._explicit.clear()
        finally:
            self._end_turn()

    def close(self) -> None:
        """Close kept-open descriptors; the next `track()` reopens what it needs."""
        if not self._turn():
            return
        try:
            self._close()
        finally:
            self._end_turn()

    def _close(self) -> None:
        for state in self._projects.values():
            state.close()
        self._projects.clear()

    # --------------------------------------------------------------- internal

    def _turn(self) -> bool:
        """Take this tracker's lock; False when the call should be dropped instead.

        One lock per tracker makes each call atomic with respect to the kept-open
        descriptors: a thread that closes one (a rotation, a `clear` seen from
        another process, an error) does so while no other thread of ours can be
        about to write to that number, which the host may reuse at once for a
        file of its own. A call made while the same thread is already inside
        one (a signal handler, a clock callback) is dropped rather than
        deadlocking; a wait longer than `LOCK_TIMEOUT_SECONDS` drops the event
        rather than block the host. An uncontended turn costs well under a
        microsecond.
        """
        if self._lock.acquire(False):  # the common case: nobody else is in a call
            self._owner = _get_ident()
            return True
        return self._wait_turn()

    def _wait_turn(self) -> bool:
        me = _get_ident()
        if self._owner == me:  # held by this very thread: a re-entrant call
            return False
        if not self._lock.acquire(True, LOCK_TIMEOUT_SECONDS):
            return False
        self._owner = me
        return True

    def _end_turn(self) -> None:
        self._owner = None
        self._lock.release()

    def _after_fork(self) -> None:
        """In a forked child the lock may be held by a thread that does not exist there."""
        self._lock = _thread.allocate_lock()
        self._owner = None

    def _root_of(self, project_root: StrPath | None, now: float) -> str | None:
        if project_root is not None:
            root = self._explicit.get(project_root)
            if root is None:
                if len(self._explicit) > 256:
                    self._explicit.clear()
                root = self._explicit[project_root] = os.path.abspath(project_root)
            return root
        cwd = os.getcwd()
        hit = self._roots.get(cwd)
        if hit is None or hit[0] < now:
            hit = (now + REVALIDATE_SECONDS, find_root(cwd, self.names))
            self._roots[cwd] = hit
        return hit[1]

    def _state_for(self, project_root: StrPath | None, *, create: bool) -> _ProjectState | None:
        if self._sink is not None:
            return self._captured_state(project_root)
        forced = None if self._synthetic else consent_rules.env_rule(self.names)
        if forced is not None and not forced.enabled:
            return None
        now = time.monotonic()
        root = self._root_of(project_root, now)
        if root is None:
            return None
        state = self._projects.get(root)
        if state is None or state.deadline < now:
            state = self._refresh(root, now, state)
        allowed = forced.enabled if forced is not None else state.allowed
        if not allowed:
            return None
        if create and state.appender is None:
            self._open_project(state)
        return state

    def _captured_state(self, project_root: StrPath | None) -> _ProjectState:
        """The in-memory state of a project while a sink is set (see `set_sink`)."""
        if project_root is not None:
            root = os.path.abspath(project_root)
        else:
            root = find_root(os.getcwd(), self.names) or os.getcwd()
        state = self._projects.get(root)
        if state is None:
            state = _ProjectState(root, math.inf, True)
            state.catalog = roles.load_catalog(root, self.names)
            state.salt = self._sink_salt
            state.hasher = privacy.KeyedHasher(state.salt)
            state.project_id = state.hasher.render("project:" + os.path.realpath(root))
            self._projects[root] = state
        return state

    def _refresh(self, root: str, now: float, old: _ProjectState | None) -> _ProjectState:
        """Decide consent again; keep what an open project already has (salt, descriptor)."""
        catalog_box: list[roles.Catalog] = []

        def team_allows() -> bool:
            catalog_box.append(roles.load_catalog(root, self.names))
            return catalog_box[0].team_telemetry is not False

        decision = consent_rules.decide(
            root,
            names=self.names,
            team_allows=team_allows,
            environ={},
            lazy_policy=True,
            project_only=self._synthetic,
        )
        state = _ProjectState(root, now + REVALIDATE_SECONDS, decision.enabled)
        if catalog_box:
            state.catalog = catalog_box[0]
        state.debug = bool(os.environ.get(self._env_debug))
        if old is not None:
            appender, old.appender = old.appender, None
            if decision.enabled and appender is not None and old.folder is not None:
                state.folder, state.salt, state.hasher = old.folder, old.salt, old.hasher
                state.project_id, state.hashes = old.project_id, old.hashes
                state.catalog = roles.load_catalog(root, self.names, write_cache=True)
                state.selected_role = roles.read_selected_role(old.folder)
                state.policy, state.rotate_at = rotation.Policy.from_env(self.names), old.rotate_at
                state.counted = old.counted
                if appender.stale() or not os.path.isdir(old.folder):
                    appender.close()  # rotated, cleared or replaced: reopen on next write
                    appender = None
                    if not os.path.exists(os.path.join(old.folder, privacy.SALT_FILE)):
                        state.folder = None  # cleared: a new salt is made on next write
                state.appender = appender
            elif appender is not None:
                appender.close()
        self._projects[root] = state
        return state

    def _open_project(self, state: _ProjectState) -> None:
        """First write for this project (or after a rotation or `clear`)."""
        if state.folder is None or state.salt is None:
            folder = store.ensure_project_dir(state.root, self.names)
            state.salt = privacy.load_or_create_salt(folder)
            state.hasher = privacy.KeyedHasher(state.salt)
            state.hashes = {}
            state.catalog = roles.load_catalog(state.root, self.names, write_cache=True)
            state.project_id = state.hasher.render("project:" + os.path.realpath(state.root))
            state.selected_role = roles.read_selected_role(folder)
            state.policy = rotation.Policy.from_env(self.names)
            state.folder = folder
        state.appender = store.Appender(os.path.join(state.folder, store.EVENTS_FILE))
        state.rotate_at = 0

    def _write(self, state: _ProjectState, event: dict[str, Any]) -> str | None:
        line = dumps_line(event)
        if len(line) > events.MAX_LINE_BYTES:  # pragma: no cover - every value is bounded above
            self._debug(f"not recorded ({event['event_type']}): line of {len(line)} bytes")
            return None
        sink = self._sink
        if sink is not None:  # a host's test: the line as stored, parsed, and no file
            sink(events.parse_line(line) or {})
            return str(event["event_id"])
        appender = state.appender
        if appender is None:  # pragma: no cover - _state_for(create=True) opened it
            raise RuntimeError("project not opened")
        try:
            size = appender.append(line)
        except OSError:  # FileGone too: reopen, and look at the folder again
            state.close()
            state.deadline = 0.0
            raise
        try:  # the event is stored: nothing after this may report it as not recorded
            if size >= state.rotate_at:
                self._maybe_rotate(state, size, len(line))
            if state.debug:
                sys.stderr.write(f"{self.names.tool}-telemetry: recorded {line.decode('ascii')}")
        except Exception as exc:
            state.close()  # look at the folder afresh on the next call
            state.deadline = 0.0
            self._debug(f"recorded, but the store could not be rotated: {type(exc).__name__}")
        return str(event["event_id"])

    def _maybe_rotate(self, state: _ProjectState, size: int, line_bytes: int) -> None:
        policy = state.policy
        if state.rotate_at == 0:  # first write: estimate when the file holds max_events lines
            state.rotate_at = min(
                policy.max_bytes, max(size, policy.max_events * line_bytes * 9 // 10)
            )
            if size < state.rotate_at:
                return
        if state.folder is None:  # pragma: no cover - set when opened
            return
        next_check = rotation.rotate_if_due(state.folder, policy, state.counted)
        if next_check is None:  # rotated (by us or a neighbour): write to the new file
            state.close()
            state.deadline = 0.0
        else:
            state.rotate_at = min(policy.max_bytes, next_check)

    def _why_off(self, project_root: StrPath | None) -> str:
        """Why nothing is recorded here (debug only: it may read the consent files)."""
        forced = None if self._synthetic else consent_rules.env_rule(self.names)
        if forced is not None and not forced.enabled:
            return f"telemetry is off: {forced.reason}"
        root = self._root_of(project_root, time.monotonic())
        if root is None:
            return (
                f"no {self.names.tool} project here (no {self.names.project_dir}/ or "
                f"{self.names.workflow_file} in this folder or above)"
            )
        decision = consent_rules.decide(
            root,
            names=self.names,
            team_allows=lambda: roles.load_catalog(root, self.names).team_telemetry is not False,
        )
        return f"telemetry is off: {decision.reason}"

    def _hint_hashed(self, state: _ProjectState, event: dict[str, Any], **given: object) -> None:
        """Debug: say which given values are outside the catalog (stored hashed), and guess.

        Only catalog values are named (the guess), never the value given:
        debug output follows the same rule as the events.
        """
        catalog = state.catalog
        known = {
            "role": catalog.known_roles,
            "command": catalog.known_commands,
            "agent": catalog.known_agents,
        }
        for field, raw in given.items():
            text = _text(raw)
            stored = event.get(field)
            if not text or _STORED_HASH.match(text) or stored in known[field]:
                continue
            hint = did_you_mean(text, known[field])
            self._debug(
                f"{event['event_type']}: the {field} given is not in the role catalog, "
                f"so it is stored as a keyed hash{hint}"
            )

    def _debug(self, message: str) -> None:
        try:
            if os.environ.get(self._env_debug):
                sys.stderr.write(
                    f"{self.names.tool}-telemetry: {privacy.scrub(message, limit=400)}\n"
                )
        except Exception:  # pragma: no cover - stderr closed
            return


class _Values:
    """Turns host arguments into stored values: catalog values as they are, the rest hashed."""

    __slots__ = ("catalog", "hasher", "hashes")

    def __init__(self, state: _ProjectState) -> None:
        if state.hasher is None:  # pragma: no cover - _state_for(create=True) sets it
            raise RuntimeError("project not opened")
        self.hasher = state.hasher
        self.catalog = state.catalog
        self.hashes = state.hashes

    def hashed(self, text: str) -> str:
        cached = self.hashes.get(text)
        if cached is None:
            cached = self.hasher.render(text)
            if len(text) <= 256 and len(self.hashes) < 4096:
                self.hashes[text] = cached
        return cached

    def free(self, value: object, known: frozenset[str], *, hash_ok: bool = True) -> str | None:
        """A catalog value as is; with `hash_ok`, one of our hashes as is; the rest hashed.

        `hash_ok` is False for the fields whose stored value is never a hash
        that an adapter kept (outcome, source): there a hash-shaped value is
        hashed like any other unknown value.
        """
        text = _text(value)
        if not text:
            return None
        if text in known or (hash_ok and _STORED_HASH.fullmatch(text)):
            return text  # a catalog value, or one of our hashes (already unreadable)
        stripped = text.strip()
        if stripped in known:
            return stripped
        return self.hashed(text)

    def command(self, value: object) -> str | None:
        """A command as hosts spell it: `/flow:validate`, `flow:validate` (Skill), with arguments.

        A catalog command is stored as the catalog spells it (arguments
        dropped); anything else is hashed whole.
        """
        text = _text(value)
        if not text:
            return None
        known = self.catalog.known_commands
        if text in known or _STORED_HASH.match(text):
            return text
        for spelling in roles.command_spellings(text[:256]):
            if spelling in known:
                return spelling
        return self.hashed(text)

    def agent(self, value: object) -> str | None:
        text = _text(value)
        if text and not text.startswith("@") and "@" + text.strip() in self.catalog.known_agents:
            text = "@" + text.strip()
        return self.free(text, self.catalog.known_agents)

    def add_optional(
        self,
        event: dict[str, Any],
        agent: str | None,
        *,
        previous_role: object,
        agent_role: object,
        from_agent: object,
        to_agent: object,
        session_id: object,
        invocation_id: object,
        duration_ms: object,
        outcome: object,
        source: object,
    ) -> None:
        """Set the keys an event type may carry; absent values leave no key."""
        previous = self.free(previous_role, self.catalog.known_roles)
        if previous is not None:
            event["previous_role"] = previous
        home = self.free(agent_role, self.catalog.known_roles)
        if home is None and agent is not None:
            home = self.catalog.home_role(agent)
        if home is not None:
            event["agent_role"] = home
        if from_agent is not None or to_agent is not None:
            event["handoff"] = {
                "from_agent": self.agent(from_agent),
                "to_agent": self.agent(to_agent),
            }
        session = _text(session_id)
        if session:
            event["session_id"] = self.hashed(session)
        invocation = _text(invocation_id)
        if invocation:
            ours = _OUR_INVOCATION.fullmatch(invocation) is not None
            event["invocation_id"] = invocation if ours else self.hashed(invocation)
        duration = _duration(duration_ms)
        if duration is not None:
            event["duration_ms"] = duration
        if outcome is not None:
            event["outcome"] = self.free(outcome, OUTCOMES, hash_ok=False)
        if source is not None:
            event["source"] = self.free(source, _SOURCES, hash_ok=False)


def _duration(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not math.isfinite(value):
        return None
    return max(0, min(int(value), 10**12))


_live: list[Callable[[], Tracker | None]] = []  # weak references, for the fork hook


def _forget_dead_and_add(tracker: Tracker) -> None:
    if len(_live) >= 64:
        _live[:] = [ref for ref in _live if ref() is not None]
    _live.append(_weakref.ref(tracker))


def _after_fork_in_child() -> None:
    for ref in _live:
        tracker = ref()
        if tracker is not None:
            tracker._after_fork()


os.register_at_fork(after_in_child=_after_fork_in_child)


def _safe_type(event_type: object) -> str:
    """An event type fit for an error message: a known wire string, else only its kind."""
    if isinstance(event_type, str) and event_type in EVENT_TYPE_VALUES:
        return event_type
    return f"unrecognised {type(event_type).__name__}"


_default = Tracker()


def default_tracker() -> Tracker:
    """The tracker behind the module-level functions."""
    return _default


track = _default.track
"""Record one event if the person has opted in (the default tracker's `Tracker.track`).

Never raises, never prints to stdout, writes nothing without consent; returns
the new `event_id`, or None when nothing was recorded.
"""


def track_role_event(
    event_type: RoleEvent | str,
    *,
    role: object = None,
    command: object = None,
    agent: object = None,
    context: object = None,
    metadata: object = None,
    enabled: object = True,
    project_root: StrPath | None = None,
    **fields: Any,
) -> str | None:
    """`track()` that also takes the call shapes of flowspec's earlier telemetry module.

    Called like `track()` (one of this package's event types, no `context`
    or `metadata`) it is `track()`. Called as flowspec's module was,
    `track_role_event(event_type, role=, command=, agent=, context=,
    metadata=, project_root=, enabled=)`, it records what that module meant,
    with the mapping its old lines are read with (`core._legacy`): its five
    types that do not exist here (`agent.started`, `agent.progress`,
    `handoff.completed`, `command.executed`, `workflow.failed`), and the
    `context` keys that carry a meaning (`previous_role`, `from_agent`,
    `to_agent`); `metadata` and every other context key are never stored.
    `enabled=False` records nothing. Any keyword of `track()` may be given
    too. Returns the event id, or None; never raises.
    """
    try:
        if not enabled:
            return None
        etype = getattr(event_type, "value", event_type)
        if etype in EVENT_TYPE_VALUES and context is None and metadata is None:
            return _default.track(
                etype, role=role, command=command, agent=agent, project_root=project_root, **fields
            )
        mapped = legacy_track_args(etype, role=role, command=command, agent=agent, context=context)
        if mapped is None:
            return None
        new_type, values = mapped
        values.update(fields)
        return _default.track(new_type, project_root=project_root, **values)
    except Exception:  # a keyword track() does not have: nothing recorded, nothing raised
        return None
