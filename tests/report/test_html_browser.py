"""The HTML report in headless Chromium (Debian's `chromium`): one browser, few page loads.

Chromium is driven over the DevTools protocol on a pipe (see `_chromium.py`),
which records every network request, console message, log entry and
uncaught exception. A control page proves the recorder sees what it must.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ..conftest import SHARED, run_cli
from ._chromium import CHROMIUM, Browser, file_url, png_pixels, problems, requests
from ._data import HOSTILE_ROLE, write_known

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="chromium is not installed (scripts/test installs Debian's `chromium` package)",
    ),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    b = Browser()
    try:
        yield b
    finally:
        b.close()


@pytest.fixture(scope="module")
def loaded(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("browser") / "project"
    root.mkdir()
    (root / "flowspec_workflow.yml").write_text((SHARED / "flowspec_workflow.yml").read_text())
    write_known(root)
    result = run_cli("report", "--html", "report.html", cwd=root)
    assert result.returncode == 0, result.stderr
    page = root / "report.html"
    events = browser.load(file_url(page))
    return {"url": file_url(page), "events": events, "browser": browser}


def test_recorder_sees_requests_and_errors(browser: Browser, tmp_path: Path) -> None:
    control = tmp_path / "control.html"
    control.write_text(
        '<!DOCTYPE html><img src="http://flowspec-telemetry.invalid/x.png">'
        '<script>console.error("boom")</script>'
    )
    events = browser.load(file_url(control))
    assert "http://flowspec-telemetry.invalid/x.png" in requests(events)
    assert any("boom" in p for p in problems(events))


def test_no_network_requests_and_no_console_errors(loaded: dict[str, Any]) -> None:
    assert requests(loaded["events"]) == [loaded["url"]]
    assert problems(loaded["events"]) == []


def test_expected_figures_in_the_dom(loaded: dict[str, Any]) -> None:
    b: Browser = loaded["browser"]
    text = b.evaluate("document.body.innerText")
    assert "'dev' is selected most at init (3 of 4)." in text
    assert "Top commands: /flow:implement (10)" in text
    assert "8 of 10" in text and "80%" in text
    assert "6 of 8" in text and "75%" in text
    assert "not enough data" in text  # e.g. the hostile command's single start
    assert "51 events" in text and "2 unreadable lines were skipped" in text
    assert b.evaluate("document.querySelectorAll('section.card').length") == 6
    # Bars and the funnel are HTML (readable text at any width), the activity chart SVG.
    assert b.evaluate("document.querySelectorAll('.hbars, .funnel, svg.chart').length") >= 4


def test_hostile_values_are_inert(loaded: dict[str, Any]) -> None:
    b: Browser = loaded["browser"]
    assert b.evaluate("document.querySelectorAll('script, img, iframe, object, embed').length") == 0
    assert b.evaluate("document.title") == "Role usage report · flowspec-telemetry"
    handlers = b.evaluate(
        "[...document.querySelectorAll('*')].flatMap(e => [...e.attributes])"
        ".filter(a => a.name.startsWith('on')).length"
    )
    assert handlers == 0
    assert b.evaluate("document.styleSheets.length") == 1
    assert HOSTILE_ROLE in b.evaluate("document.body.innerText")  # shown as text


def test_screenshot_is_not_blank(loaded: dict[str, Any]) -> None:
    b: Browser = loaded["browser"]
    b.call(
        "Emulation.setDeviceMetricsOverride",
        {"width": 1280, "height": 2000, "deviceScaleFactor": 0.25, "mobile": False},
    )
    try:
        png = b.screenshot()
    finally:
        b.call("Emulation.clearDeviceMetricsOverride")
    width, height, rows = png_pixels(png)
    assert width >= 300 and height >= 400
    colours: set[bytes] = set()
    bpp = len(rows[0]) // width
    for row in rows[::4]:
        for x in range(0, len(row), bpp * 3):
            colours.add(row[x : x + 3])
    assert len(colours) > 50  # text, charts and cards, not one flat colour
