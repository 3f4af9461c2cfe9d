"""The weekly org dashboard in headless Chromium: no request, no error, the answers and labels."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from flowspec_telemetry.org.backends import open_store, parse_target
from flowspec_telemetry.org.ingest import check_report, ingest
from flowspec_telemetry.org.weekly import weekly_insights
from flowspec_telemetry.org.weekly_html import render_weekly_html
from flowspec_telemetry.report import weekly

from ..report._chromium import CHROMIUM, Browser, file_url, problems, requests
from .conftest import LISTS
from .test_weekly import person_week

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


def _page(tmp_path: Path, people: int) -> Path:
    rng = random.Random(3)  # noqa: S311 - reproducible simulated people
    store = open_store(parse_target(str(tmp_path / "org.duckdb")), read_only=False)
    items = []
    for p in range(people):
        salt = rng.randbytes(32)
        report = weekly.build_weekly_report(person_week(p, 0), LISTS, week="2026-W40", salt=salt)
        items.append(check_report(f"r{p}", report))
    ingest(store, items)  # type: ignore[arg-type]
    data = weekly_insights(store)
    store.close()
    page = tmp_path / "org.html"
    page.write_text(render_weekly_html(data, generated_at="2026-12-01 10:00 UTC"), encoding="utf-8")
    return page


def test_the_dashboard_shows_answers_and_intervals(browser: Browser, tmp_path: Path) -> None:
    page = _page(tmp_path, 40)
    events = browser.load(file_url(page))
    assert requests(events) == [file_url(page)]
    assert problems(events) == []
    text = browser.evaluate("document.body.innerText")
    assert "Roles selected at init" in text and "95 % interval" in text
    assert "Based on 40 weekly share reports" in text
    assert browser.evaluate("document.querySelectorAll('script').length") == 0


def test_below_k_contributors_is_labelled(browser: Browser, tmp_path: Path) -> None:
    page = _page(tmp_path, 3)
    events = browser.load(file_url(page))
    assert problems(events) == []
    text = browser.evaluate("document.body.innerText")
    assert "fewer than 5 contributors (3)" in text
    assert "Held back" in text and "nothing recorded" not in text.lower()
