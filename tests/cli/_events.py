"""Writing synthetic histories straight into a project's store (fast, no tracker)."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

from flowspec_telemetry.core.events import dumps_line


def event(i: int, **over: Any) -> dict[str, Any]:
    day = 2 + i // 1000
    sec = i % 1000
    base: dict[str, Any] = {
        "schema_version": "1.0",
        "event_id": f"evt_{i:026d}",
        "timestamp": f"2026-11-{day:02d}T{sec // 3600:02d}:{sec // 60 % 60:02d}:{sec % 60:02d}.000Z",
        "event_type": ("agent.invoked", "role.selected", "command.started")[i % 3],
        "role": ("dev", "arch")[i % 2],
        "command": "/flow:implement",
        "agent": "@backend-engineer",
        "project_id": "hmac:3f1c0a9b7d2e4f60",
        "context": {"os": "linux", "python": "3.11", "tool_version": "0.1.0", "ci": False},
    }
    base.update(over)
    return base


def write_history(root: Path, live: int, archives: tuple[int, ...] = (), start: int = 0) -> int:
    """Archives first (oldest), then the live file; returns the next index."""
    folder = root / ".flowspec"
    folder.mkdir(mode=0o700, exist_ok=True)
    i = start
    for n, count in enumerate(archives, 1):
        lines = b"".join(dumps_line(event(i + k)) for k in range(count))
        (folder / f"telemetry-20261101-{n}.jsonl.gz").write_bytes(gzip.compress(lines))
        i += count
    with open(folder / "telemetry.jsonl", "ab") as fh:
        for k in range(live):
            fh.write(dumps_line(event(i + k)))
    return i + live
