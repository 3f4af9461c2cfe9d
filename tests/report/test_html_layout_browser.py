"""The HTML report on a phone (390 px) and a desktop (1280 px), in dark mode, without emoji fonts.

Issue 14.4: tables cut off on a phone, agent names wrapping 2-3 letters a
line, chart text shrunk to about 7 px, bar labels clipped on the left
(`c:99e0...` for `hmac:99e0...`), role icons shown as empty boxes where no
emoji font is installed. Headless Chromium lays the real report out at each
width, with a fontconfig that knows only DejaVu (no emoji font at all), and
every element's scroll width is compared with its client width.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import flowspec_telemetry
from flowspec_telemetry.demo import build_demo

from ..conftest import run_cli
from ._chromium import CHROMIUM, Browser, file_url

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="chromium is not installed (scripts/test installs Debian's `chromium` package)",
    ),
]

LONG_ROLE = "Data Scientist and Machine Learning Engineer"  # outside the catalog: a hash
_EMOJI = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\ufe0f]")

# Every element whose content is wider than its box (what is cut off or must be
# scrolled sideways); SVG internals and hidden elements are left out.
_OVERFLOWING = """(() => {
  const bad = [];
  for (const el of document.querySelectorAll('body *')) {
    if (el.closest('svg')) continue;
    if (getComputedStyle(el).display === 'none' || el.clientWidth === 0) continue;
    if (el.scrollWidth > el.clientWidth + 1) {
      bad.push(`${el.tagName}.${el.className}: ${el.scrollWidth} > ${el.clientWidth} ` +
               (el.textContent || '').slice(0, 50));
    }
  }
  return {bad, page: document.documentElement.scrollWidth, viewport: window.innerWidth};
})()"""


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("layout") / "demo"
    build_demo(root)  # consent for that folder only
    tracker = flowspec_telemetry.default_tracker()
    tracker.invalidate()
    for _ in range(40):  # a hashed role near the top of the role chart
        tracker.track("role.selected", role=LONG_ROLE, source="init", project_root=root)
    tracker.close()
    result = run_cli("report", "--html", "report.html", cwd=root)
    assert result.returncode == 0, result.stderr
    return root / "report.html"


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    """Chromium whose fontconfig knows only the DejaVu fonts: no emoji font exists for it."""
    folder = tmp_path_factory.mktemp("fonts")
    conf = folder / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        "<dir>/usr/share/fonts/truetype/dejavu</dir>"
        f"<cachedir>{folder / 'cache'}</cachedir></fontconfig>"
    )
    old = os.environ.get("FONTCONFIG_FILE")
    os.environ["FONTCONFIG_FILE"] = str(conf)
    try:
        b = Browser()
    finally:
        if old is None:
            os.environ.pop("FONTCONFIG_FILE", None)
        else:
            os.environ["FONTCONFIG_FILE"] = old
    try:
        yield b
    finally:
        b.close()


def _show(b: Browser, url: str, width: int, *, dark: bool = False) -> dict[str, Any]:
    b.call(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600},
    )
    scheme = "dark" if dark else "light"
    b.call(
        "Emulation.setEmulatedMedia",
        {"features": [{"name": "prefers-color-scheme", "value": scheme}]},
    )
    b.load(url)
    result: dict[str, Any] = b.evaluate(_OVERFLOWING)
    return result


@pytest.mark.parametrize("width", [390, 1280])
def test_nothing_is_cut_off(browser: Browser, report: Path, width: int) -> None:
    found = _show(browser, file_url(report), width)
    assert found["bad"] == []
    assert found["page"] <= found["viewport"]  # no sideways scrolling of the page


@pytest.mark.parametrize("width", [390, 1280])
def test_bar_labels_are_whole_and_readable(browser: Browser, report: Path, width: int) -> None:
    _show(browser, file_url(report), width)
    labels = browser.evaluate(
        "[...document.querySelectorAll('.hbar .lbl')].map(e => ({text: e.textContent, "
        "size: parseFloat(getComputedStyle(e).fontSize), "
        "whole: e.scrollWidth <= e.clientWidth + 1}))"
    )
    assert labels, "no bar labels"
    assert all(label["whole"] for label in labels)
    assert all(label["size"] >= 12 for label in labels)  # not ~7 px on a phone
    hashed = [label["text"] for label in labels if label["text"].startswith("hmac:")]
    assert hashed and all(re.fullmatch(r"hmac:[0-9a-f]{16}", h) for h in hashed)
    assert "Developer" in [label["text"] for label in labels]  # display name, no icon
    # The activity chart is drawn for the width: text at a readable size on screen.
    visible = browser.evaluate(
        "[...document.querySelectorAll('svg.columns')].filter("
        "s => getComputedStyle(s).display !== 'none').map(s => s.getBoundingClientRect().width "
        "/ s.viewBox.baseVal.width * 12)"
    )
    assert len(visible) == 1
    assert visible[0] >= 9.5  # the axis text (12 units) as drawn on the screen, in px


def test_tables_on_a_phone_are_one_block_a_row_with_labels(browser: Browser, report: Path) -> None:
    _show(browser, file_url(report), 390)
    cells = browser.evaluate(
        "[...document.querySelectorAll('#handoffs .tbl td:not(.arrow)')].map(td => "
        "({label: getComputedStyle(td, '::before').content, "
        "width: td.getBoundingClientRect().width}))"
    )
    assert cells
    assert all(c["label"] not in ("none", '""', "normal") for c in cells)
    assert min(c["width"] for c in cells) > 300  # each cell on its own line, full width


def test_no_emoji_anywhere(browser: Browser, report: Path) -> None:
    _show(browser, file_url(report), 1280)
    text = browser.evaluate("document.body.innerText")
    assert not _EMOJI.search(text), _EMOJI.findall(text)
    assert not _EMOJI.search(report.read_text())


@pytest.mark.parametrize("width", [390, 1280])
def test_dark_mode(browser: Browser, report: Path, width: int) -> None:
    found = _show(browser, file_url(report), width, dark=True)
    assert found["bad"] == []
    colors = browser.evaluate(
        "[getComputedStyle(document.body).backgroundColor, "
        "getComputedStyle(document.querySelector('.card')).color]"
    )
    background = [int(x) for x in re.findall(r"\d+", colors[0])[:3]]
    ink = [int(x) for x in re.findall(r"\d+", colors[1])[:3]]
    assert sum(background) < 150 and sum(ink) > 500  # dark page, light text
