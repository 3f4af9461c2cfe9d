"""Turning stored values into text that is safe to show in HTML and SVG.

Event values come from a file anyone with write access could have edited. So
every value is cleaned (control, bidi and zero-width characters removed, lone
surrogates replaced, long values cut) and then escaped with `html.escape(...,
quote=True)` before it reaches markup, whether element text or an attribute.
Numbers are formatted by us, never copied as text.
"""

from __future__ import annotations

import html
import re
from typing import Any, Final

from flowspec_telemetry.analysis.rates import percent
from flowspec_telemetry.core.normalize import UNSAFE_CHARS

# C0/C1 controls, zero-width and bidi controls (U+061C too), line/paragraph
# separators, BOM, tag characters: the one set every display layer uses.
_INVISIBLE: Final = UNSAFE_CHARS
_SURROGATE: Final = re.compile(r"[\ud800-\udfff]")
MAX_TEXT: Final = 60


def clean(value: Any, limit: int = MAX_TEXT) -> str:
    """A value as one line of plain text: invisible characters gone, cut to `limit`."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if len(text) > limit * 4:  # a 100 KB value: cut before the regexes see it all
        text = text[: limit * 4]
    text = _SURROGATE.sub("\ufffd", _INVISIBLE.sub("", text))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def esc(value: Any, limit: int = MAX_TEXT) -> str:
    """`clean`, then escaped for HTML text and quoted attributes (SVG included)."""
    return html.escape(clean(value, limit), quote=True)


def num(value: float | int) -> str:
    """A count with thousands separators (our own formatting, always safe)."""
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return f"{int(value):,}"


def count(n: float | int, noun: str, plural: str | None = None) -> str:
    """`1 event`, `2,000 events`: a formatted count with the noun in its number."""
    return f"{num(n)} {noun if n == 1 else plural or noun + 's'}"


pct = percent  # the one formatter, `analysis.rates.percent`, under the name the report uses


def duration(ms: float | int | None) -> str:
    """Milliseconds as a short human duration."""
    if ms is None:
        return "–"
    seconds = float(ms) / 1000
    if seconds < 1:
        return f"{float(ms):.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"
