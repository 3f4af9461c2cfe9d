"""The event model: enum, ids, timestamps, serialisation and the lenient parser."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flowspec_telemetry.core.events import (
    EVENT_TYPES,
    FIELDS,
    RoleEvent,
    dumps_line,
    parse_line,
    ulid,
    utc_timestamp,
)
from flowspec_telemetry.core.normalize import normalize_event
from flowspec_telemetry.core.typed_event import Event

ULID_RE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")


def test_every_design_event_type_exists_with_its_wire_string() -> None:
    expected = {
        "role.selected", "role.changed", "agent.invoked", "agent.completed", "agent.failed",
        "command.started", "command.completed", "command.failed", "handoff.offered",
        "handoff.clicked", "workflow.started", "workflow.completed",
    }  # fmt: skip
    assert {e.value for e in RoleEvent} == expected
    assert RoleEvent("agent.invoked") is RoleEvent.AGENT_INVOKED
    assert set(EVENT_TYPES) == set(RoleEvent)


def test_every_field_an_event_type_names_is_defined() -> None:
    defined = {f.name for f in FIELDS}
    for spec in EVENT_TYPES.values():
        assert set(spec.fields) <= defined, spec.event_type
        assert spec.purpose


def test_ulid_shape_and_time_order() -> None:
    first = ulid(1_700_000_000_000_000_000)
    later = ulid(1_700_000_000_001_000_000)
    assert ULID_RE.match(first)
    assert ULID_RE.match(later)
    assert first[:10] < later[:10]
    # The time prefix decodes back to the millisecond.
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    ms = 0
    for ch in first[:10]:
        ms = ms * 32 + alphabet.index(ch)
    assert ms == 1_700_000_000_000


def test_ulids_unique_within_a_millisecond_and_across_processes() -> None:
    same_ms = {ulid(1_700_000_000_000_000_000) for _ in range(5000)}
    assert len(same_ms) == 5000
    code = "from flowspec_telemetry.core.events import ulid\nprint('\\n'.join(ulid() for _ in range(2000)))"
    outs = [
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout
        for _ in range(3)
    ]
    ids = [line for out in outs for line in out.split()]
    assert len(ids) == 6000 == len(set(ids))


def test_timestamp_is_utc_millisecond_with_z() -> None:
    assert utc_timestamp(0) == "1970-01-01T00:00:00.000Z"
    assert utc_timestamp(1_793_577_600_123_456_789) == "2026-11-02T00:00:00.123Z"
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", utc_timestamp())


def test_dumps_line_is_compact_ascii_one_line() -> None:
    line = dumps_line({"event_type": "role.selected", "role": "dév\n\u202e", "n": 1})
    assert line.endswith(b"\n")
    assert line.count(b"\n") == 1
    assert b" " not in line
    line.decode("ascii")
    assert json.loads(line)["role"] == "dév\n\u202e"


def test_parse_keeps_unknown_keys_and_future_versions() -> None:
    raw = b'{"schema_version":"7.3","event_type":"role.teleported","role":"dev","shiny":{"x":1}}'
    event = parse_line(raw)
    assert event is not None
    assert event["schema_version"] == "7.3"
    assert event["shiny"] == {"x": 1}
    typed = Event.from_dict(event)
    assert not typed.known_type
    assert typed.extra == {"shiny": {"x": 1}}
    assert typed.to_dict() == event


def test_parse_maps_flowspec_legacy_lines_onto_schema_1_0() -> None:
    legacy = (
        b'{"event_type":"role.selected","timestamp":"2025-10-01T10:00:00.123456+00:00",'
        b'"role":"dev","command":"flowspec init","metadata":{"hostname_hash":"a9db44ecf5fc"}}'
    )
    event = parse_line(legacy)
    assert event == {
        "schema_version": "1.0",
        "timestamp": "2025-10-01T10:00:00.123Z",
        "event_type": "role.selected",
        "role": "dev",
        "command": None,
        "agent": None,
        "source": "init",
        "legacy_type": "role.selected",
    }


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"not json",
        b"[1,2]",
        b'{"event_type": 3}',
        b'{"role":"dev"}',
        b'{"event_type":"x"',
        b"\xff\xfe\x00",
        b"null",
    ],
)
def test_parse_rejects_what_is_not_an_event(raw: bytes) -> None:
    assert parse_line(raw) is None


def test_event_from_dict_moves_wrongly_typed_keys_to_extra() -> None:
    typed = Event.from_dict({"event_type": "agent.invoked", "role": 5, "duration_ms": "slow"})
    assert typed.role is None
    assert typed.duration_ms is None
    assert typed.extra == {"role": 5, "duration_ms": "slow"}
    with pytest.raises(ValueError, match="event_type"):
        Event.from_dict({"role": "dev"})


@given(st.binary(max_size=400))
def test_parse_never_raises_on_arbitrary_bytes(raw: bytes) -> None:
    result = parse_line(raw)
    assert result is None or isinstance(result["event_type"], str)


@given(
    st.dictionaries(
        st.text(max_size=12),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=30),
            lambda inner: (
                st.lists(inner, max_size=3)
                | st.dictionaries(st.text(max_size=5), inner, max_size=3)
            ),
            max_leaves=8,
        ),
        max_size=6,
    ),
    st.sampled_from([e.value for e in RoleEvent]),
)
def test_dump_then_parse_round_trips(extra: dict[str, object], event_type: str) -> None:
    event = {**extra, "event_type": event_type, "schema_version": "1.0"}
    # A value of the wrong type in a known field is dropped by the one normaliser
    # every reader uses (issue 13.6); every other value comes back as written.
    assert parse_line(dumps_line(event)) == normalize_event(event)
