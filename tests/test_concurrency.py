"""Many processes appending to one project at once, across rotations.

8 writer processes start together (they wait on a "go" file) and each records
2,000 events while the live file rotates every 3,000 lines
(`FLOWSPEC_TELEMETRY_MAX_EVENTS`): afterwards every reader sees exactly 16,000
events, no malformed line and no duplicate `event_id`, before and after the
rotated files are compressed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flowspec_telemetry.core import rotation, store
from flowspec_telemetry.history import reader

pytestmark = pytest.mark.slow

WRITERS = 8
PER_WRITER = 2_000
ROTATE_EVERY = 3_000

_WRITER = """
import os, sys, time
from flowspec_telemetry import track
root, go, worker, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
while not os.path.exists(go):
    time.sleep(0.001)
failed = 0
for i in range(n):
    if track("agent.invoked", role="dev", agent="@backend-engineer",
             invocation_id=f"inv_{int(worker):06d}{i:020d}", project_root=root) is None:
        failed += 1
print(failed)
"""


def _read_all(root: Path) -> tuple[list[dict[str, object]], store.ReadStats]:
    read = store.ReadStats()
    events = list(store.iter_events(root, stats=read))
    fast = store.ReadStats()
    assert list(reader.iter_events(root, stats=fast)) == events
    assert (fast.events, fast.skipped) == (read.events, read.skipped)
    return events, read


def test_eight_processes_across_rotations_lose_and_duplicate_nothing(consented: Path) -> None:
    go = consented / "go"
    env = {
        **os.environ,
        "FLOWSPEC_TELEMETRY_ENABLED": "1",
        "FLOWSPEC_TELEMETRY_MAX_EVENTS": str(ROTATE_EVERY),
    }
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(consented), str(go), str(w), str(PER_WRITER)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(WRITERS)
    ]
    time.sleep(0.5)  # let every writer import and wait
    go.touch()
    results = [p.communicate(timeout=240) for p in procs]
    assert [(p.returncode, err) for p, (_, err) in zip(procs, results, strict=True)] == [
        (0, "")
    ] * WRITERS
    assert [out.strip() for out, _ in results] == ["0"] * WRITERS  # track() never gave up

    folder = consented / ".flowspec"
    rotated = store.archive_paths(folder)
    assert len(rotated) >= 1, "no rotation happened"

    for _ in range(2):  # as left by the writers, then with every rotated file compressed
        events, read = _read_all(consented)
        assert len(events) == WRITERS * PER_WRITER
        assert read.skipped == 0
        ids = [e["event_id"] for e in events]
        assert len(set(ids)) == len(ids)
        invocations = {e["invocation_id"] for e in events}
        assert len(invocations) == WRITERS * PER_WRITER  # each event of each writer, once
        rotation.compact(folder, rotation.Policy(), grace=0)
    assert all(p.name.endswith(".gz") for p in store.archive_paths(folder))
    # Every line is a whole event. A blank line may appear: the torn-line check
    # (`store.Appender.append`) can see another process's append half-copied and
    # start its own line with a newline; readers skip blanks, which are not events.
    for raw in (folder / "telemetry.jsonl").read_bytes().splitlines():
        assert not raw or (raw.startswith(b"{") and raw.endswith(b"}"))
