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

from flowspec_telemetry.report._text import esc, num

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


def hbars(bars: Sequence[Bar], *, title: str, label_width: int = 150, width: int = 520) -> str:
    """Horizontal bars, one row per item, value at the end of each bar."""
    if not bars:
        return '<p class="empty">Nothing recorded yet.</p>'
    row, pad = 30, 6
    height = row * len(bars) + pad
    biggest = max(b.value for b in bars) or 1
    area = width - label_width - 90
    parts = [
        f'<svg class="chart hbars" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{esc(title, 200)}" preserveAspectRatio="xMinYMin meet">',
        f"<title>{esc(title, 200)}</title>",
    ]
    for i, bar in enumerate(bars):
        y = pad + i * row
        w = max(bar.value / biggest * area, 2 if bar.value else 0)
        parts.append(
            f"<g><title>{esc(bar.label, 200)}: {num(bar.value)}</title>"
            f'<text class="lbl" x="{label_width - 10}" y="{y + 17}" text-anchor="end">'
            f"{esc(bar.label, 26)}</text>"
            f'<rect x="{label_width}" y="{y + 3}" width="{_f(area)}" height="20" rx="4" '
            f'class="track"/>'
            f'<rect x="{label_width}" y="{y + 3}" width="{_f(w)}" height="20" rx="4" '
            f'fill="{bar.color}"/>'
            f'<text class="val" x="{_f(label_width + w + 8)}" y="{y + 18}">{num(bar.value)}'
            f"{bar.note}</text></g>"
        )
    parts.append("</svg>")
    return "".join(parts)


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
) -> str:
    """Stacked columns: `labels` along x (dates, ours), `series` = (name, colour, values)."""
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
        f'<svg class="chart columns" viewBox="0 0 {width} {height}" role="img" '
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
    every = max(1, math.ceil(len(labels) / 12))
    for i, label in enumerate(labels):
        x = left + i * slot + (slot - bar_w) / 2
        y = top + plot_h
        parts.append(f"<g><title>{esc(label)}: {num(totals[i])} events</title>")
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


def funnel(offered: int, clicked: int, *, title: str, width: int = 640) -> str:
    """Two stages, offered then clicked, as centred bars narrowing with the click-through."""
    if not offered and not clicked:
        return '<p class="empty">No handoff has been offered yet.</p>'
    top = max(offered, clicked) or 1
    h, gap = 36, 8
    parts = [
        f'<svg class="chart funnel" viewBox="0 0 {width} {2 * h + gap + 4}" role="img" '
        f'aria-label="{esc(title, 200)}" preserveAspectRatio="xMinYMin meet">',
        f"<title>{esc(title, 200)}</title>",
    ]
    for i, (name, value, color) in enumerate(
        (("offered", offered, PALETTE[4]), ("clicked", clicked, PALETTE[1]))
    ):
        w = max(value / top * (width - 20), 2 if value else 0)
        x = (width - w) / 2
        y = i * (h + gap) + 2
        parts.append(
            f'<rect x="{_f(x)}" y="{y}" width="{_f(w)}" height="{h}" rx="8" fill="{color}"/>'
            f'<text class="funnel-text" x="{width / 2}" y="{y + h / 2 + 6}" '
            f'text-anchor="middle">{num(value)} {name}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
