"""Archive summaries: the same answers with and without them, and never trusted blindly."""

from __future__ import annotations

import gzip
import itertools
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowspec_telemetry.analysis import _distinct
from flowspec_telemetry.analysis._distinct import Distinct
from flowspec_telemetry.analysis.insights import project_insights
from flowspec_telemetry.analysis.stats import project_stats
from flowspec_telemetry.core import rotation
from flowspec_telemetry.core.events import dumps_line
from flowspec_telemetry.history import _summary, reader

DAYS = ("2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04")
TYPES = (
    "role.selected",
    "role.changed",
    "command.started",
    "command.completed",
    "command.failed",
    "agent.invoked",
    "handoff.offered",
    "handoff.clicked",
)


@st.composite
def events(draw: Any) -> dict[str, Any]:
    etype = draw(st.sampled_from(TYPES))
    event: dict[str, Any] = {
        "schema_version": draw(st.sampled_from(["1.0", "1.0", "0", "2.0"])),
        "event_id": "evt_x",
        "event_type": etype,
        "role": draw(st.sampled_from(["dev", "qa", "sec", None, "hmac:00112233445566ff"])),
        "command": draw(st.sampled_from(["/flow:plan", "/flow:implement", None])),
        "agent": draw(st.sampled_from(["@backend-engineer", "@secure-by-design-engineer", None])),
        "session_id": draw(st.sampled_from([f"hmac:{i:016x}" for i in range(6)] + ["s-odd"])),
    }
    when = draw(st.integers(0, 3))
    if when == 0:
        event["timestamp"] = 12345  # not text: outside every window, inside "everything"
    else:
        day = draw(st.sampled_from(DAYS))
        event["timestamp"] = (
            f"{day}T{draw(st.integers(0, 23)):02d}:{draw(st.integers(0, 59)):02d}:00.000Z"
        )
    if etype in ("command.completed", "command.failed"):
        event["duration_ms"] = draw(st.integers(0, 10**7))
    if etype.startswith("handoff"):
        event["handoff"] = {"from_agent": "@pm-planner", "to_agent": "@backend-engineer"}
    if etype == "role.selected":
        event["source"] = draw(st.sampled_from(["init", "cli"]))
    return event


LINES = st.one_of(events().map(dumps_line), st.sampled_from([b"{torn\n", b"\xff\xfe\n", b"\n"]))
WINDOW_ENDS = st.sampled_from(
    [None, "2026-11-02T00:00:00.000Z", "2026-11-02T12:30:00.000Z", "2026-11-04T00:00:00.000Z"]
)


def _write(folder: Path, archives: list[list[bytes]], live: list[bytes]) -> None:
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    for n, lines in enumerate(archives, 1):
        (folder / f"telemetry-20261101-{n}.jsonl.gz").write_bytes(gzip.compress(b"".join(lines)))
    (folder / "telemetry.jsonl").write_bytes(b"".join(live))


def _answers(root: Path, since: str | None, until: str | None, **kw: Any) -> tuple[Any, Any]:
    return (
        project_insights(root, since=since, until=until, workers=1, **kw),
        project_stats(root, since=since, until=until, workers=1, **kw).to_json(),
    )


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    archives=st.lists(st.lists(LINES, max_size=25), max_size=4),
    live=st.lists(LINES, max_size=10),
    since=WINDOW_ENDS,
    until=WINDOW_ENDS,
)
def test_the_same_answers_with_and_without_summaries(
    archives: list[list[bytes]],
    live: list[bytes],
    since: str | None,
    until: str | None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(reader, "ROLLUP_SIZE", 2)  # rollups of two archives: some form here
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _write(root / ".flowspec", archives, live)
        reference = _answers(root, since, until, summaries=False)
        assert not list((root / ".flowspec").glob("*.summary.json"))  # the reference writes none
        cold = _answers(root, since, until)  # builds the summaries
        assert len(list((root / ".flowspec").glob("*.summary.json"))) == len(archives)
        warm = _answers(root, since, until)  # merges them
        everything = _answers(root, None, None)  # another window; forms the rollups
        rolled = _answers(root, since, until)  # merges rollups where the window allows
        assert json.dumps(cold) == json.dumps(reference)  # key order (ties) included
        assert json.dumps(warm) == json.dumps(reference)
        assert json.dumps(rolled) == json.dumps(reference)
        assert json.dumps(everything) == json.dumps(_answers(root, None, None, summaries=False))
        rollups = list((root / ".flowspec").glob("*.rollup.json"))
        assert len(rollups) == len(archives) // 2


def _archived(consented: Path) -> Path:
    folder = consented / ".flowspec"
    folder.mkdir(exist_ok=True)
    lines = [
        dumps_line(
            {
                "schema_version": "1.0",
                "event_type": "command.completed",
                "timestamp": f"2026-11-0{1 + i % 3}T10:00:00.000Z",
                "role": "dev",
                "command": "/flow:plan",
                "duration_ms": i,
            }
        )
        for i in range(300)
    ]
    archive = folder / "telemetry-20261101-1.jsonl.gz"
    archive.write_bytes(gzip.compress(b"".join(lines) + b"{torn\n"))
    (folder / "telemetry.jsonl").write_bytes(b"".join(lines[:10]))
    return archive


def test_a_summary_is_written_private_beside_its_archive(consented: Path) -> None:
    archive = _archived(consented)
    first = project_insights(consented)
    summary = _summary.summary_path(archive)
    assert summary.name == "telemetry-20261101-1.summary.json"
    assert summary.stat().st_mode & 0o777 == 0o600
    assert project_insights(consented) == first
    assert first["based_on"]["events"] == 310
    assert first["based_on"]["skipped_lines"] == 1


@pytest.mark.parametrize(
    "damage",
    [
        lambda p: p.write_bytes(b"not json"),
        lambda p: p.write_bytes(p.read_bytes().replace(b'"format":2', b'"format":1')),
        lambda p: p.write_bytes(p.read_bytes()[:-40]),
        lambda p: p.write_bytes(p.read_bytes().replace(b'["dev",', b'["dev",1,', 1)),
        lambda p: p.write_bytes(p.read_bytes().replace(b'"n":', b'"n":-', 1)),
        lambda p: p.write_bytes(p.read_bytes().replace(b'"events":310', b'"events":"310"', 1)),
        lambda p: p.write_bytes(b"\n".join(p.read_bytes().split(b"\n")[:1]) + b"\n[]\n"),
    ],
    ids=["garbage", "old-format", "cut", "bad-count", "negative", "wrong-type", "bad-states"],
)
def test_a_damaged_summary_is_bypassed_and_rebuilt(consented: Path, damage: Any) -> None:
    archive = _archived(consented)
    want = project_insights(consented, summaries=False)
    want_stats = project_stats(consented, summaries=False)
    project_insights(consented)
    project_stats(consented)
    summary = _summary.summary_path(archive)
    damage(summary)
    assert project_insights(consented) == want
    assert project_stats(consented) == want_stats
    ident = _summary.archive_id(archive)
    assert ident is not None
    assert _summary.load(archive, ident) is not None  # rebuilt


def test_a_stale_summary_is_not_used(consented: Path) -> None:
    archive = _archived(consented)
    project_stats(consented)
    # The archive is rewritten with other events of the same size and time.
    st_before = archive.stat()
    data = gzip.decompress(archive.read_bytes()).replace(b'"role":"dev"', b'"role":"qa!"')
    data = data.replace(b"/flow:plan", b"/flow:pla")  # keep the length the same
    archive.write_bytes(gzip.compress(data))
    os.utime(archive, ns=(st_before.st_atime_ns, st_before.st_mtime_ns))
    assert project_stats(consented) == project_stats(consented, summaries=False)
    assert project_stats(consented).by_role["qa!"] == 300


def test_a_symlinked_summary_is_never_followed(consented: Path, tmp_path: Path) -> None:
    archive = _archived(consented)
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_text("do not touch")
    summary = _summary.summary_path(archive)
    summary.symlink_to(elsewhere)
    want = project_stats(consented, summaries=False)
    assert project_stats(consented) == want
    assert elsewhere.read_text() == "do not touch"
    assert not summary.is_symlink()  # replaced by a real summary; the target untouched
    assert project_stats(consented) == want


def test_a_read_only_folder_still_answers(consented: Path) -> None:
    archive = _archived(consented)
    folder = archive.parent
    want = project_stats(consented, summaries=False)
    folder.chmod(0o500)
    try:
        if os.access(folder, os.W_OK):
            pytest.skip("running as a user who can write anywhere (root)")
        assert project_stats(consented) == want
        assert not _summary.summary_path(archive).exists()
    finally:
        folder.chmod(0o700)


def test_a_window_inside_one_archive_reads_it_and_one_outside_skips_it(consented: Path) -> None:
    _archived(consented)
    project_stats(consented)
    for since, until in (
        ("2026-11-02T00:00:00.000Z", "2026-11-03T00:00:00.000Z"),  # cuts the archive
        ("2026-12-01T00:00:00.000Z", None),  # misses it
        ("2026-10-01T00:00:00.000Z", "2026-12-01T00:00:00.000Z"),  # covers it
    ):
        got = project_stats(consented, since=since, until=until)
        assert got == project_stats(consented, since=since, until=until, summaries=False)


def test_retention_and_clear_remove_summaries(consented: Path) -> None:
    archive = _archived(consented)
    project_stats(consented)
    summary = _summary.summary_path(archive)
    assert summary.exists()
    orphan = archive.with_name("telemetry-20261001-7.summary.json")
    orphan.write_text("{}")
    rotation.enforce_limits(archive.parent, rotation.Policy(retention_days=10**5))
    assert summary.exists()
    assert not orphan.exists()  # its archive is gone
    rotation.enforce_limits(archive.parent, rotation.Policy(max_total_bytes=1))
    assert not archive.exists()
    assert not summary.exists()


def test_a_parallel_cold_read_writes_the_same_summaries(
    consented: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = consented / ".flowspec"
    _write(
        folder,
        [[dumps_line(_event(i, n)) for i in range(200)] for n in range(3)],
        [dumps_line(_event(i, 9)) for i in range(50)],
    )
    want = project_insights(consented, summaries=False)
    monkeypatch.setattr(reader, "PARALLEL_MIN_BYTES", 0)
    assert project_insights(consented, workers=2) == want
    assert len(list(folder.glob("*.summary.json"))) == 3
    assert project_insights(consented, workers=2) == want


def _event(i: int, n: int) -> dict[str, Any]:
    return {
        "schema_version": "1.0",
        "event_type": "agent.invoked",
        "timestamp": f"2026-11-0{1 + n % 4}T10:{i % 60:02d}:00.000Z",
        "role": "dev",
        "agent": "@secure-by-design-engineer",
        "session_id": f"hmac:{i % 37:016x}",
    }


# ------------------------------------------------------------------ Distinct


@given(st.lists(st.text(max_size=8), max_size=60), st.lists(st.integers(0, 60), max_size=4))
def test_distinct_merges_like_one_pass(values: list[str], cuts: list[int]) -> None:
    one = Distinct(values)
    bounds = sorted({0, len(values), *(min(c, len(values)) for c in cuts)})
    merged = Distinct()
    for a, b in itertools.pairwise(bounds):
        merged.merge(Distinct.from_state(Distinct(values[a:b]).to_state(with_bitmap=True)))
    assert merged == one
    assert len(one) == len(set(values))


def test_distinct_switches_to_a_bitmap_past_its_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_distinct, "EXACT_LIMIT", 100)
    values = [f"hmac:{i * 7919:016x}" for i in range(5000)]
    one = Distinct(values)
    assert not one.is_exact
    assert abs(len(one) - 5000) <= 50  # linear counting: well within 1 %
    parts = [Distinct(values[i : i + 700]) for i in range(0, 5000, 700)]
    merged = Distinct()
    for part in parts:
        merged.merge_state(part.to_state(with_bitmap=True))
    assert merged == one
    assert Distinct.from_state(one.to_state()) == one
    with pytest.raises(ValueError, match="bitmap"):
        Distinct.from_state({"bits": "AAAA"})


def test_a_rollup_stands_for_its_archives_only_while_they_are_unchanged(
    consented: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reader, "ROLLUP_SIZE", 2)
    folder = consented / ".flowspec"
    _write(folder, [[dumps_line(_event(i, n)) for i in range(50)] for n in range(5)], [])
    want = project_insights(consented, summaries=False)
    assert project_insights(consented) == want  # builds summaries and two rollups
    rollups = sorted(folder.glob("*.rollup.json"))
    assert [p.name for p in rollups] == [
        "telemetry-20261101-1.rollup.json",
        "telemetry-20261101-3.rollup.json",
    ]
    assert rollups[0].stat().st_mode & 0o777 == 0o600
    assert project_insights(consented) == want  # from the rollups
    # The second archive is replaced: the first rollup no longer stands for it.
    second = folder / "telemetry-20261101-2.jsonl.gz"
    second.write_bytes(gzip.compress(b"".join(dumps_line(_event(i, 7)) for i in range(9))))
    want = project_insights(consented, summaries=False)
    assert project_insights(consented) == want
    assert project_insights(consented) == want
    # A damaged rollup is ignored.
    rollups[1].write_bytes(rollups[1].read_bytes().replace(b'"events":', b'"events":-', 1))
    assert project_insights(consented) == want
    # Retention takes the oldest archive, and the rollup anchored at it.
    (folder / "telemetry-20261101-1.jsonl.gz").unlink()
    rotation.enforce_limits(folder, rotation.Policy(retention_days=10**5))
    assert not rollups[0].exists()
    assert project_insights(consented) == project_insights(consented, summaries=False)


def test_view_with_a_window_skips_archives_outside_it_and_shows_the_same(consented: Path) -> None:
    from flowspec_telemetry.history import selection

    folder = consented / ".flowspec"
    _write(folder, [[dumps_line(_event(i, n)) for i in range(40)] for n in range(4)], [])
    filt = selection.Filter(since="2026-11-04T00:00:00.000Z")
    before, after = reader.ReadStats(), reader.ReadStats()
    want = selection.select(consented, 1000, filt, stats=before)
    project_stats(consented)  # writes the summaries
    assert selection.select(consented, 1000, filt, stats=after) == want
    assert len(want) == 40
    assert (after.events, after.skipped, after.files) == (
        before.events,
        before.skipped,
        before.files,
    )


def test_the_insights_state_holds_every_field_a_fold_fills() -> None:
    """A field added to `Insights` must be added to its summary state too (or be a parameter)."""
    import dataclasses

    from flowspec_telemetry.analysis.insights import STATE_FIELDS, Insights

    parameters = {"security_agents", "developer_role", "security_role"}
    fields = {f.name for f in dataclasses.fields(Insights)} - parameters
    assert fields == set(STATE_FIELDS)
