"""Worker: in-process `track()` cost next to the floor, printed as one JSON object.

Run by `run.py` under the interpreter being measured (a regular install of
flowspec-telemetry), in a scratch folder given as the only argument, with
HOME/XDG_CONFIG_HOME pointing inside it so no real consent record is read.

* consent on: every call is timed on its own (`perf_counter_ns`), 10,000 calls
  of a realistic mix (role selected, agent invoked, command completed, handoff
  clicked). The floor is the cost any Python JSONL logger pays: `json.dumps` of
  the very dicts `track()` wrote (read back from its file) plus one `os.write`
  on an already-open O_APPEND descriptor. The two are measured in alternating
  blocks, so both see the same background load.
* consent off: calls are timed in batches (per-call cost = batch time / batch
  size, median over batches) after a first call that fills the caches: inside a
  project with no answer recorded, with DO_NOT_TRACK=1, and outside any project.
"""

from __future__ import annotations

import gc
import json
import os
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flowspec_telemetry import track
from flowspec_telemetry.core import consent_rules
from flowspec_telemetry.core.tracker import default_tracker

_CALLS: list[tuple[str, dict[str, Any]]] = [
    ("role.selected", {"role": "dev", "source": "init"}),
    (
        "agent.invoked",
        {
            "role": "dev",
            "agent": "@secure-by-design-engineer",
            "command": "/flow:validate",
            "session_id": "claude-session-1234",
        },
    ),
    (
        "command.completed",
        {
            "role": "dev",
            "command": "/flow:implement",
            "duration_ms": 4321,
            "outcome": "success",
            "invocation_id": "inv_01JDQ7ZK3M8W4X2Y6B9C0D1E2F",
        },
    ),
    (
        "handoff.clicked",
        {"role": "arch", "from_agent": "@pm-planner", "to_agent": "@software-architect"},
    ),
]


def make_project(root: Path, workflow: Path, *, consent_yes: bool) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(workflow, root / "flowspec_workflow.yml")
    if consent_yes:
        consent_rules.write_record(
            consent_rules.project_config_path(root), consent_rules.new_record("yes")
        )
    return root


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary_us(samples_ns: list[int]) -> dict[str, float]:
    us = [s / 1000 for s in samples_ns]
    return {
        "n": len(us),
        "median_us": statistics.median(us),
        "p90_us": percentile(us, 90),
        "p99_us": percentile(us, 99),
        "p999_us": percentile(us, 99.9),
        "max_us": max(us),
        "mean_us": statistics.fmean(us),
        "min_us": min(us),
    }


def measure_on(root: Path, events: int, *, use_cwd: bool) -> dict[str, Any]:
    """Time `track()` per call and the json.dumps + os.write floor, in alternating blocks."""
    jsonl = root / ".flowspec" / "telemetry.jsonl"
    kwargs_root: dict[str, Any] = {} if use_cwd else {"project_root": root}
    os.chdir(root)
    for i in range(200):  # warm-up: salt, catalog cache, hash cache, code paths
        etype, kw = _CALLS[i % len(_CALLS)]
        track(etype, **kw, **kwargs_root)
    with open(jsonl, "rb") as fh:
        start_line = sum(1 for _ in fh)
    clock = time.perf_counter_ns
    track_ns: list[int] = []
    floor_ns: list[int] = []
    floor_path = root / "floor.jsonl"
    fd = os.open(floor_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
    dumps = json.dumps
    write = os.write
    block = 500
    done = 0
    failures = 0
    try:
        while done < events:
            n = min(block, events - done)
            for i in range(done, done + n):
                etype, kw = _CALLS[i % len(_CALLS)]
                t0 = clock()
                event_id = track(etype, **kw, **kwargs_root)
                t1 = clock()
                track_ns.append(t1 - t0)
                if event_id is None:
                    failures += 1
            with open(jsonl, "rb") as fh:
                lines = fh.readlines()[start_line + done : start_line + done + n]
            dicts = [json.loads(raw) for raw in lines]
            for event in dicts:
                t0 = clock()
                write(fd, (dumps(event, separators=(",", ":")) + "\n").encode())
                t1 = clock()
                floor_ns.append(t1 - t0)
            done += n
    finally:
        os.close(fd)
    if failures:
        raise SystemExit(f"track() recorded nothing for {failures} calls: consent not on?")
    return {"track": summary_us(track_ns), "floor": summary_us(floor_ns)}


def measure_rotating(root: Path, events: int, max_events: int) -> dict[str, Any]:
    """`track()` per call while the store rotates every `max_events` events: the calls
    that rotate are among those timed (compression runs in a background thread)."""
    os.environ["FLOWSPEC_TELEMETRY_MAX_EVENTS"] = str(max_events)
    default_tracker().invalidate()
    try:
        for i in range(200):
            etype, kw = _CALLS[i % len(_CALLS)]
            track(etype, **kw, project_root=root)
        clock = time.perf_counter_ns
        samples: list[int] = []
        for i in range(events):
            etype, kw = _CALLS[i % len(_CALLS)]
            t0 = clock()
            track(etype, **kw, project_root=root)
            samples.append(clock() - t0)
    finally:
        os.environ.pop("FLOWSPEC_TELEMETRY_MAX_EVENTS", None)
        default_tracker().invalidate()
    rotated = [p.name for p in (root / ".flowspec").iterdir() if p.name.startswith("telemetry-")]
    out = summary_us(samples)
    out["rotated_files"] = sum(1 for n in rotated if n.endswith((".jsonl.gz", ".jsonl")))
    return out


def per_call_us(fn: Callable[[], object], batches: int, size: int) -> dict[str, float]:
    """Median per-call cost over batches of `size` calls, after one warm-up call."""
    fn()
    clock = time.perf_counter_ns
    per: list[float] = []
    for _ in range(batches):
        t0 = clock()
        for _ in range(size):
            fn()
        per.append((clock() - t0) / size / 1000)
    return {"n": batches * size, "median_us": statistics.median(per), "min_us": min(per)}


def measure_off(scratch: Path, workflow: Path, batches: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    no_answer = make_project(scratch / "off-no-answer", workflow, consent_yes=False)
    consented = scratch / "on-cwd"
    outside = scratch / "outside-any-project"
    outside.mkdir(exist_ok=True)
    cases: list[tuple[str, Path, bool]] = [
        ("no_answer", no_answer, False),
        ("do_not_track", consented, True),
        ("no_project", outside, False),
    ]
    for name, folder, dnt in cases:
        os.chdir(folder)
        if dnt:
            os.environ["DO_NOT_TRACK"] = "1"
        try:
            before = sorted(p.name for p in folder.rglob("*"))
            results[name] = per_call_us(lambda: track("role.selected", role="dev"), batches, 1000)
            results[name]["wrote_nothing"] = sorted(p.name for p in folder.rglob("*")) == before
            if track("role.selected", role="dev") is not None:
                raise SystemExit(f"consent-off case {name} recorded an event")
        finally:
            os.environ.pop("DO_NOT_TRACK", None)
    return results


def main() -> int:
    scratch = Path(sys.argv[1])
    workflow = Path(sys.argv[2])
    events = int(sys.argv[3])
    off_batches = int(sys.argv[4])
    for key in list(os.environ):
        if key == "DO_NOT_TRACK" or key.startswith("FLOWSPEC_"):
            del os.environ[key]
    gc.collect()
    explicit = make_project(scratch / "on-explicit", workflow, consent_yes=True)
    by_cwd = make_project(scratch / "on-cwd", workflow, consent_yes=True)
    result: dict[str, Any] = {
        "python": sys.executable,
        "version": sys.version.split()[0],
        "gc_enabled": gc.isenabled(),
    }
    result["on_explicit_root"] = measure_on(explicit, events, use_cwd=False)
    default_tracker().invalidate()
    result["on_cwd"] = measure_on(by_cwd, events, use_cwd=True)
    rotating = make_project(scratch / "on-rotating", workflow, consent_yes=True)
    result["on_rotating"] = measure_rotating(rotating, events, max(100, events // 10))
    result["off"] = measure_off(scratch, workflow, off_batches)
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
