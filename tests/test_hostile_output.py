"""Hostile values in every field, through every command that shows or writes them.

The telemetry file is plain text anyone with write access can edit, so the
real CLI is run over a history whose every field holds HTML/JS, CSV formulas,
ANSI/OSC terminal escapes, C1 controls, bidi overrides and zero-width
characters. Terminal output must show them as escapes, never raw; JSON
output is ASCII and round-trips the values; CSV cells never start a formula
and hold no control; the HTML report never carries live markup.
"""

from __future__ import annotations

import csv
import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from flowspec_telemetry.core.events import dumps_line

from .conftest import run_cli

pytestmark = pytest.mark.slow

HOSTILE = (
    "<script>alert('xss')</script>",
    '"><img src=x onerror=alert(1)>',
    "</style><svg onload=alert(1)>",
    "javascript:alert(1)",
    '=HYPERLINK("http://evil.example","click")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    " =1+1",
    "\x1b[31mRED\x1b[0m\x1b[2J",
    "\x1b]8;;http://evil.example\x1b\\link\x1b]8;;\x1b\\",
    "\x1b]0;owned title\x07",
    "\x9b31mC1 CSI",
    "abc\u202edcba\u202c",
    "\u2066isolate\u2069",
    "zero\u200bwidth\ufeff",
    "[bold red]rich markup[/]",
)
# Raw characters that must never reach a terminal or a CSV cell.
RAW_UNSAFE = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]"
)
LIVE_HTML = ("<script>alert", "<img src=x", "<svg onload", "</style><svg")
TYPES = (
    "role.selected",
    "agent.invoked",
    "command.started",
    "command.completed",
    "handoff.offered",
    "handoff.clicked",
)


def _event(i: int, value: str) -> dict[str, Any]:
    return {
        "schema_version": "1.0",
        "event_id": f"evt_{i:026d}",
        "timestamp": f"2026-11-{2 + i % 20:02d}T10:00:{i % 60:02d}.000Z",
        "event_type": TYPES[i % len(TYPES)],
        "role": value,
        "previous_role": value,
        "agent_role": value,
        "command": value,
        "agent": value,
        "project_id": value,
        "session_id": value,
        "invocation_id": value,
        "handoff": {"from_agent": value, "to_agent": value},
        "duration_ms": 5,
        "outcome": value,
        "source": value,
        "context": {"os": value, "python": value, "tool_version": value, "ci": value},
        value: value,  # an unknown key, kept by readers
    }


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile") / "project"
    folder = root / ".flowspec"
    folder.mkdir(parents=True, mode=0o700)
    lines = [dumps_line(_event(i, v)) for i, v in enumerate(HOSTILE * 2)]
    # and once as an event type, a timestamp and a key of a nested field
    odd = _event(99, "x")
    odd.update({"event_type": HOSTILE[0], "timestamp": HOSTILE[11], "handoff": HOSTILE[12]})
    lines.append(dumps_line(odd))
    (folder / "telemetry.jsonl").write_bytes(b"".join(lines))
    return root


def _assert_terminal_safe(text: str) -> None:
    found = sorted({hex(ord(c)) for c in RAW_UNSAFE.findall(text)})
    assert found == [], f"raw control/bidi characters reached the output: {found}"


@pytest.mark.parametrize(
    "args",
    [
        ("view",),
        ("view", "--limit", "0"),
        ("view", "--json"),
        ("stats",),
        ("stats", "--json"),
        ("insights",),
        ("insights", "--json"),
        ("dashboard",),
        ("export", "--format", "jsonl", "--output", "-"),
        ("export", "--format", "json", "--output", "-"),
        ("export", "--format", "csv", "--output", "-"),
        ("status",),
    ],
)
def test_terminal_output_shows_escapes_never_raw(hostile: Path, args: tuple[str, ...]) -> None:
    done = run_cli(*args, cwd=hostile)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    _assert_terminal_safe(done.stdout)
    _assert_terminal_safe(done.stderr)
    if "--json" in args or args[-3:-2] == ("jsonl",) or args[-3:-2] == ("json",):
        assert done.stdout.isascii()


def test_dashboard_in_colour_still_shows_data_escapes_as_text(hostile: Path) -> None:
    done = run_cli("dashboard", cwd=hostile, env={"FORCE_COLOR": "1", "TERM": "xterm-256color"})
    assert done.returncode == 0, done.stderr
    # our own colour codes are SGR sequences; nothing else may be raw
    without_sgr = re.sub(r"\x1b\[[0-9;]*m", "", done.stdout)
    _assert_terminal_safe(without_sgr)
    assert "\x1b]" not in done.stdout and "\x07" not in done.stdout


@pytest.mark.parametrize("fmt", ["jsonl", "json"])
def test_json_exports_are_ascii_and_round_trip_every_value(
    hostile: Path, tmp_path: Path, fmt: str
) -> None:
    out = tmp_path / f"out.{fmt}"
    done = run_cli("export", "--format", fmt, "--output", str(out), cwd=hostile)
    assert done.returncode == 0, done.stderr
    text = out.read_text(encoding="utf-8")
    assert text.isascii()
    events = json.loads(text) if fmt == "json" else [json.loads(x) for x in text.splitlines() if x]
    stored = [
        json.loads(x) for x in (hostile / ".flowspec" / "telemetry.jsonl").read_bytes().splitlines()
    ]
    # Neutralised for display, never altered as data; only a value of the wrong
    # type is dropped by the one normaliser (the odd line's `handoff` is text).
    assert events[:-1] == stored[:-1]
    assert events[-1] == {k: v for k, v in stored[-1].items() if k != "handoff"}


def test_csv_export_never_starts_a_formula_or_holds_a_control(
    hostile: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out.csv"
    done = run_cli("export", "--format", "csv", "--output", str(out), cwd=hostile)
    assert done.returncode == 0, done.stderr
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8"), newline="")))
    assert len(rows) == 1 + len(HOSTILE) * 2 + 1
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
            assert not cell.lstrip(" ").startswith(("=", "+", "-", "@")), cell
            _assert_terminal_safe(cell)


class _Markup(HTMLParser):
    """Every tag and attribute of a document, as a browser's tokenizer sees them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend((k, v or "") for k, v in attrs)
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts.append(data)


def test_html_report_carries_no_live_markup(hostile: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    done = run_cli("report", "--html", str(out), cwd=hostile)
    assert done.returncode == 0, done.stderr
    html = out.read_text(encoding="utf-8")
    for needle in LIVE_HTML:  # as markup; escaped text (&lt;img ...) is fine
        assert needle not in html, needle
    markup = _Markup()
    markup.feed(html)
    assert not {"img", "iframe", "object", "embed"} & set(markup.tags)
    assert [k for k, _ in markup.attrs if k.startswith("on")] == []
    assert [v for _, v in markup.attrs if v.strip().lower().startswith("javascript:")] == []
    assert not any("alert(" in body for body in markup.scripts)
    assert "\x1b" not in html and "\u202e" not in html
