"""The HTML report: self-contained, escaped everywhere, the right figures."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from flowspec_telemetry.analysis.insights import compute_insights
from flowspec_telemetry.core.roles import DEFAULT_CATALOG
from flowspec_telemetry.report._text import clean, esc
from flowspec_telemetry.report.html import render_html

from ._data import HOSTILE_AGENT, HOSTILE_COMMAND, HOSTILE_ROLE, known_events

ALLOWED_TAGS = {
    "html",
    "head",
    "meta",
    "title",
    "style",
    "body",
    "header",
    "div",
    "p",
    "h1",
    "h2",
    "h3",
    "h4",
    "nav",
    "a",
    "main",
    "section",
    "span",
    "strong",
    "em",
    "code",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "ul",
    "ol",
    "li",
    "footer",
    "svg",
    "g",
    "rect",
    "text",
    "line",
}


class Tags(HTMLParser):
    """Every start tag and attribute the page really has, as a browser's tokenizer sees them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.style_blocks = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))
        self.style_blocks += tag == "style"


def page(events: list[dict[str, Any]]) -> str:
    data = compute_insights(events, DEFAULT_CATALOG).to_json(skipped_lines=2)
    return render_html(data, DEFAULT_CATALOG, generated_at="2026-11-27 10:00 UTC")


def assert_inert(doc: str) -> None:
    parser = Tags()
    parser.feed(doc)
    tags = {t for t, _ in parser.tags}
    assert tags <= ALLOWED_TAGS, tags - ALLOWED_TAGS
    assert parser.style_blocks == 1
    for tag, attrs in parser.tags:
        for name, value in attrs:
            assert not name.startswith("on"), (tag, name)
            assert "javascript:" not in (value or "").lower()
            if name == "href":
                assert value is not None and value.startswith("#")
            if name == "style":
                assert value is not None
                assert re.fullmatch(r"[-a-z:;#0-9.%()\s]*", value), value
    assert "</style>" not in doc.split("<style>", 1)[1].split("</style>", 1)[1]
    assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]", doc)


def test_self_contained_and_no_script() -> None:
    doc = page(known_events())
    assert doc.startswith("<!DOCTYPE html>")
    assert "<script" not in doc.lower().replace("&lt;script", "")
    assert not re.search(r"(?:src|href)=\"(?!#)", doc)
    assert (
        "url(" not in doc
        and "@import" not in doc
        and "http://" not in doc
        and "https://" not in doc
    )
    assert "default-src 'none'" in doc


def test_known_figures() -> None:
    doc = page(known_events())
    text = html.unescape(re.sub(r"<[^>]+>", " ", doc))
    assert "'dev' is selected most at init (3 of 4)" in text
    assert "/flow:implement" in text
    assert "80%" in text and "8 of 10" in text  # completion of /flow:implement
    assert "75%" in text and "6 of 8" in text  # handoff click-through
    assert "22%" in text and "2 of 9" in text  # dev invocations of security agents (+1 hostile)
    assert "4.0 s" in text and "8.0 s" in text  # nearest-rank median and p90 of 1..8 s
    assert "51" in text and "2 unreadable lines" not in text
    assert re.search(r"Based on\s+51\s+events from 2026-11-02 to 2026-11-06", text)
    assert re.search(r"\s2\s+unreadable lines were skipped", text)


def test_hostile_values_are_text() -> None:
    doc = page(known_events())
    assert_inert(doc)
    assert html.escape(clean(HOSTILE_ROLE), quote=True) in doc
    assert "onerror=alert" not in doc.replace("onerror=alert(1)&gt;", "")
    assert "\x1b" not in doc and "\u202e" not in doc
    assert len(doc) < 200_000  # the 100 KB value is cut
    assert esc(HOSTILE_AGENT) in doc or esc(clean(HOSTILE_AGENT)) in doc
    assert HOSTILE_COMMAND not in doc


def test_not_enough_data_and_empty_history() -> None:
    events = [
        {
            "schema_version": "1.0",
            "event_type": "command.started",
            "role": "dev",
            "command": "/flow:plan",
            "timestamp": "2026-11-02T10:00:00.000Z",
        },
    ]
    doc = page(events)
    assert "not enough data" in doc
    empty = page([])
    assert "no events yet" in empty and "Nothing recorded yet" in empty
    assert_inert(empty)


def test_hashed_values_are_marked() -> None:
    doc = page(known_events())
    assert '<code class="hashed"' in doc and "hmac:0123456789abcdef" in doc


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_esc_makes_any_string_inert(value: str) -> None:
    out = esc(value)
    assert not set(out) & set("<>\"'")
    assert not re.search(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]", out)
    assert html.unescape(out) == clean(value)
    out.encode("utf-8")  # lone surrogates are replaced


@settings(max_examples=40, deadline=None)
@given(st.text(min_size=1, max_size=80), st.text(min_size=1, max_size=80))
def test_any_role_command_or_agent_renders_inert(role: str, other: str) -> None:
    events = [
        {
            "schema_version": "1.0",
            "event_type": "role.selected",
            "role": role,
            "source": "init",
            "timestamp": "2026-11-02T10:00:00.000Z",
        },
        {
            "schema_version": "1.0",
            "event_type": "command.started",
            "role": role,
            "command": other,
            "timestamp": "2026-11-02T10:00:00.000Z",
        },
        {
            "schema_version": "1.0",
            "event_type": "handoff.offered",
            "role": other,
            "handoff": {"from_agent": role, "to_agent": other},
            "timestamp": "2026-11-02T11:00:00.000Z",
        },
        {
            "schema_version": "1.0",
            "event_type": "agent.invoked",
            "role": other,
            "agent": role,
            "timestamp": "2026-11-03T11:00:00.000Z",
        },
    ]
    doc = page(events)
    assert_inert(doc)
    doc.encode("utf-8")
