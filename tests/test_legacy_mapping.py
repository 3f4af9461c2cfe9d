"""`core._legacy`: any line of flowspec's earlier module maps onto schema 1.0, never raising."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from flowspec_telemetry.core._legacy import (
    LEGACY_TYPES,
    agent_name,
    legacy_track_args,
    map_legacy,
    setup_source,
    utc_millis,
)
from flowspec_telemetry.core.events import FIELD_NAMES, parse_line
from flowspec_telemetry.core.roles import DEFAULT_CATALOG

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
KEYS = (
    "event_type",
    "timestamp",
    "role",
    "command",
    "agent",
    "context",
    "metadata",
    "schema_version",
)
LEGACY_LINE = st.dictionaries(
    st.sampled_from(KEYS) | st.text(max_size=6),
    JSON | st.sampled_from(sorted(LEGACY_TYPES)),
    max_size=8,
)
_STR_FIELDS = {"timestamp", "event_type", "role", "command", "agent", "previous_role", "source",
               "outcome", "legacy_type", "agent_role", "schema_version"}  # fmt: skip


def _check(event: dict[str, Any]) -> None:
    assert event["schema_version"] == "1.0"
    assert set(event) <= set(FIELD_NAMES)
    assert "metadata" not in event and "context" not in event
    for key in _STR_FIELDS & set(event):
        assert event[key] is None or isinstance(event[key], str), key
    if "handoff" in event:
        assert set(event["handoff"]) == {"from_agent", "to_agent"}
    json.dumps(event)


@settings(max_examples=150)
@given(LEGACY_LINE)
def test_any_dict_maps_to_a_clean_schema_1_0_event(line: dict[str, Any]) -> None:
    _check(map_legacy(line))
    _check(map_legacy(line, DEFAULT_CATALOG))


@settings(max_examples=100)
@given(LEGACY_LINE)
def test_any_legacy_line_parses_without_raising(line: dict[str, Any]) -> None:
    line.pop("schema_version", None)
    raw = json.dumps(line).encode()
    event = parse_line(raw)
    if isinstance(line.get("event_type"), str):
        assert event is not None
        _check(event)
    else:
        assert event is None


@given(st.sampled_from(sorted(LEGACY_TYPES)) | JSON, JSON, JSON, JSON, JSON)
def test_any_call_maps_to_track_arguments_or_nothing(
    event_type: object, role: object, command: object, agent: object, context: object
) -> None:
    mapped = legacy_track_args(event_type, role=role, command=command, agent=agent, context=context)
    if mapped is not None:
        new_type, fields = mapped
        assert isinstance(new_type, str)
        assert all(v is not None for v in fields.values())
        assert fields["legacy_type"] == event_type


def test_times_agents_and_setup_commands() -> None:
    assert utc_millis("2025-10-01T10:00:00.123456+00:00") == "2025-10-01T10:00:00.123Z"
    assert utc_millis("2025-10-01T10:00:00+00:00") == "2025-10-01T10:00:00.000Z"
    assert utc_millis("2025-10-01T12:00:00.5+02:00") == "2025-10-01T10:00:00.500Z"
    assert utc_millis("2025-10-01T10:00:00") == "2025-10-01T10:00:00.000Z"  # naive: UTC
    assert utc_millis("yesterday") is None and utc_millis(12) is None
    assert agent_name("backend-engineer") == "@backend-engineer"
    assert agent_name("@pm-planner") == "@pm-planner"
    assert agent_name("not an agent") == "not an agent"
    assert agent_name(["x"]) is None
    assert setup_source("flowspec init") == "init"
    assert setup_source("/flow:init") == "init"
    assert setup_source("/spec:configure") == "config"
    assert setup_source("/flow:implement") is None
    assert setup_source("/flow:initiative") is None
