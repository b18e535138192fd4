"""Inline SVG charts for the dashboard: no JavaScript library, no network, readable by screen readers.

Each chart is a ``<svg role="img">`` with a ``<title>`` and a ``<desc>`` that states the numbers, so the
figure carries its data for people who cannot see it, and a test can read what was drawn.

Example:
    >>> svg = interval_chart("CTR", [Interval("control", 0.10, 0.08, 0.12), Interval("mmr", 0.13, 0.11, 0.15)])
    >>> svg.startswith("<svg") and "control" in svg and 'class="ci"' in svg
    True
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Bar", "Interval", "bar_chart", "interval_chart"]

_WIDTH = 360
_ROW = 28
_LEFT = 110
_RIGHT = 16
_TOP = 26
_BOTTOM = 26


@dataclass(frozen=True)
class Interval:
    """One arm's estimate with its confidence interval.

    Attributes:
        label: the arm's name.
        value: the point estimate.
        low: lower end of the interval (``None`` when there is no interval).
        high: upper end of the interval.
    """

    label: str
    value: float
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class Bar:
    """One labelled bar."""

    label: str
    value: float


def _fmt(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.4g}" if abs(value) >= 1 else f"{value:.3g}"


def _scale(lo: float, hi: float) -> tuple[float, float]:
    """A padded [lo, hi] domain that includes 0 when the values are all of one sign near it."""
    if lo > 0 and lo < (hi - lo):
        lo = 0.0
    if hi < 0 and -hi < (hi - lo):
        hi = 0.0
    if math.isclose(lo, hi):
        lo, hi = lo - 1.0, hi + 1.0
    pad = (hi - lo) * 0.06
    return lo - pad, hi + pad


def _svg_open(title: str, desc: str, height: int, css_class: str) -> list[str]:
    t = html.escape(title)
    return [
        f'<svg class="chart {css_class}" role="img" viewBox="0 0 {_WIDTH} {height}" '
        f'width="100%" preserveAspectRatio="xMinYMin meet" aria-label="{t}">',
        f"<title>{t}</title><desc>{html.escape(desc)}</desc>",
        f'<text class="chart-title" x="4" y="16">{t}</text>',
    ]


def interval_chart(title: str, rows: Sequence[Interval]) -> str:
    """A forest plot: one row per arm, a dot at the estimate and a whisker over its confidence interval."""
    height = _TOP + _BOTTOM + _ROW * max(1, len(rows))
    ends = [v for r in rows for v in (r.value, r.low, r.high) if v is not None and math.isfinite(v)]
    lo, hi = _scale(min(ends, default=0.0), max(ends, default=1.0))
    plot_w = _WIDTH - _LEFT - _RIGHT

    def x(v: float) -> float:
        return _LEFT + (v - lo) / (hi - lo) * plot_w

    desc = "; ".join(
        f"{r.label}: {_fmt(r.value)}"
        + (f" (95% CI {_fmt(r.low)} to {_fmt(r.high)})" if r.low is not None and r.high is not None else "")
        for r in rows
    )
    out = _svg_open(title, desc, height, "interval-chart")
    base = height - _BOTTOM
    out.append(f'<line class="axis" x1="{_LEFT}" y1="{base}" x2="{_WIDTH - _RIGHT}" y2="{base}"/>')
    for tick in (lo, (lo + hi) / 2, hi):
        out.append(
            f'<text class="tick" x="{x(tick):.1f}" y="{base + 16}" text-anchor="middle">{_fmt(tick)}</text>'
        )
    if lo < 0 < hi:
        out.append(f'<line class="zero" x1="{x(0):.1f}" y1="{_TOP - 4}" x2="{x(0):.1f}" y2="{base}"/>')
    if rows:
        ref = rows[0].value
        out.append(f'<line class="ref" x1="{x(ref):.1f}" y1="{_TOP - 4}" x2="{x(ref):.1f}" y2="{base}"/>')
    for i, r in enumerate(rows):
        cy = _TOP + _ROW * i + _ROW / 2
        out.append(
            f'<text class="label" x="{_LEFT - 8}" y="{cy + 4:.1f}" text-anchor="end">{html.escape(r.label[:16])}</text>'
        )
        if r.low is not None and r.high is not None and math.isfinite(r.low) and math.isfinite(r.high):
            out.append(
                f'<line class="ci" x1="{x(r.low):.1f}" y1="{cy:.1f}" x2="{x(r.high):.1f}" y2="{cy:.1f}"/>'
                f'<line class="ci" x1="{x(r.low):.1f}" y1="{cy - 5:.1f}" x2="{x(r.low):.1f}" y2="{cy + 5:.1f}"/>'
                f'<line class="ci" x1="{x(r.high):.1f}" y1="{cy - 5:.1f}" x2="{x(r.high):.1f}" y2="{cy + 5:.1f}"/>'
            )
        out.append(f'<circle class="point" cx="{x(r.value):.1f}" cy="{cy:.1f}" r="4.5"/>')
    out.append("</svg>")
    return "".join(out)


def bar_chart(title: str, bars: Sequence[Bar], unit: str = "") -> str:
    """Horizontal bars with their values written at the end."""
    height = _TOP + 8 + _ROW * max(1, len(bars))
    top = max((b.value for b in bars), default=1.0) or 1.0
    plot_w = _WIDTH - _LEFT - _RIGHT - 48
    desc = "; ".join(f"{b.label}: {_fmt(b.value)}{unit}" for b in bars)
    out = _svg_open(title, desc, height, "bar-chart")
    for i, b in enumerate(bars):
        y = _TOP + _ROW * i
        w = max(1.0, b.value / top * plot_w)
        out.append(
            f'<text class="label" x="{_LEFT - 8}" y="{y + 17}" text-anchor="end">{html.escape(b.label[:16])}</text>'
            f'<rect class="bar" x="{_LEFT}" y="{y + 5}" width="{w:.1f}" height="{_ROW - 10}"/>'
            f'<text class="value" x="{_LEFT + w + 4:.1f}" y="{y + 17}">{_fmt(b.value)}{html.escape(unit)}</text>'
        )
    out.append("</svg>")
    return "".join(out)
