"""The hook adapters' shared memory: `.flowspec/telemetry-hooks.json`, bounded and locked.

Hook calls are separate processes (one per Claude Code hook, one per
flowspec lifecycle event), so what a start needs its end to know (open
invocations, which source already counted a run) lives in one small JSON
file, read and rewritten under an exclusive `flock`.

It is bounded three ways, so no session, however long or hostile, grows it:
at most `MAX_SESSIONS` sessions (newest kept, stale ones after a day
dropped), at most `MAX_OPEN` open commands and agents per session, at most
`MAX_RUNS` runs in the dedup ledger, and the file is never read past
`MAX_STATE_BYTES` (a larger one, or anything that is not a regular file, is
ignored: the adapter then records nothing rather than guess).

Only keyed hashes and catalog values are stored; never a prompt, a path or a
raw session id.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import stat

from flowspec_telemetry.core.errors import TelemetryError

TYPE_CHECKING = False
if TYPE_CHECKING:  # a hook starts cold for every payload: no typing, dataclasses or pathlib
    from typing import Any, Final

__all__ = ["MAX_STATE_BYTES", "STATE_FILE", "HookState", "LockedState", "StateRefusedError"]

STATE_FILE: Final = "telemetry-hooks.json"
MAX_STATE_BYTES: Final = 256 << 10
MAX_SESSIONS: Final = 64
MAX_OPEN: Final = 16  # open commands and open agents, each, per session
MAX_RUNS: Final = 64
STALE_NS: Final = 24 * 3600 * 1_000_000_000


class StateRefusedError(TelemetryError, OSError):
    """The state file is not a regular file we may use (FIFO, device, symlink...)."""


class HookState:
    """Open command and agent invocations per session, and the dedup ledger of runs."""

    def __init__(self, data: dict[str, Any] | None = None) -> None:
        data = data or {}
        sessions = data.get("sessions")
        runs = data.get("runs")
        self.sessions: dict[str, dict[str, Any]] = sessions if isinstance(sessions, dict) else {}
        self.runs: list[dict[str, Any]] = (
            [r for r in runs if isinstance(r, dict)] if isinstance(runs, list) else []
        )

    def session(self, key: str, now_ns: int) -> dict[str, Any]:
        entry = self.sessions.get(key)
        if not isinstance(entry, dict):
            entry = {}
            self.sessions[key] = entry
        if not isinstance(entry.get("commands"), list):
            entry["commands"] = []
        if not isinstance(entry.get("agents"), dict):
            entry["agents"] = {}
        entry["t"] = now_ns
        return entry

    def drop_session(self, key: str) -> None:
        self.sessions.pop(key, None)

    def prune(self, now_ns: int) -> None:
        """Apply every bound: stale and surplus sessions, open entries, runs."""
        live = {
            k: v
            for k, v in self.sessions.items()
            if isinstance(v, dict) and isinstance(v.get("t"), int) and now_ns - v["t"] < STALE_NS
        }
        newest = sorted(live.items(), key=lambda kv: kv[1]["t"], reverse=True)[:MAX_SESSIONS]
        for _, entry in newest:
            commands = entry.get("commands")
            if isinstance(commands, list):
                del commands[:-MAX_OPEN]
            agents = entry.get("agents")
            if isinstance(agents, dict) and len(agents) > MAX_OPEN:
                kept = sorted(
                    agents.items(),
                    key=lambda kv: kv[1].get("t", 0) if isinstance(kv[1], dict) else 0,
                )[-MAX_OPEN:]
                entry["agents"] = dict(kept)
        self.sessions = dict(newest)
        del self.runs[:-MAX_RUNS]

    def to_json(self) -> dict[str, Any]:
        return {"v": 2, "sessions": self.sessions, "runs": self.runs}

    def dumps(self) -> bytes:
        """The file's new content, within `MAX_STATE_BYTES` (oldest sessions dropped first)."""
        blob = json.dumps(self.to_json(), separators=(",", ":")).encode()
        while len(blob) > MAX_STATE_BYTES and (self.sessions or self.runs):
            if self.sessions:
                oldest = min(self.sessions, key=lambda k: self.sessions[k].get("t", 0))
                del self.sessions[oldest]
            else:
                del self.runs[: max(1, len(self.runs) // 2)]
            blob = json.dumps(self.to_json(), separators=(",", ":")).encode()
        return blob


class LockedState:
    """Read-modify-write of the state file under an exclusive advisory lock.

    Opened with O_NOFOLLOW and O_NONBLOCK and checked with fstat, so a
    symlink, FIFO or device planted at its name is refused (`StateRefusedError`)
    instead of followed or waited on. The new state is written only when the
    block finished without an error.
    """

    def __init__(self, path: str) -> None:
        flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
        try:
            self.fd = os.open(path, flags, 0o600)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.EISDIR, errno.ENXIO):
                raise StateRefusedError(exc.errno, f"{path} is not a regular file") from None
            raise
        if not stat.S_ISREG(os.fstat(self.fd).st_mode):
            os.close(self.fd)
            raise StateRefusedError(errno.EINVAL, f"{path} is not a regular file")

    def __enter__(self) -> HookState:
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX)
            chunks: list[bytes] = []
            size = 0
            while size <= MAX_STATE_BYTES and (chunk := os.read(self.fd, 1 << 16)):
                chunks.append(chunk)
                size += len(chunk)
            raw = b"".join(chunks)
            data = None
            if len(raw) <= MAX_STATE_BYTES:  # larger: not ours, start afresh
                try:
                    data = json.loads(raw) if raw else None
                except (ValueError, RecursionError):
                    data = None
        except BaseException:
            os.close(self.fd)
            raise
        self.state = HookState(data if isinstance(data, dict) else None)
        return self.state

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            if exc_type is None:
                blob = self.state.dumps()
                os.lseek(self.fd, 0, os.SEEK_SET)
                os.ftruncate(self.fd, 0)
                view = memoryview(blob)
                while view:
                    written = os.write(self.fd, view)
                    if written <= 0:  # pragma: no cover - a full disk raises instead
                        break
                    view = view[written:]
        finally:
            os.close(self.fd)
