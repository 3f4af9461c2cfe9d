"""A known dataset with hostile values, written straight into a project's store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flowspec_telemetry.core.events import dumps_line

HOSTILE_ROLE = '<script>document.title="pwned"</script>'
HOSTILE_COMMAND = "</style><img src=x onerror=alert(1)>\"'><svg onload=alert(2)>"
HOSTILE_AGENT = "@evil\x1b[31m\u202egnp.exe\x07"
HUGE = "A" * 100_000


def _ev(i: int, event_type: str, day: int = 2, **fields: Any) -> dict[str, Any]:
    return {
        "schema_version": "1.0",
        "event_id": f"evt_{i:026d}",
        "timestamp": f"2026-11-{day:02d}T10:{i // 60 % 60:02d}:{i % 60:02d}.000Z",
        "event_type": event_type,
        "project_id": "hmac:3f1c0a9b7d2e4f60",
        **fields,
    }


def known_events() -> list[dict[str, Any]]:
    """3 dev + 1 arch selections at init; /flow:implement 10 started, 8 completed, 1 failed;
    dev invokes 6 x @backend-engineer, 2 x @secure-by-design-engineer and 1 hostile (22 %);
    8 handoffs @pm-planner -> @software-architect offered, 6 clicked (75 %);
    plus hostile and hashed values in every field."""
    raw: list[tuple[str, int, dict[str, Any]]] = []
    for _ in range(3):
        raw.append(("role.selected", 2, {"role": "dev", "source": "init"}))
    raw.append(("role.selected", 2, {"role": "arch", "source": "init"}))
    raw.append(("role.selected", 3, {"role": HOSTILE_ROLE, "source": "cli"}))
    raw.append(("role.selected", 3, {"role": "hmac:0123456789abcdef", "source": "cli"}))
    for i in range(10):
        raw.append(
            (
                "command.started",
                3,
                {"role": "dev", "command": "/flow:implement", "session_id": f"hmac:{i:016x}"},
            )
        )
    for i in range(8):
        raw.append(
            (
                "command.completed",
                4,
                {"role": "dev", "command": "/flow:implement", "duration_ms": (i + 1) * 1000},
            )
        )
    raw.append(("command.failed", 4, {"role": "dev", "command": "/flow:implement"}))
    raw.append(("command.started", 4, {"role": "dev", "command": HOSTILE_COMMAND}))
    raw.append(("command.started", 4, {"role": HUGE, "command": HUGE, "agent": HUGE}))
    for i in range(6):
        raw.append(
            (
                "agent.invoked",
                5,
                {
                    "role": "dev",
                    "agent": "@backend-engineer",
                    "agent_role": "dev",
                    "session_id": f"hmac:{i:016x}",
                },
            )
        )
    for i in range(2):
        raw.append(
            (
                "agent.invoked",
                5,
                {
                    "role": "dev",
                    "agent": "@secure-by-design-engineer",
                    "agent_role": "sec",
                    "session_id": f"hmac:{i:016x}",
                },
            )
        )
    raw.append(("agent.invoked", 5, {"role": "dev", "agent": HOSTILE_AGENT}))
    for i in range(8):
        pair = {"from_agent": "@pm-planner", "to_agent": "@software-architect"}
        raw.append(("handoff.offered", 6, {"role": "arch", "handoff": pair}))
        if i < 6:
            raw.append(("handoff.clicked", 6, {"role": "arch", "handoff": pair}))
    raw.append(
        (
            "handoff.offered",
            6,
            {"role": "arch", "handoff": {"from_agent": HOSTILE_AGENT, "to_agent": HOSTILE_ROLE}},
        )
    )
    return [_ev(i, etype, day, **fields) for i, (etype, day, fields) in enumerate(raw)]


def write_known(root: Path) -> int:
    folder = root / ".flowspec"
    folder.mkdir(mode=0o700, exist_ok=True)
    events = known_events()
    with open(folder / "telemetry.jsonl", "wb") as fh:
        for event in events:
            fh.write(dumps_line(event))
        fh.write(b"{torn line\n\x00\x01binary\n")  # 2 unreadable lines
    return len(events)
