"""Small inline SVG charts: horizontal bars, stacked columns, meters.

Every label passes through `text.esc` (element text and attributes alike);
geometry and colours are computed here from numbers, never taken from data.
Charts scale with their container (`viewBox`, width 100 %), and carry a
`<title>` and `role="img"` so screen readers get a summary.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from flowspec_telemetry.report._text import count, esc, num

PALETTE: Final = (
    "#4f46e5",
    "#0d9488",
    "#d97706",
    "#e11d48",
    "#0284c7",
    "#7c3aed",
    "#65a30d",
    "#db2777",
)
OTHER: Final = "#94a3b8"


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar: its label (raw, escaped here), value, colour and a note after it."""

    label: str
    value: float
    color: str = PALETTE[0]
    note: str = ""  # our own text (already safe), shown after the value


def _f(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def hbars(bars: Sequence[Bar], *, title: str) -> str:
    """Horizontal bars, one row per item: label, bar, value.

    HTML rather than SVG: the labels are text at the page's size at any width
    (an SVG scaled to a phone shrank them to about 7 px), wrap instead of being
    clipped (a long hash or display name stays whole), and need no font metrics.
    """
    if not bars:
        return '<p class="empty">Nothing recorded yet.</p>'
    biggest = max(b.value for b in bars) or 1
    rows = []
    for bar in bars:
        share = max(bar.value / biggest * 100, 1 if bar.value else 0)
        rows.append(
            f'<div class="hbar" title="{esc(bar.label, 200)}: {num(bar.value)}">'
            f'<span class="lbl">{esc(bar.label, 80)}</span>'
            f'<span class="track"><span class="fill" style="width:{share:.1f}%;'
            f'background:{bar.color}"></span></span>'
            f'<span class="val">{num(bar.value)}{bar.note}</span></div>'
        )
    return f'<div class="hbars" role="img" aria-label="{esc(title, 200)}">{"".join(rows)}</div>'


def _nice_step(top: float) -> int:
    if top <= 5:
        return 1
    raw = top / 4
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * mag:
            return max(1, int(m * mag))
    return int(10 * mag)  # pragma: no cover


def columns(
    labels: Sequence[str],
    series: Sequence[tuple[str, str, Sequence[int]]],
    *,
    title: str,
    width: int = 860,
    height: int = 260,
    max_labels: int = 12,
    variant: str = "wide",
) -> str:
    """Stacked columns: `labels` along x (dates, ours), `series` = (name, colour, values).

    `variant` names the drawing for CSS ("wide" for desktops, "narrow" for
    phones: drawn 400 wide, so its text stays readable when scaled down).
    """
    if not labels:
        return '<p class="empty">Nothing recorded yet.</p>'
    left, right, top, bottom = 44, 8, 12, 34
    totals = [sum(s[2][i] for s in series) for i in range(len(labels))]
    peak = max(totals) or 1
    step = _nice_step(peak)
    ymax = math.ceil(peak / step) * step
    plot_w, plot_h = width - left - right, height - top - bottom
    slot = plot_w / len(labels)
    bar_w = max(min(slot * 0.72, 40), 1)
    parts = [
        f'<svg class="chart columns {variant}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{esc(title, 200)}" preserveAspectRatio="xMinYMin meet">',
        f"<title>{esc(title, 200)}</title>",
    ]
    for tick in range(0, ymax + 1, step):
        y = top + plot_h - tick / ymax * plot_h
        parts.append(
            f'<line class="grid" x1="{left}" x2="{width - right}" y1="{_f(y)}" y2="{_f(y)}"/>'
            f'<text class="axis" x="{left - 6}" y="{_f(y + 4)}" text-anchor="end">'
            f"{num(tick)}</text>"
        )
    every = max(1, math.ceil(len(labels) / max_labels))
    for i, label in enumerate(labels):
        x = left + i * slot + (slot - bar_w) / 2
        y = top + plot_h
        parts.append(f"<g><title>{esc(label)}: {count(totals[i], 'event')}</title>")
        for name, color, values in series:
            v = values[i]
            if not v:
                continue
            h = v / ymax * plot_h
            y -= h
            parts.append(
                f'<rect x="{_f(x)}" y="{_f(y)}" width="{_f(bar_w)}" height="{_f(h)}" '
                f'fill="{color}"><title>{esc(label)} · {esc(name)}: {num(v)}</title></rect>'
            )
        parts.append("</g>")
        if i % every == 0:
            parts.append(
                f'<text class="axis" x="{_f(x + bar_w / 2)}" y="{height - bottom + 16}" '
                f'text-anchor="middle">{esc(label[5:] if len(label) == 10 else label)}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def meter(value: float | None, *, label: str, color: str = PALETTE[1], width: int = 160) -> str:
    """A small horizontal gauge for a rate in [0, 1]; hatched when there is not enough data."""
    parts = [
        f'<svg class="meter" viewBox="0 0 {width} 12" width="{width}" height="12" role="img" '
        f'aria-label="{esc(label, 200)}"><title>{esc(label, 200)}</title>'
        f'<rect x="0" y="0" width="{width}" height="12" rx="6" class="track"/>'
    ]
    if value is None:
        parts.append(f'<rect x="0" y="0" width="{width}" height="12" rx="6" class="nodata"/>')
    else:
        w = max(0.0, min(1.0, value)) * width
        parts.append(f'<rect x="0" y="0" width="{_f(w)}" height="12" rx="6" fill="{color}"/>')
    parts.append("</svg>")
    return "".join(parts)


def funnel(offered: int, clicked: int, *, title: str) -> str:
    """Two stages, offered then clicked, as centred bars narrowing with the click-through.

    HTML, so its figures keep the page's text size on a phone.
    """
    if not offered and not clicked:
        return '<p class="empty">No handoff has been offered yet.</p>'
    top = max(offered, clicked) or 1
    stages = "".join(
        f'<div class="stage"><span class="bar" style="width:{max(v / top * 100, 2):.1f}%;'
        f'background:{color}"></span><span class="figure">{num(v)} {name}</span></div>'
        for name, v, color in (("offered", offered, PALETTE[4]), ("clicked", clicked, PALETTE[1]))
    )
    return f'<div class="funnel" role="img" aria-label="{esc(title, 200)}">{stages}</div>'
