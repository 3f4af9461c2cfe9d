"""Writers and rotations killed with SIGKILL: readers work, nothing but the event in flight is lost.

A writer records numbered events (`invocation_id` = `inv_` + round + number,
kept verbatim) in a tight loop and is killed at a random moment, 20 times,
with the live file rotating every 400 lines so that some kills land in the
middle of a rotation. Afterwards every round's events are a gap-free prefix
of what it tried to write (only the one in flight may be missing), a writer
that runs to the end loses nothing, and every reader and CLI command works.
Compression killed between its steps (gz written, not yet renamed; renamed,
pending file not yet removed) loses and duplicates nothing.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flowspec_telemetry.core import rotation, store
from flowspec_telemetry.history import reader

from .conftest import run_cli

pytestmark = pytest.mark.slow

KILLS = 20
ROTATE_EVERY = 400

_WRITER = """
import os, sys
from flowspec_telemetry import track
root, round_, ready, n = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
track("role.selected", role="dev", project_root=root)
open(ready, "w").close()
for i in range(n):
    track("command.started", command="/flow:implement",
          invocation_id=f"inv_{round_:04d}{i:022d}", project_root=root)
"""


def _writer(root: Path, round_: int, n: int) -> tuple[subprocess.Popen[bytes], Path]:
    ready = root / f"ready-{round_}"
    env = {
        **os.environ,
        "FLOWSPEC_TELEMETRY_ENABLED": "1",
        "FLOWSPEC_TELEMETRY_MAX_EVENTS": str(ROTATE_EVERY),
    }
    proc = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(root), str(round_), str(ready), str(n)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    return proc, ready


def _numbers_by_round(root: Path) -> tuple[dict[int, list[int]], store.ReadStats]:
    read = store.ReadStats()
    events = list(store.iter_events(root, stats=read))
    assert list(reader.iter_events(root)) == events
    ids = [e["event_id"] for e in events]
    assert len(set(ids)) == len(ids), "duplicate events"
    rounds: dict[int, list[int]] = {}
    for event in events:
        inv = event.get("invocation_id")
        if isinstance(inv, str) and event["event_type"] == "command.started":
            rounds.setdefault(int(inv[4:8]), []).append(int(inv[8:]))
    return rounds, read


def test_writers_killed_in_a_tight_loop_lose_at_most_the_event_in_flight(
    consented: Path,
) -> None:
    rng = random.Random(7)  # noqa: S311 - kill timings, not cryptography
    for round_ in range(KILLS):
        proc, ready = _writer(consented, round_, 1_000_000)
        deadline = time.monotonic() + 30
        while not ready.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.002)
        time.sleep(rng.uniform(0.005, 0.08))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL, proc.stderr.read() if proc.stderr else ""

    final, _ = _writer(consented, KILLS, 500)  # a writer that runs to the end
    assert final.wait(timeout=60) == 0

    rounds, read = _numbers_by_round(consented)
    assert read.skipped <= KILLS  # at most one torn line per kill
    for round_ in range(KILLS):
        got = rounds.get(round_, [])
        assert got == list(range(len(got))), f"round {round_}: a gap or reordering"
    assert rounds[KILLS] == list(range(500))  # later events intact
    assert sum(len(v) for v in rounds.values()) > KILLS * 20, "the kills came too early to test"
    folder = consented / ".flowspec"
    assert store.archive_paths(folder), "no rotation happened"

    for args in (("view",), ("stats", "--json"), ("insights", "--json"), ("status",)):
        done = run_cli(*args, cwd=consented)
        assert (done.returncode, "Traceback" in done.stderr) == (0, False), (args, done.stderr)

    rotation.compact(folder, rotation.Policy(), grace=0)
    after, read_after = _numbers_by_round(consented)
    assert after == rounds
    assert read_after.skipped == read.skipped


_KILL_AT = """
import os, signal, sys
from pathlib import Path
from flowspec_telemetry.core import rotation
step = sys.argv[2]
real_rename, real_unlink = os.rename, os.unlink
def rename(src, dst, *a, **k):
    if step == "before-rename" and str(src).endswith(".tmp"):
        os.kill(os.getpid(), signal.SIGKILL)
    return real_rename(src, dst, *a, **k)
def unlink(path, *a, **k):
    if step == "before-unlink" and "telemetry-pending-" in str(path):
        os.kill(os.getpid(), signal.SIGKILL)
    return real_unlink(path, *a, **k)
os.rename, os.unlink = rename, unlink
rotation.compact(Path(sys.argv[1]), rotation.Policy(), grace=0)
"""


@pytest.mark.parametrize("step", ["before-rename", "before-unlink"])
def test_compression_killed_half_way_loses_and_duplicates_nothing(
    consented: Path, step: str
) -> None:
    proc, _ = _writer(consented, 0, 1_000)  # 1,000 events: two rotations at 400
    assert proc.wait(timeout=60) == 0
    folder = consented / ".flowspec"
    assert any("pending" in p.name for p in store.archive_paths(folder))
    before, read = _numbers_by_round(consented)
    assert before[0] == list(range(1_000))

    done = subprocess.run(
        [sys.executable, "-c", _KILL_AT, str(folder), step],
        env={**os.environ, "FLOWSPEC_TELEMETRY_ENABLED": "1"},
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == -signal.SIGKILL
    mid, read_mid = _numbers_by_round(consented)
    assert mid == before
    assert read_mid.skipped == read.skipped

    rotation.compact(folder, rotation.Policy(), grace=0)  # the next rotation finishes the job
    after, _ = _numbers_by_round(consented)
    assert after == before
    names = os.listdir(folder)
    assert not [n for n in names if n.endswith(".tmp") or "pending" in n], names
