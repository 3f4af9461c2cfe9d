"""`query`: dates, windows, filters and the bounded newest-last selection for `view`."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flowspec_telemetry.core.events import dumps_line
from flowspec_telemetry.core.store import ReadStats
from flowspec_telemetry.history import selection
from flowspec_telemetry.history.selection import (
    Filter,
    QueryError,
    check_event_type,
    parse_when,
    select,
    stream,
    window,
)

NOW = datetime(2026, 11, 20, 12, 0, 0, 250_000, tzinfo=UTC)


def ev(
    n: int, event_type: str = "role.selected", role: str = "dev", day: int = 2
) -> dict[str, Any]:
    return {
        "schema_version": "1.0",
        "event_id": f"evt_{n}",
        "timestamp": f"2026-11-{day:02d}T10:{n // 60 % 60:02d}:{n % 60:02d}.000Z",
        "event_type": event_type,
        "role": role,
    }


def write(path: Path, events: list[dict[str, Any]], extra: bytes = b"") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = b"".join(dumps_line(e) for e in events) + extra
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)


def ids(events: list[dict[str, Any]]) -> list[str]:
    return [e["event_id"] for e in events]


# ------------------------------------------------------------------ dates


@pytest.mark.parametrize(
    ("text", "end", "expected"),
    [
        ("2026-11-02", False, "2026-11-02T00:00:00.000Z"),
        ("2026-11-02", True, "2026-11-03T00:00:00.000Z"),  # the end of that day
        ("2026-12-31", True, "2027-01-01T00:00:00.000Z"),
        ("  2026-11-02  ", False, "2026-11-02T00:00:00.000Z"),
        ("2026-11-02T10:20:30", False, "2026-11-02T10:20:30.000Z"),  # naive means UTC
        ("2026-11-02T10:20:30Z", True, "2026-11-02T10:20:30.000Z"),  # a time is not widened
        ("2026-11-02t10:20:30.123456z", False, "2026-11-02T10:20:30.123Z"),
        ("2026-11-02T10:20:30+02:00", False, "2026-11-02T08:20:30.000Z"),
        ("2026-11-02T01:00:00-05:30", False, "2026-11-02T06:30:00.000Z"),
        ("2026-11-02 10:20", False, "2026-11-02T10:20:00.000Z"),
    ],
)
def test_parse_when_absolute(text: str, end: bool, expected: str) -> None:
    assert parse_when(text, end=end) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12h", "2026-11-20T00:00:00.250Z"),
        ("7d", "2026-11-13T12:00:00.250Z"),
        ("2w", "2026-11-06T12:00:00.250Z"),
        ("0d", "2026-11-20T12:00:00.250Z"),
        (" 1d ", "2026-11-19T12:00:00.250Z"),
    ],
)
def test_parse_when_relative(text: str, expected: str) -> None:
    assert parse_when(text, now=NOW) == expected
    assert parse_when(text, end=True, now=NOW) == expected  # `end` widens only a bare date


def test_parse_when_relative_uses_the_clock() -> None:
    before = datetime.now(UTC) - timedelta(hours=1, seconds=1)
    got = parse_when("1h")
    after = datetime.now(UTC) - timedelta(hours=1)
    assert selection._iso(before) <= got <= selection._iso(after)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "yesterday",
        "7 days",
        "7D",
        "-7d",
        "123456d",  # six digits: not a relative date
        "2026-13-01",
        "2026-02-30",
        "2026-11-02T25:00",
        "9999-12-31T23:59:59-01:00",  # after year 9999 in UTC
        "0001-01-01T00:00:00+01:00",  # before year 1 in UTC
    ],
)
def test_parse_when_refuses_bad_input_with_a_query_error(text: str) -> None:
    with pytest.raises(QueryError, match="is not a date or time; use YYYY-MM-DD"):
        parse_when(text)


def test_the_last_day_cannot_end_after_year_9999() -> None:
    assert parse_when("9999-12-31") == "9999-12-31T00:00:00.000Z"
    with pytest.raises(QueryError):
        parse_when("9999-12-31", end=True)


def test_the_error_message_hides_long_or_unprintable_input() -> None:
    with pytest.raises(QueryError, match=r"^'\(unprintable\)' is not"):
        parse_when("2026\x1b[31m")
    with pytest.raises(QueryError, match=r"^'\(unprintable\)' is not"):
        parse_when("x" * 41)
    with pytest.raises(QueryError, match=r"^'nope' is not"):
        parse_when("nope")


@given(st.text(max_size=40), st.booleans())
def test_parse_when_raises_only_query_error(text: str, end: bool) -> None:
    try:
        out = parse_when(text, end=end, now=NOW)
    except QueryError as exc:
        message = str(exc)
    else:
        assert len(out) == 24 and out.endswith("Z") and out[10] == "T"
        return
    assert "\n" not in message  # one line, fit for a usage error


@given(st.datetimes(timezones=st.just(UTC)))
def test_an_iso_time_comes_back_in_the_stored_form(moment: datetime) -> None:
    assert parse_when(moment.isoformat()) == selection._iso(moment)
    assert parse_when(moment.isoformat()) == moment.strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{moment.microsecond // 1000:03d}Z"
    )


# ----------------------------------------------------------------- windows


def test_window() -> None:
    assert window(None, None) == (None, None)
    assert window("", "") == (None, None)
    assert window("2026-11-02", "2026-11-02") == (
        "2026-11-02T00:00:00.000Z",
        "2026-11-03T00:00:00.000Z",
    )
    assert window(None, "2026-11-02") == (None, "2026-11-03T00:00:00.000Z")
    assert window("2026-11-02", None) == ("2026-11-02T00:00:00.000Z", None)


@pytest.mark.parametrize(
    ("since", "until"),
    [
        ("2026-11-03", "2026-11-02"),
        ("2026-11-02T10:00:00Z", "2026-11-02T10:00:00Z"),  # empty
        ("2026-11-02T12:00:00+02:00", "2026-11-02T10:00:00Z"),  # equal in UTC
    ],
)
def test_a_window_that_ends_before_it_starts_is_refused(since: str, until: str) -> None:
    with pytest.raises(QueryError, match=r"^--until \(.*\) is not after --since \(.*\)$"):
        window(since, until)


def test_a_bad_end_is_refused() -> None:
    with pytest.raises(QueryError):
        window("2026-11-02", "later")


def test_check_event_type() -> None:
    assert check_event_type(None) is None
    assert check_event_type("agent.invoked") == "agent.invoked"
    with pytest.raises(
        QueryError,
        match=r"unknown event type 'agent\.invoke' \(did you mean 'agent\.invoked'\?\); "
        r"valid types: agent\.completed, ",
    ):
        check_event_type("agent.invoke")
    with pytest.raises(QueryError, match=r"unknown event type 'zzz'; valid types"):
        check_event_type("zzz")  # nothing close: no guess
    with pytest.raises(QueryError, match=r"'\(unprintable\)'"):
        check_event_type("a\nb")


# ------------------------------------------------------------------ Filter


def test_filter_empty() -> None:
    assert Filter().empty
    assert Filter(since="", until="").empty
    assert not Filter(event_type="role.selected").empty
    assert not Filter(role="dev").empty
    assert not Filter(until="2026-11-02T00:00:00.000Z").empty


def test_filter_matcher_needs_every_part_to_match() -> None:
    keep = Filter(
        event_type="role.changed",
        role="qa",
        since="2026-11-02T00:00:00.000Z",
        until="2026-11-03T00:00:00.000Z",
    ).matcher()
    assert keep(ev(1, "role.changed", "qa"))
    assert not keep(ev(1, "role.selected", "qa"))
    assert not keep(ev(1, "role.changed", "dev"))
    assert not keep(ev(1, "role.changed", "qa", day=3))
    assert not keep({"event_type": "role.changed", "role": "qa"})  # no time, with a window
    assert Filter(role="qa").matcher()({"event_type": "x", "role": "qa"})
    assert Filter().matcher()({"event_type": "x"})


# ---------------------------------------------------------- select / stream


@pytest.fixture
def history(project: Path) -> Path:
    """Two archives (one still pending compression) and a live file: events 0..29 in order."""
    folder = project / ".flowspec"
    write(folder / "telemetry-20261101-1.jsonl.gz", [ev(n) for n in range(10)])
    events = [ev(n, role="qa" if n % 3 == 0 else "dev") for n in range(10, 20)]
    write(folder / "telemetry-pending-20261102-1.jsonl", events)
    write(folder / "telemetry.jsonl", [ev(n) for n in range(20, 30)], b"{torn\n")
    return project


def test_select_without_a_filter_is_the_newest_last(history: Path) -> None:
    assert ids(select(history, 3)) == ["evt_27", "evt_28", "evt_29"]
    assert ids(select(history, 12)) == [f"evt_{n}" for n in range(18, 30)]
    assert ids(select(history, 100)) == [f"evt_{n}" for n in range(30)]


def test_select_with_a_filter_reaches_into_the_archives(history: Path) -> None:
    qa = Filter(role="qa")
    assert ids(select(history, 100, qa)) == ["evt_12", "evt_15", "evt_18"]
    assert ids(select(history, 2, qa)) == ["evt_15", "evt_18"]
    assert ids(select(history, 1, qa)) == ["evt_18"]
    dev = Filter(role="dev")
    got = ids(select(history, 15, dev))
    expected = [f"evt_{n}" for n in range(30) if not (10 <= n < 20 and n % 3 == 0)]
    assert got == expected[-15:]


def test_select_stops_reading_once_the_live_file_has_enough(history: Path) -> None:
    stats = ReadStats()
    assert ids(select(history, 2, Filter(role="dev"), stats=stats)) == ["evt_28", "evt_29"]
    assert stats.files == 1  # the archives were never opened
    stats = ReadStats()
    select(history, 30, Filter(role="dev"), stats=stats)
    assert stats.files == 3
    assert stats.skipped == 1  # the torn line


def test_select_in_a_window_and_by_type(history: Path) -> None:
    folder = history / ".flowspec"
    write(folder / "telemetry.jsonl", [ev(40, "role.changed", day=5), ev(41, day=6)])
    since, until = window("2026-11-05", "2026-11-05")
    assert ids(select(history, 10, Filter(since=since, until=until))) == ["evt_40"]
    assert ids(select(history, 10, Filter(event_type="role.changed"))) == ["evt_40"]
    assert select(history, 10, Filter(event_type="agent.failed")) == []


def test_select_without_any_events(project: Path) -> None:
    assert select(project, 5) == []
    assert select(project, 5, Filter(role="dev")) == []
    assert list(stream(project, Filter(role="dev"))) == []


def test_stream_is_every_match_oldest_first(history: Path) -> None:
    assert ids(list(stream(history))) == [f"evt_{n}" for n in range(30)]
    assert ids(list(stream(history, Filter(role="qa")))) == ["evt_12", "evt_15", "evt_18"]
    stats = ReadStats()
    it = stream(history, Filter(), stats=stats)
    assert stats.files == 0  # lazy: nothing read until asked
    assert next(it)["event_id"] == "evt_0"
    assert stats.files == 1


def test_another_tool_reads_its_own_folder(history: Path) -> None:
    from flowspec_telemetry.core.names import ToolNames

    assert select(history, 5, names=ToolNames("acme")) == []
    assert list(stream(history, names=ToolNames("acme"))) == []


@given(st.lists(st.booleans(), max_size=40), st.integers(1, 45), st.integers(0, 40))
def test_select_is_the_tail_of_stream(marks: list[bool], limit: int, cut: int) -> None:
    """Whatever the split between archive and live file: select == last `limit` of stream."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        events = [ev(n, role="qa" if m else "dev") for n, m in enumerate(marks)]
        cut = min(cut, len(events))
        write(root / ".flowspec" / "telemetry-20261101-1.jsonl.gz", events[:cut])
        write(root / ".flowspec" / "telemetry.jsonl", events[cut:])
        for filt in (Filter(), Filter(role="qa")):
            everything = list(stream(root, filt))
            assert select(root, limit, filt) == everything[-limit:]


def test_a_naive_offset_free_time_equals_utc() -> None:
    tz = timezone(timedelta(hours=0))
    assert parse_when("2026-11-02T10:00:00") == parse_when(
        datetime(2026, 11, 2, 10, tzinfo=tz).isoformat()
    )
