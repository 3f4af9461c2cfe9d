"""The tracker is thread-safe: the class of "a descriptor closed under a writer".

While threads of the host call `track()`, other threads of the host open,
write and close files of their own (so descriptor numbers are reused at once),
and another process rotates the store (it writes with a tiny rotation limit)
and clears it. Afterwards:

* no byte of telemetry is in any of the host's files, nor in the lock or the
  salt file: the tracker never wrote to a descriptor that was not its own;
* every event that `track()` said it recorded (returned an id) after the last
  `clear` ended is in the store, and nothing is in the store that `track()` did
  not report: the returned ids are exactly the truth.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from flowspec_telemetry.core import rotation, store
from flowspec_telemetry.core.tracker import Tracker
from flowspec_telemetry.history import reader as scan

pytestmark = pytest.mark.slow

TRACKERS = 6
PER_THREAD = 2000
HOST_THREADS = 6
ROTATE_EVERY = 40
CLEARS = 8

# Another process sharing the project: it writes (so the live file rotates
# under our descriptors) and clears the store now and then, logging when each
# clear started and ended on the system-wide monotonic clock.
_NEIGHBOUR = """
import os, sys, time
from pathlib import Path
from flowspec_telemetry import track
from flowspec_telemetry.history.erase import clear
root, go, stop, log, done = Path(sys.argv[1]), *sys.argv[2:6]
CLEARS = int(sys.argv[6])
while not os.path.exists(go):
    time.sleep(0.001)
i = clears = 0
with open(log, "w") as out:
    while not os.path.exists(stop):
        i += 1
        track("command.started", command="/flow:implement", project_root=root)
        if i % 150 == 0 and clears < CLEARS:
            start = time.monotonic()
            clear(root)
            out.write(f"{start} {time.monotonic()}\\n")
            out.flush()
            clears += 1
            if clears == CLEARS:
                Path(done).touch()
"""


def _host_files(
    folder: Path, stop: threading.Event, written: dict[Path, bytes], errors: list[OSError]
) -> None:
    """The host's own work: files opened, written in two parts and closed, in a loop.

    Each file stays open a moment, so a descriptor number the tracker closed
    is soon reused by one of them, and held while the tracker might write.
    """
    n = 0
    me = threading.get_ident()
    while not stop.is_set():
        path = folder / f"host-{me}-{n % 50}.txt"
        body = f"host file {n}\n".encode()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, body)
            time.sleep(0.0002)
            os.write(fd, body)
            os.close(fd)
        except OSError as exc:  # the tracker closed the host's descriptor
            errors.append(exc)
            return
        written[path] = body * 2
        n += 1


def _tracking(
    tracker: Tracker, root: Path, worker: int, done: Path, out: list[tuple[str, float]]
) -> None:
    """Track PER_THREAD times, and on until 200 calls after the neighbour's last clear.

    Never past a minute: a neighbour that died before its last clear fails the
    test's assertions instead of hanging it.
    """
    i = after = 0
    deadline = time.monotonic() + 60
    while (i < PER_THREAD or after < 200) and time.monotonic() < deadline:
        i += 1
        if after or done.exists():
            after += 1
        started = time.monotonic()
        event_id = tracker.track(
            "agent.invoked",
            role="dev",
            agent="@backend-engineer",
            invocation_id=f"inv_{worker:06d}{i:020d}",
            project_root=root,
        )
        if event_id is not None:
            out.append((event_id, started))
        if i % 31 == 0:  # the host's other uses of the tracker, from any thread
            tracker.current_role(root)
            if worker == 0:
                tracker.invalidate()


@pytest.mark.parametrize("attempt", [1, 2])  # a race shows up in most runs; two make it sure
def test_threads_never_write_to_a_reused_descriptor_and_ids_tell_the_truth(
    consented: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, attempt: int
) -> None:
    monkeypatch.setenv("FLOWSPEC_TELEMETRY_MAX_EVENTS", str(ROTATE_EVERY))
    host_dir = tmp_path / "host"
    host_dir.mkdir()
    go, stop, log = tmp_path / "go", tmp_path / "stop", tmp_path / "clears.log"
    done = tmp_path / "cleared"
    args = [str(consented), str(go), str(stop), str(log), str(done), str(CLEARS)]
    neighbour = subprocess.Popen(
        [sys.executable, "-c", _NEIGHBOUR, *args],
        env={**os.environ, "FLOWSPEC_TELEMETRY_MAX_EVENTS": str(ROTATE_EVERY)},
        stderr=subprocess.PIPE,
    )
    tracker = Tracker()
    written: dict[Path, bytes] = {}
    host_errors: list[OSError] = []
    returned: list[list[tuple[str, float]]] = [[] for _ in range(TRACKERS)]
    host_stop = threading.Event()
    hosts = [
        threading.Thread(target=_host_files, args=(host_dir, host_stop, written, host_errors))
        for _ in range(HOST_THREADS)
    ]
    workers = [
        threading.Thread(target=_tracking, args=(tracker, consented, n, done, returned[n]))
        for n in range(TRACKERS)
    ]
    old_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible: races show up
    try:
        for t in hosts:
            t.start()
        go.touch()
        for t in workers:
            t.start()
        for t in workers:
            t.join(timeout=120)
    finally:
        stop.touch()
        host_stop.set()
        for t in hosts:
            t.join(timeout=30)
        sys.setswitchinterval(old_interval)
    _, neighbour_err = neighbour.communicate(timeout=60)
    assert neighbour.returncode == 0, neighbour_err.decode(errors="replace")
    tracker.close()

    # No byte of telemetry anywhere but in the store's own files.
    assert host_errors == [], "the tracker closed a descriptor of the host's"
    for path, body in written.items():
        assert path.read_bytes() == body, f"telemetry written into the host's {path.name}"
    folder = consented / ".flowspec"
    lock = folder / rotation.LOCK_FILE
    assert not lock.exists() or lock.read_bytes() == b"", "telemetry written into the lock"
    salt = folder / "telemetry.salt"
    assert not salt.exists() or len(salt.read_bytes()) == 32

    # The ids track() returned are the truth: an event whose call began after
    # the last clear ended is stored; an event of ours in the store was reported.
    clears = [tuple(map(float, line.split())) for line in log.read_text().splitlines()]
    assert len(clears) == CLEARS
    last_clear_end = max(end for _, end in clears)
    read = store.ReadStats()
    stored = {str(e["event_id"]): e for e in scan.iter_events(consented, stats=read)}
    assert read.skipped == 0
    ours = {event_id: began for per in returned for event_id, began in per}
    assert sum(len(per) for per in returned) == len(ours), "an id was returned twice"
    late = {e for e, began in ours.items() if began > last_clear_end}
    assert len(late) > TRACKERS * 50, "too few events after the last clear to prove anything"
    missing = late - stored.keys()
    assert not missing, f"{len(missing)} events reported as recorded but not stored"
    unreported = [
        e
        for e, event in stored.items()
        if e not in ours and event["event_type"] != "command.started"
    ]
    assert not unreported, f"{len(unreported)} events stored that track() said it did not record"


def _our_descriptor(root: Path) -> int:
    """The descriptor this process holds on the live file (from /proc, not private state)."""
    live = os.path.realpath(root / ".flowspec" / "telemetry.jsonl")
    found = [
        int(fd)
        for fd in os.listdir("/proc/self/fd")
        if os.path.realpath(f"/proc/self/fd/{fd}") == live
    ]
    assert len(found) == 1, found
    return found[0]


def test_a_descriptor_the_host_closed_and_reused_is_never_written_or_closed(
    consented: Path, tmp_path: Path
) -> None:
    """A host that closes every descriptor (a daemon, a sandbox) and opens its own
    file at the same number: the next event goes to the telemetry file, not theirs."""
    tracker = Tracker()
    assert tracker.track("role.selected", role="dev", project_root=consented)
    fd = _our_descriptor(consented)
    os.close(fd)
    host_file = tmp_path / "host.txt"
    host_fd = os.open(host_file, os.O_RDWR | os.O_CREAT, 0o600)
    assert host_fd == fd  # the lowest free number: ours, reused
    try:
        second = tracker.track("role.selected", role="qa", project_root=consented)
        assert second is not None
        os.write(host_fd, b"still mine")  # the tracker did not close it either
    finally:
        os.close(host_fd)
        tracker.close()
    assert host_file.read_bytes() == b"still mine"
    stored = [e["event_id"] for e in scan.iter_events(consented)]
    assert stored[-1] == second and len(stored) == 2


def test_a_forked_child_tracks_although_a_parent_thread_held_the_lock(consented: Path) -> None:
    """fork() copies a held lock but not the thread holding it: the child must not wait."""
    inside, release = threading.Event(), threading.Event()

    def slow_clock() -> int:  # runs inside track(), with the tracker's lock held
        inside.set()
        release.wait(10)
        return time.time_ns()

    tracker = Tracker(clock=slow_clock)
    holder = threading.Thread(
        target=tracker.track, args=("role.selected",), kwargs={"project_root": consented}
    )
    holder.start()
    assert inside.wait(10)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through its exit code
        release.set()  # the child's copy of the event; its thread does not exist here
        start = time.monotonic()
        ok = tracker.track("role.selected", role="dev", project_root=consented) is not None
        os._exit(0 if ok and time.monotonic() - start < 0.2 else 1)
    release.set()
    holder.join(10)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_a_call_from_inside_a_call_is_dropped_not_deadlocked(consented: Path) -> None:
    """A signal handler or a clock callback that tracks while the same thread is tracking."""
    nested: list[str | None] = []

    def clock() -> int:
        nested.append(tracker.track("role.selected", role="qa", project_root=consented))
        return time.time_ns()

    tracker = Tracker(clock=clock)
    start = time.monotonic()
    outer = tracker.track("role.selected", role="dev", project_root=consented)
    assert time.monotonic() - start < 0.2
    assert outer is not None and nested == [None]
    assert [e["event_id"] for e in scan.iter_events(consented)] == [outer]


@pytest.mark.parametrize("retention", ["99999999999999", "9" * 400, "36526"])
def test_an_event_written_is_reported_as_recorded_whatever_rotation_then_does(
    consented: Path, monkeypatch: pytest.MonkeyPatch, retention: str
) -> None:
    """13.14: a huge retention made every rotating call report None for an event it wrote."""
    monkeypatch.setenv("FLOWSPEC_TELEMETRY_MAX_EVENTS", "20")
    monkeypatch.setenv("FLOWSPEC_TELEMETRY_RETENTION_DAYS", retention)
    tracker = Tracker()
    ids = [tracker.track("role.selected", role="dev", project_root=consented) for _ in range(100)]
    tracker.close()
    assert None not in ids
    assert [e["event_id"] for e in scan.iter_events(consented)] == ids
    assert len(store.archive_paths(consented / ".flowspec")) >= 4, "it never rotated"


def test_a_failing_rotation_does_not_turn_a_written_event_into_none(
    consented: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The class behind 13.14: any error after the write still reports the event."""
    monkeypatch.setenv("FLOWSPEC_TELEMETRY_MAX_EVENTS", "5")

    def broken(*_: object) -> None:
        raise OSError(5, "I/O error")

    monkeypatch.setattr(rotation, "rotate_if_due", broken)
    tracker = Tracker()
    ids = [tracker.track("role.selected", role="dev", project_root=consented) for _ in range(30)]
    tracker.close()
    assert None not in ids
    assert [e["event_id"] for e in scan.iter_events(consented)] == ids
