"""Every reader over lines of any JSON shape, any Unicode and any number (issue 13.6).

The store is the person's file: anything may be in it. Each command that reads
it runs in-process over generated lines (valid events mixed with values of the
wrong type, lone surrogates, NaN, Infinity, huge integers, lists and dicts where
text is expected, controls and invisible characters), and:

* none raises, and each exits as on a clean store;
* what it prints, and the HTML and share files it writes, encode as strict
  UTF-8 (what a terminal or a browser needs) and hold no escape, bidi, tag or
  other invisible control character.

The second half holds `normalize_event` to its contract directly.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from flowspec_telemetry.cli.app import run
from flowspec_telemetry.core import consent_rules
from flowspec_telemetry.core._legacy import map_legacy
from flowspec_telemetry.core.events import FIELD_NAMES, RoleEvent, parse_line
from flowspec_telemetry.core.names import FLOWSPEC
from flowspec_telemetry.core.normalize import (
    FIELD_KINDS,
    MAX_DURATION_MS,
    MAX_TEXT,
    normalize_event,
    normalize_parsed,
)
from flowspec_telemetry.core.tracker import Tracker
from flowspec_telemetry.report.share import project_share_report

# Any character at all, lone surrogates included (hypothesis leaves them out by default).
any_text = st.text(alphabet=st.characters(blacklist_categories=()), max_size=24)
hostile_text = st.sampled_from(
    ["\ud800", "\udfff x", "\x1b]0;pwned\x07", "\x1b[2J", "a\u061cb", "\U000e0041\U000e0042",
     "\u202etxt.exe", "\u200b", "\x9b31m", "dev\n", "\ufeff", "\u2028"]
)  # fmt: skip
numbers = (
    st.integers()
    | st.integers(min_value=2**63 - 2, max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from([math.inf, -math.inf, math.nan, 1e308, -0.0, 10**30])
)
scalars = st.none() | st.booleans() | numbers | any_text | hostile_text
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(any_text, inner, max_size=3),
    max_leaves=6,
)
KEYS = st.sampled_from([*FIELD_NAMES, "metadata", "extra"]) | any_text
EVENT_TYPES = st.sampled_from([e.value for e in RoleEvent]) | json_values
WEEK = "2026-W48"  # 23 to 29 November 2026: a finished week the share report reads
IN_WEEK = st.sampled_from(["2026-11-24T10:00:00.000Z", "2026-11-29T23:59:59.999Z"])
event_like = st.builds(
    lambda fields, event_type, when: {
        **fields,
        "event_type": event_type,
        **({"timestamp": when} if when else {}),
    },
    st.dictionaries(KEYS, json_values, max_size=10),
    EVENT_TYPES,
    st.none() | IN_WEEK,  # often inside the shared week, so the share fold sees them
)
line = event_like | json_values  # and now and then a line that is no event at all

READERS = (
    ["view"],
    ["view", "--json"],
    ["view", "--limit", "0"],
    ["view", "--role", "dev", "--since", "2000-01-01"],
    ["stats"],
    ["stats", "--json"],
    ["insights"],
    ["insights", "--json"],
    ["dashboard"],
    ["export", "--format", "csv", "--output", "-"],
    ["export", "--format", "json", "--output", "-"],
    ["export", "--format", "jsonl", "--output", "-"],
    ["status"],
)
# What must never reach a terminal or a page (newline, tab and CSV's CR aside).
UNSAFE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff"
    "\U000e0000-\U000e007f\ud800-\udfff]"
)


def _lines(values: list[Any]) -> bytes:
    return b"".join(json.dumps(v, allow_nan=True).encode() + b"\n" for v in values)


def _strict_json(text: str) -> None:
    """Strict JSON (no NaN or Infinity) in strict UTF-8."""
    json.loads(text.encode("utf-8"), parse_constant=lambda name: pytest.fail(f"{name} in JSON"))


def _clean_output(text: str) -> None:
    text.encode("utf-8")  # strict: a lone surrogate raises here, as on a real terminal
    found = UNSAFE.search(text)
    assert found is None, f"unsafe character {found.group()!r} in output"


@pytest.fixture
def reader_project(consented: Path) -> Path:
    """A project with consent and a few real events, so every reader has work to do."""
    tracker = Tracker()
    for role in ("dev", "qa", "dev"):
        tracker.track("agent.invoked", role=role, agent="@backend-engineer", project_root=consented)
        tracker.track("command.completed", command="/flow:implement", duration_ms=1200,
                      outcome="success", project_root=consented)  # fmt: skip
    tracker.close()
    record = consent_rules.project_config_path(consented)
    data = json.loads(record.read_text())
    data["share"] = {"answer": "yes", "decided_at": "2020-01-01T00:00:00Z", "notice_version": 1}
    record.write_text(json.dumps(data))  # the person also agreed to share (mode "share")
    return consented


# Each example runs 15 commands: shrinking a failure would take many minutes, so
# the failing example is reported as found (hypothesis prints it in full).
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
@given(st.lists(line, min_size=1, max_size=8))
def test_every_reader_survives_any_line_and_prints_only_safe_text(
    reader_project: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    values: list[Any],
) -> None:
    live = reader_project / ".flowspec" / "telemetry.jsonl"
    good = live.read_bytes().split(b"\n")[0] + b"\n"
    live.write_bytes(good + _lines(values) + good)
    monkeypatch.chdir(reader_project)
    monkeypatch.setenv("COLUMNS", "120")
    capsys.readouterr()
    for args in READERS:
        code = run(args)  # an exception would propagate: run() re-raises what it does not know
        assert code == 0, (args, capsys.readouterr().err)
        out, err = capsys.readouterr()
        _clean_output(out)
        _clean_output(err)
    html = tmp_path / "r.html"
    assert run(["report", "--html", str(html), "--force"]) == 0
    _clean_output(html.read_bytes().decode("utf-8"))
    _clean_output("".join(capsys.readouterr()))
    # The share report (weekly, the CLI's) as it would be written: previewed, so
    # the week is computed afresh for every example instead of reprinted.
    assert run(["report", "--share", "s.json", "--preview", "--week", WEEK]) == 0, (
        capsys.readouterr().err
    )
    out, err = capsys.readouterr()
    _clean_output(out + err)
    _strict_json(out)
    # and the older per-event share report, which the org still ingests
    _strict_json(json.dumps(project_share_report(reader_project, FLOWSPEC, k=1), allow_nan=False))


def test_the_library_never_writes_a_line_a_reader_must_repair(consented: Path) -> None:
    """`Tracker(tool_version=b"1.0\\xff")` wrote a lone surrogate into every line."""
    tracker = Tracker(tool_version=b"1.0\xff")
    assert tracker.track("role.selected", role="dev", project_root=consented)
    tracker.close()
    raw = (consented / ".flowspec" / "telemetry.jsonl").read_bytes()
    event = json.loads(raw)
    event["context"]["tool_version"].encode("utf-8")  # no lone surrogate
    assert normalize_event(json.loads(raw)) == event  # clean as written


# ------------------------------------------------------------- the contract


def _check_contract(event: dict[str, Any]) -> None:
    for key, value in event.items():
        assert type(key) is str
        kind = FIELD_KINDS.get(key)
        if value is None and kind == "text":
            assert key not in ("event_type", "schema_version")
            continue
        if kind == "text" and value is not None:
            assert type(value) is str and len(value) <= MAX_TEXT
            value.encode("utf-8")
        elif kind == "duration":
            assert type(value) in (int, float) and 0 <= value <= MAX_DURATION_MS
        elif kind == "handoff":
            assert set(value) == {"from_agent", "to_agent"}
            assert all(v is None or type(v) is str for v in value.values())
        elif kind == "context":
            assert type(value) is dict
            assert all(type(v) in (str, int, float, bool, type(None)) for v in value.values())
    assert event["event_type"]
    json.dumps(event, allow_nan=False).encode("utf-8")  # finite numbers, encodable text


@settings(max_examples=300, deadline=None)
@given(line)
def test_normalised_events_keep_the_contract(value: Any) -> None:
    raw = json.dumps(value, allow_nan=True).encode()
    event = normalize_event(json.loads(raw))
    assert event == normalize_parsed(json.loads(raw), raw)  # the fast path agrees
    mapped = map_legacy(event) if event and event["schema_version"] == "0" else event
    assert parse_line(raw) == mapped  # the reference parser: normalised, then mapped
    if event is not None:
        _check_contract(event)
        assert normalize_event(event) == event  # a normalised event is clean


def test_a_clean_line_comes_back_untouched() -> None:
    raw = (
        b'{"schema_version":"1.0","event_id":"evt_01JDQ7ZK3M8W4X2Y6B9C0D1E2F",'
        b'"timestamp":"2026-11-27T09:30:00.000Z","event_type":"agent.completed","role":"dev",'
        b'"command":"/flow:implement","agent":"@backend-engineer","project_id":"hmac:3f1c0a9b7d2e4f60",'
        b'"duration_ms":1234,"outcome":"success","handoff":{"from_agent":"@a","to_agent":null},'
        b'"context":{"os":"linux","python":"3.11","tool_version":"0.1.0","ci":false}}'
    )
    obj = json.loads(raw)
    assert normalize_parsed(obj, raw) is obj
    assert normalize_parsed(obj, raw) is obj  # the shape is remembered


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("role", "\ud800dev", "\ufffddev"),
        ("role", ["dev"], None),
        ("agent", {"a": 1}, None),
        ("command", 5, None),
        ("role", "a\u061cb\x1b[31m", "a\u061cb\x1b[31m"),  # data stays data: display escapes
        ("duration_ms", math.inf, None),
        ("duration_ms", math.nan, None),
        ("duration_ms", True, None),
        ("duration_ms", 10**30, MAX_DURATION_MS),
        ("duration_ms", -5, 0),
        ("duration_ms", "12", None),
    ],
)
def test_one_bad_value_is_repaired_or_dropped(field: str, value: Any, expected: Any) -> None:
    event = normalize_event(
        {"event_type": "agent.completed", "schema_version": "1.0", field: value}
    )
    assert event is not None
    assert event.get(field) == expected


def test_the_legacy_tag_is_one_value() -> None:
    from flowspec_telemetry.core import events, normalize

    assert normalize.LEGACY_SCHEMA_VERSION == events.LEGACY_SCHEMA_VERSION
