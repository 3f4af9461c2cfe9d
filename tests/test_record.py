"""`record`: the typed `Event` view of one stored line."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flowspec_telemetry.core.events import SCHEMA_VERSION, parse_line
from flowspec_telemetry.core.typed_event import Event

FULL: dict[str, Any] = {
    "schema_version": "1.0",
    "event_id": "evt_01JDQ7ZK3M8W4X2Y6B9C0D1E2F",
    "timestamp": "2026-11-27T09:30:00.000Z",
    "event_type": "handoff.clicked",
    "role": "dev",
    "previous_role": "qa",
    "agent_role": "sec",
    "command": "/flow:validate",
    "agent": "@secure-by-design-engineer",
    "project_id": "hmac:3f1c0a9b7d2e4f60",
    "session_id": "hmac:9a8b7c6d5e4f3a2b",
    "invocation_id": "inv_1",
    "handoff": {"from_agent": "@pm-planner", "to_agent": "@software-architect"},
    "duration_ms": 12.5,
    "outcome": "success",
    "source": "cli",
    "context": {"os": "linux", "ci": False},
}


def test_every_known_key_becomes_an_attribute_and_round_trips() -> None:
    event = Event.from_dict(FULL)
    assert event.role == "dev"
    assert event.handoff == {"from_agent": "@pm-planner", "to_agent": "@software-architect"}
    assert event.duration_ms == 12.5
    assert event.extra == {}
    assert event.known_type
    assert event.to_dict() == FULL


def test_unknown_keys_are_kept_in_extra_and_restored() -> None:
    event = Event.from_dict({"event_type": "role.selected", "future": [1, 2], "extra": "x"})
    assert event.extra == {"future": [1, 2], "extra": "x"}
    assert event.to_dict() == {
        "schema_version": SCHEMA_VERSION,
        "event_type": "role.selected",
        "future": [1, 2],
        "extra": "x",
    }


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("role", 3),
        ("command", None),
        ("handoff", "from @a to @b"),
        ("context", ["linux"]),
        ("duration_ms", True),  # a bool is not a duration
        ("duration_ms", "12"),
        ("timestamp", 1_700_000_000),
    ],
)
def test_a_wrongly_typed_known_key_moves_to_extra(key: str, value: Any) -> None:
    event = Event.from_dict({"event_type": "command.completed", key: value})
    assert getattr(event, key) is None
    assert event.extra == {key: value}
    assert event.to_dict()[key] == value  # nothing is lost on the way back


@pytest.mark.parametrize("data", [{}, {"event_type": 7}, {"event_type": None, "role": "dev"}])
def test_an_event_needs_a_string_event_type(data: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="string event_type"):
        Event.from_dict(data)


def test_known_type_is_false_for_a_type_from_a_newer_version() -> None:
    assert not Event("role.retired").known_type
    assert Event("agent.invoked").known_type


def test_defaults_and_none_values_are_dropped() -> None:
    event = Event("role.selected", role="dev")
    assert event.schema_version == SCHEMA_VERSION
    assert event.to_dict() == {
        "schema_version": SCHEMA_VERSION,
        "event_type": "role.selected",
        "role": "dev",
    }
    assert Event("x").extra is not Event("y").extra  # no shared mutable default


def test_a_legacy_line_is_read_as_the_schema_1_0_event_it_means() -> None:
    parsed = parse_line(b'{"event_type":"agent.started","agent":"qa-engineer","metadata":{"k":1}}')
    assert parsed is not None
    event = Event.from_dict(parsed)
    assert event.schema_version == "1.0"
    assert (event.event_type, event.agent) == ("agent.invoked", "@qa-engineer")
    assert event.legacy_type == "agent.started"
    assert "metadata" not in event.extra  # never read


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


@given(st.dictionaries(st.sampled_from([*FULL, "other", "extra"]), _json), st.text(max_size=12))
def test_from_dict_then_to_dict_loses_nothing(data: dict[str, Any], etype: str) -> None:
    """Every key comes back with its value (wrongly typed ones by way of `extra`)."""
    data = {**data, "event_type": etype}
    event = Event.from_dict(data)
    assert event.event_type == etype
    assert event.to_dict() == {"schema_version": SCHEMA_VERSION, **data}
