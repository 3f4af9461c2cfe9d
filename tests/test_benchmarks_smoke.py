"""The benchmark's event generator writes lines the readers accept (no timing here)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

from flowspec_telemetry import parse_line
from flowspec_telemetry.core.events import EVENT_TYPE_VALUES, MAX_LINE_BYTES
from flowspec_telemetry.core.store import ReadStats, iter_file

_GEN = Path(__file__).resolve().parent.parent / "benchmarks" / "eventgen.py"


def _eventgen() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_eventgen", _GEN)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_generated_lines_parse_like_tracker_output(tmp_path: Path) -> None:
    gen = _eventgen()
    path = tmp_path / "telemetry.jsonl"
    gen.write_history(path, 3000)
    seen: set[str] = set()
    ids: set[str] = set()
    previous = ""
    with open(path, "rb") as fh:
        for raw in fh:
            assert len(raw) <= MAX_LINE_BYTES
            assert raw.endswith(b"\n")
            event = parse_line(raw)
            assert event is not None
            assert json.loads(raw) == event
            assert event["schema_version"] == "1.0"
            assert event["event_type"] in EVENT_TYPE_VALUES
            assert event["timestamp"] >= previous
            previous = event["timestamp"]
            ids.add(event["event_id"])
            seen.add(event["event_type"])
    assert len(ids) == 3000
    assert {"role.selected", "agent.invoked", "handoff.clicked", "command.completed"} <= seen
    stats = ReadStats()
    assert sum(1 for _ in iter_file(path, stats)) == 3000
    assert stats.skipped == 0
