"""Fuzzing beyond the per-module property tests (test_store, test_scan, test_tracker,
test_privacy): every reader and every command view over arbitrary bytes and over
well-formed JSON lines with arbitrary values; every `track()` argument at once with
arbitrary values; PII hidden by controls and placed across the scrubber's window;
and linear time through `track()` as well as `scrub()`."""

from __future__ import annotations

import gzip
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowspec_telemetry.analysis import insights
from flowspec_telemetry.analysis.stats import project_stats
from flowspec_telemetry.cli.app import run
from flowspec_telemetry.core import store
from flowspec_telemetry.core.events import FIELD_NAMES, RoleEvent, parse_line
from flowspec_telemetry.core.privacy import scrub
from flowspec_telemetry.core.tracker import Tracker
from flowspec_telemetry.history import reader, selection
from flowspec_telemetry.report.export import render

from .test_privacy import SCRUBBABLE

FIXTURES = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
KEYS = st.sampled_from([*FIELD_NAMES, "metadata", "extra"])
event_like = st.dictionaries(KEYS, json_values, max_size=12).map(
    lambda d: {**d, "event_type": d.get("event_type", "agent.invoked")}
)


def _every_reader(root: Path) -> None:
    for _ in store.iter_events(root):
        pass
    store.tail_events(root, 7)
    list(reader.iter_events(root))
    list(selection.select(root, 5, selection.Filter(None, None, None, None)))
    list(selection.stream(root, selection.Filter(None, "dev", "2026-01-01T00:00:00.000Z", None)))
    project_stats(root).to_json()
    insights.project_insights(root)
    for fmt in ("csv", "json", "jsonl"):
        for _ in render(reader.iter_events(root), fmt):
            pass


def _write(root: Path, live: bytes, archive: bytes | None = None) -> None:
    folder = root / ".flowspec"
    folder.mkdir(exist_ok=True)
    (folder / "telemetry.jsonl").write_bytes(live)
    if archive is not None:
        (folder / "telemetry-20261101-1.jsonl.gz").write_bytes(archive)


@FIXTURES
@given(live=st.binary(max_size=2000), archive=st.binary(max_size=300), gz=st.booleans())
def test_every_reader_survives_arbitrary_bytes(
    tmp_path: Path, live: bytes, archive: bytes, gz: bool
) -> None:
    _write(tmp_path, live, gzip.compress(archive) if gz else archive)
    _every_reader(tmp_path)


@FIXTURES
@given(st.lists(event_like, min_size=1, max_size=6))
def test_every_reader_survives_json_lines_with_values_of_any_type(
    tmp_path: Path, events: list[dict[str, Any]]
) -> None:
    _write(tmp_path, b"".join(json.dumps(e).encode() + b"\n" for e in events))
    _every_reader(tmp_path)


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(event_like, min_size=1, max_size=4))
def test_every_command_view_survives_json_lines_with_values_of_any_type(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    events: list[dict[str, Any]],
) -> None:  # fmt: skip
    _write(project, b"".join(json.dumps(e).encode() + b"\n" for e in events))
    monkeypatch.chdir(project)
    for args in (["view"], ["view", "--json"], ["stats"], ["insights"], ["dashboard"],
                 ["export", "--format", "csv", "--output", "-"]):  # fmt: skip
        assert run(args) == 0, args  # an unexpected exception would propagate here
    capsys.readouterr()


class _Weird:
    def __str__(self) -> str:
        raise RuntimeError("no text")


anything = st.one_of(
    json_values,
    st.binary(max_size=40),
    st.text(alphabet=st.characters(), max_size=60),  # lone surrogates included
    st.just(float("nan")),
    st.just(10**40),
    st.builds(_Weird),
    st.builds(object),
)
ARGS = ("role", "previous_role", "command", "agent", "agent_role", "from_agent", "to_agent",
        "session_id", "invocation_id", "duration_ms", "outcome", "source")  # fmt: skip


@FIXTURES
@given(
    st.sampled_from(list(RoleEvent)) | st.sampled_from([e.value for e in RoleEvent]),
    st.fixed_dictionaries({}, optional=dict.fromkeys(ARGS, anything)),
)
def test_track_with_every_argument_fuzzed_writes_a_line_that_parses_back(
    consented: Path, event_type: object, kwargs: dict[str, object]
) -> None:
    live = consented / ".flowspec" / "telemetry.jsonl"
    before = live.read_bytes() if live.exists() else b""
    event_id = Tracker().track(event_type, project_root=consented, **kwargs)  # type: ignore[arg-type]
    after = live.read_bytes() if live.exists() else b""
    if event_id is None:  # only a value that cannot even become text drops the event
        assert any(isinstance(v, _Weird) for v in kwargs.values())
        assert after == before
        return
    new = after[len(before) :]
    assert new.endswith(b"\n") and new.count(b"\n") == 1
    event = parse_line(new)
    assert event is not None and event["event_id"] == event_id
    json.loads(new)  # strict JSON: no NaN, no lone surrogates


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@FIXTURES
@given(
    st.sampled_from([e.value for e in RoleEvent]) | st.text(max_size=30),
    st.one_of(
        st.none(),  # found from the working folder: the consented project
        st.just("project"),  # the project's own path
        st.sampled_from(["", ".", "./", "project-elsewhere", "../project"]),
        st.text(max_size=30),
        st.binary(max_size=30),
    ),
)
def test_track_never_raises_on_any_event_type_or_project(
    consented: Path, capsys: pytest.CaptureFixture[str], event_type: str, root: object
) -> None:
    """Any event type and any project root: an event only for a valid type in the project.

    Otherwise nothing at all: no exception, no byte written (in the project
    or under the working folder, where a relative root would point), no output.
    """
    if root == "project":
        root = str(consented)
    elif root == "project-elsewhere":
        root = str(consented.parent / "elsewhere")
    workdir = consented.parent
    before = _tree(workdir)
    here = os.getcwd()
    os.chdir(consented)
    try:
        event_id = Tracker().track(event_type, role="dev", project_root=root)  # type: ignore[arg-type]
    finally:
        os.chdir(here)
    after = _tree(workdir)
    assert capsys.readouterr().out == ""
    valid = event_type in {e.value for e in RoleEvent}
    # An explicit root is the project folder itself (never walked up): "" or "." is the cwd.
    here_root = root is None or (
        isinstance(root, str)
        and "\x00" not in root
        and os.path.abspath(os.path.join(consented, root)) == str(consented)
    )
    if valid and here_root:
        assert event_id is not None and event_id.startswith("evt_")
        live = "project/.flowspec/telemetry.jsonl"
        new = after[live][len(before.get(live, b"")) :]
        assert new.count(b"\n") == 1
        event = parse_line(new)
        assert event is not None and event["event_id"] == event_id
        assert event["event_type"] == event_type
    else:
        assert event_id is None
        assert after == before


HIDERS = st.sampled_from(["\u200b", "\u202e", "\x1b", "\x00", "\ufeff", "\u2066", "\x9b"])


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(SCRUBBABLE), st.lists(st.tuples(st.integers(0, 80), HIDERS), max_size=4))
def test_controls_inside_a_secret_do_not_hide_it(
    item: tuple[str, str], cuts: list[tuple[int, str]]
) -> None:
    _, value = item
    text = value
    for at, hider in cuts:
        cut = min(at, len(text))
        text = text[:cut] + hider + text[cut:]
    assert value not in scrub(f"id: {text} end", limit=100_000)


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(SCRUBBABLE),
    st.integers(0, 20_000),
    st.sampled_from([" ", "a", ".", "/", "@", "1", ":"]),
    st.integers(16, 600),
)
def test_a_secret_anywhere_in_a_long_text_never_survives_the_window(
    item: tuple[str, str], offset: int, filler: str, limit: int
) -> None:
    """The scrubber reads only a window of long texts; a secret across its edge must not leak."""
    _, value = item
    text = filler * offset + " " + value + " " + filler * 50
    cleaned = scrub(text, limit=limit)
    assert len(cleaned) <= limit
    assert value not in cleaned
    assert value[: max(12, len(value) // 2)] not in cleaned or value[:12].strip(filler) == ""


SHAPES = {
    "no-at": "a" * 1_000_000,
    "many-at": "@" * 1_000_000,
    "at-dots": "a@b." * 250_000,
    "long-path": "/home/x" * 142_857,
    "digits-dots": "1.2" * 333_333,
    "mixed": "x:1@y.z/~\\" * 100_000,
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_track_is_linear_on_hostile_1mb_values(consented: Path, shape: str) -> None:
    """A complexity bound only (the benchmark measures): every free field gets 1 MB."""
    tracker = Tracker()
    tracker.track("role.selected", project_root=consented)  # open the project
    value = SHAPES[shape]
    started = time.perf_counter()
    event_id = tracker.track(
        "handoff.offered", role=value, command=value, agent=value, from_agent=value,
        to_agent=value, session_id=value, invocation_id=value, outcome=value, source=value,
        project_root=consented,
    )  # fmt: skip
    scrub(value)
    assert time.perf_counter() - started < 1.0
    assert event_id is not None
