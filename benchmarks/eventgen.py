"""Fast generator of realistic event histories for the reader benchmarks.

Writes lines in exactly the shape `Tracker.track()` writes them (same keys, same
order, compact ASCII JSON), but templated by hand so that a million lines take
seconds instead of minutes. The history is a sequence of sessions: a person
selects a role, runs workflow commands whose agents start and complete (or
fail) with durations, and is offered handoffs that are sometimes clicked.
Values are mostly catalog names, with a share of hashed (`hmac:`) custom roles,
agents and commands, as a real project has.

Standard library only; it does not import `flowspec_telemetry`, so the same
file can be used under any interpreter. `tests/test_benchmarks_smoke.py`
checks that every kind of line parses with `flowspec_telemetry.parse_line`.
"""

from __future__ import annotations

import base64
import os
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Final

_CROCKFORD: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_B32_TO_CROCKFORD: Final = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", _CROCKFORD.encode())
_CONTEXT: Final = '"context":{"os":"linux","python":"3.11","tool_version":"0.1.0","ci":false}}\n'

ROLES: Final = ("dev", "dev", "dev", "arch", "sec", "qa", "ops", "hmac:5d2c1f0e9a8b7c6d")
# command -> agents that run it (agent -> home role below)
WORKFLOWS: Final = {
    "/flow:assess": ("@workflow-assessor",),
    "/flow:specify": ("@pm-planner",),
    "/flow:research": ("@researcher", "@business-validator"),
    "/flow:plan": ("@software-architect", "@platform-engineer"),
    "/flow:implement": ("@frontend-engineer", "@backend-engineer", "@ai-ml-engineer"),
    "/flow:validate": ("@quality-guardian", "@secure-by-design-engineer", "@release-manager"),
    "/flow:operate": ("@sre-agent",),
    "hmac:0b1c2d3e4f5a6b7c": ("hmac:9f8e7d6c5b4a3f2e",),
}
AGENT_ROLES: Final = {
    "@software-architect": "arch",
    "@platform-engineer": "arch",
    "@frontend-engineer": "dev",
    "@backend-engineer": "dev",
    "@ai-ml-engineer": "dev",
    "@secure-by-design-engineer": "sec",
    "@quality-guardian": "qa",
    "@release-manager": "qa",
    "@sre-agent": "ops",
}
# Commands a role tends to run, weighted by repetition.
ROLE_COMMANDS: Final = {
    "dev": ("/flow:implement",) * 5 + ("/flow:validate",) * 2 + ("/flow:plan", "/flow:assess"),
    "arch": ("/flow:plan",) * 4 + ("/flow:specify", "/flow:research", "/flow:assess"),
    "sec": ("/flow:validate",) * 4 + ("/flow:implement",),
    "qa": ("/flow:validate",) * 4 + ("/flow:implement",),
    "ops": ("/flow:operate",) * 4 + ("/flow:validate",),
}
_OTHER_COMMANDS: Final = tuple(WORKFLOWS)
_HANDOFFS: Final = (
    ("@pm-planner", "@software-architect"),
    ("@software-architect", "@backend-engineer"),
    ("@backend-engineer", "@quality-guardian"),
    ("@frontend-engineer", "@secure-by-design-engineer"),
    ("@quality-guardian", "@release-manager"),
    ("@release-manager", "@sre-agent"),
)
PROJECT_ID: Final = "hmac:3f1c0a9b7d2e4f60"
DAY_MS: Final = 86_400_000


class _Ids:
    """ULID-shaped ids: a time prefix plus 16 random Crockford characters, drawn in bulk."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._pool = ""
        self._pos = 0
        self._last_ms = -1
        self._prefix = ""

    def _random16(self) -> str:
        if self._pos >= len(self._pool):
            raw = self._rng.randbytes(10 * 4096)
            self._pool = base64.b32encode(raw).translate(_B32_TO_CROCKFORD).decode()
            self._pos = 0
        out = self._pool[self._pos : self._pos + 16]
        self._pos += 16
        return out

    def ulid(self, ms: int) -> str:
        if ms != self._last_ms:
            value = ms & 0xFFFF_FFFF_FFFF
            chars = []
            for _ in range(10):
                chars.append(_CROCKFORD[value & 31])
                value >>= 5
            self._prefix = "".join(reversed(chars))
            self._last_ms = ms
        return self._prefix + self._random16()

    def hex16(self) -> str:
        return "%016x" % self._rng.getrandbits(64)  # noqa: UP031 - fastest spelling


class _Clock:
    """Millisecond timestamps that advance by `step_ms` on average, with cached seconds."""

    def __init__(self, start_ms: int, step_ms: float, rng: random.Random) -> None:
        self.ms = start_ms
        self._step = max(1, int(step_ms))
        self._rng = rng
        self._second = -1
        self._second_text = ""

    def tick(self) -> tuple[int, str]:
        self.ms += self._rng.randint(1, 2 * self._step)
        second, milli = divmod(self.ms, 1000)
        if second != self._second:
            self._second = second
            self._second_text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        return self.ms, f"{self._second_text}.{milli:03d}Z"


def _opt(key: str, value: str | None) -> str:
    return f'"{key}":null,' if value is None else f'"{key}":"{value}",'


def iter_lines(count: int, *, seed: int = 7, days: int = 90) -> Iterator[str]:
    """`count` event lines (each ending in a newline), oldest first, spread over `days`."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not cryptography
    ids = _Ids(rng)
    now_ms = int(time.time() * 1000)
    clock = _Clock(now_ms - days * DAY_MS, days * DAY_MS / max(count, 1), rng)
    choice = rng.choice
    random_ = rng.random
    produced = 0

    def line(
        event_type: str,
        role: str | None,
        command: str | None = None,
        agent: str | None = None,
        extra: str = "",
    ) -> str:
        ms, stamp = clock.tick()
        return (
            '{"schema_version":"1.0","event_id":"evt_'
            + ids.ulid(ms)
            + '","timestamp":"'
            + stamp
            + '","event_type":"'
            + event_type
            + '",'
            + _opt("role", role)
            + _opt("command", command)
            + _opt("agent", agent)
            + '"project_id":"'
            + PROJECT_ID
            + '",'
            + extra
            + _CONTEXT
        )

    while produced < count:
        role = choice(ROLES)
        session = f'"session_id":"hmac:{ids.hex16()}",'
        batch: list[str] = [
            line(
                "role.selected" if random_() < 0.8 else "role.changed",
                role,
                extra='"source":"' + choice(("init", "cli", "switch")) + '",',
            )
        ]
        for _ in range(rng.randint(1, 6)):
            commands = ROLE_COMMANDS.get(role, _OTHER_COMMANDS)
            command = choice(commands) if random_() < 0.95 else choice(_OTHER_COMMANDS)
            agent = choice(WORKFLOWS[command])
            home = AGENT_ROLES.get(agent)
            agent_extra = f'"agent_role":"{home}",' if home else ""
            inv = f'"invocation_id":"inv_{ids.ulid(clock.ms)}",'
            batch.append(line("command.started", role, command, None, session + inv))
            batch.append(line("agent.invoked", role, command, agent, agent_extra + session + inv))
            duration = rng.randint(200, 600_000)
            failed = random_() < 0.1
            outcome = '"outcome":"failure",' if failed else '"outcome":"success",'
            tail = f'{session}{inv}"duration_ms":{duration},{outcome}'
            batch.append(
                line(
                    "agent.failed" if failed else "agent.completed",
                    role,
                    command,
                    agent,
                    agent_extra + tail,
                )
            )
            if random_() < 0.9:  # some runs are abandoned: started, never completed
                batch.append(
                    line(
                        "command.failed" if failed else "command.completed",
                        role,
                        command,
                        None,
                        tail,
                    )
                )
            if random_() < 0.5:
                src, dst = choice(_HANDOFFS)
                handoff = f'"handoff":{{"from_agent":"{src}","to_agent":"{dst}"}},{session}'
                batch.append(line("handoff.offered", role, command, None, handoff))
                if random_() < 0.6:
                    batch.append(line("handoff.clicked", role, command, None, handoff))
        for text in batch:
            if produced >= count:
                return
            produced += 1
            yield text


def write_history(path: Path, count: int, *, seed: int = 7) -> int:
    """Write `count` lines to `path` (0600, parents made); return the size in bytes."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii", newline="\n", buffering=1 << 20) as fh:
        buf: list[str] = []
        for text in iter_lines(count, seed=seed):
            buf.append(text)
            if len(buf) >= 10_000:
                fh.write("".join(buf))
                buf.clear()
        fh.write("".join(buf))
    return path.stat().st_size


def write_rotated_history(
    folder: Path, count: int, *, per_archive: int = 10_000, live: int = 5_000, seed: int = 7
) -> int:
    """Write `count` events as a real store holds them: gzip archives of `per_archive`
    events (`telemetry-<UTC date>-<n>.jsonl.gz`, named like rotation names them) and a
    live `telemetry.jsonl` with the last `live` events. Returns the bytes written.
    """
    import zlib

    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    total = 0
    lines = iter_lines(count, seed=seed)
    archived = max(0, count - live)
    sequence: dict[str, int] = {}
    while archived > 0:
        take = min(per_archive, archived)
        chunk = [next(lines) for _ in range(take)]
        archived -= take
        day = chunk[-1][chunk[-1].index('"timestamp":"') + 13 :][:10].replace("-", "")
        sequence[day] = sequence.get(day, 0) + 1
        packer = zlib.compressobj(6, zlib.DEFLATED, 31)  # gzip, as rotation writes it
        data = packer.compress("".join(chunk).encode("ascii")) + packer.flush()
        path = folder / f"telemetry-{day}-{sequence[day]}.jsonl.gz"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        total += len(data)
    rest = "".join(lines).encode("ascii")
    fd = os.open(folder / "telemetry.jsonl", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(rest)
    return total + len(rest)
