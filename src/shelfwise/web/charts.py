"""Dashboard charts as data: a :class:`Chart` is what to draw, serialised as JSON into the page and drawn by
Chart.js (vendored in ``static/vendor/``, served by the app) through ``static/charts.js``. No inline script:
the JSON sits in a ``<script type="application/json">`` block, which the page CSP does not execute.

Axes are chosen here, from the data, so a figure never claims a range its numbers cannot reach: values that are
all >= 0 start at 0, the top is the smallest "nice" number at or above the largest value (``nice_ceiling``),
and a rate whose values are all in [0, 1] never goes above 1. Each chart also carries a one-line text summary (``describe``) that the page
shows to screen readers and that tests read.

Example:
    >>> c = interval_chart("CTR", [Interval("control", 0.10, 0.08, 0.12), Interval("mmr", 0.13, 0.11, 0.15)],
    ...                    unit="rate")
    >>> c.axis.low, c.axis.high
    (0.0, 0.15)
    >>> "control: 0.1 (95% CI 0.08 to 0.12)" in c.describe()
    True
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "Axis",
    "Bar",
    "Chart",
    "Interval",
    "Series",
    "Unit",
    "axis_for",
    "bar_chart",
    "interval_chart",
    "line_chart",
    "nice_ceiling",
]

Unit = Literal["count", "rate", "money", "ms", "number"]
_NICE = (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0)


@dataclass(frozen=True)
class Interval:
    """One arm's estimate with its confidence interval (``low`` / ``high`` None: no interval)."""

    label: str
    value: float
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class Bar:
    """One labelled bar."""

    label: str
    value: float


@dataclass(frozen=True)
class Series:
    """One line or set of bars: a label and one value per x label (None: no data that day)."""

    label: str
    values: list[float | None]


@dataclass(frozen=True)
class Axis:
    """The value axis: its range and how its numbers are written."""

    low: float
    high: float
    unit: Unit = "number"


@dataclass(frozen=True)
class Chart:
    """One figure: ``kind`` line (trends), bar (horizontal bars) or interval (estimate with a 95% CI)."""

    kind: Literal["line", "bar", "interval"]
    title: str
    labels: list[str]
    series: list[Series]
    axis: Axis
    intervals: list[Interval] = field(default_factory=list)

    def describe(self) -> str:
        """The numbers in words (for screen readers, and what a test can compare with the data)."""
        if self.kind == "interval":
            return "; ".join(
                f"{r.label}: {_fmt(r.value)}"
                + (
                    f" (95% CI {_fmt(r.low)} to {_fmt(r.high)})"
                    if r.low is not None and r.high is not None
                    else ""
                )
                for r in self.intervals
            )
        parts = []
        for s in self.series:
            shown = [
                (lab, v) for lab, v in zip(self.labels, map(_num, s.values), strict=True) if v is not None
            ]
            if self.kind == "line" and len(shown) > 2:
                vals = [v for _, v in shown]
                parts.append(
                    f"{s.label}: {len(shown)} points from {shown[0][0]} to {shown[-1][0]}, "
                    f"min {_fmt(min(vals))}, max {_fmt(max(vals))}, last {_fmt(vals[-1])}"
                )
            else:
                parts.append(f"{s.label}: " + ", ".join(f"{lab} {_fmt(v)}" for lab, v in shown))
        return "; ".join(parts)

    def to_json(self) -> dict[str, Any]:
        """What ``static/charts.js`` draws."""
        out: dict[str, Any] = {
            "kind": self.kind,
            "title": self.title,
            "labels": self.labels,
            "series": [{"label": s.label, "values": [_num(v) for v in s.values]} for s in self.series],
            "axis": {"min": self.axis.low, "max": self.axis.high, "unit": self.axis.unit},
        }
        if self.kind == "interval":
            out["intervals"] = [
                {"label": r.label, "value": _num(r.value), "low": _num(r.low), "high": _num(r.high)}
                for r in self.intervals
            ]
        return out

    def script_json(self) -> str:
        """:meth:`to_json` as text safe inside ``<script type="application/json">`` (no ``</script>``)."""
        text = json.dumps(self.to_json(), separators=(",", ":"), allow_nan=False)
        return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _num(v: float | None) -> float | None:
    return float(v) if v is not None and math.isfinite(v) else None


def _fmt(value: float | None) -> str:
    if value is None:
        return "n/a"
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.4g}" if abs(value) >= 1 else f"{value:.3g}"


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 times a power of ten that is >= ``value`` (> 0).

    >>> nice_ceiling(0.137), nice_ceiling(7), nice_ceiling(1234)
    (0.15, 8.0, 1500.0)
    """
    if value <= 0 or not math.isfinite(value):
        raise ValueError(f"nice_ceiling needs a positive finite number, got {value!r}")
    power = 10.0 ** math.floor(math.log10(value))
    for m in _NICE:
        top = round(m * power, 12)
        if top >= value * (1 - 1e-12):
            return top
    return round(10 * power, 12)


def axis_for(values: Sequence[float | None], unit: Unit = "number") -> Axis:
    """An axis that fits ``values``: from 0 (or a nice floor below the smallest negative value) to a nice
    ceiling of the largest; ``[0, 1]`` when every value is 0 or missing; a rate with values in [0, 1] never above 1."""
    finite = [float(v) for v in values if v is not None and math.isfinite(v)]
    lo = min(finite, default=0.0)
    hi = max(finite, default=0.0)
    low = 0.0 if lo >= 0 else -nice_ceiling(-lo)
    high = nice_ceiling(hi) if hi > 0 else (0.0 if lo < 0 else 1.0)
    if unit == "rate" and lo >= 0 and hi <= 1:
        high = min(high, 1.0)
    return Axis(low, high, unit)


def line_chart(title: str, labels: Sequence[str], series: Sequence[Series], unit: Unit = "number") -> Chart:
    """Lines over ``labels`` (days), one per series."""
    return Chart(
        "line",
        title,
        list(labels),
        list(series),
        axis_for([v for s in series for v in s.values], unit),
    )


def bar_chart(title: str, bars: Sequence[Bar], unit: Unit = "number") -> Chart:
    """Horizontal bars, one per label, in the given order."""
    values: list[float | None] = [b.value for b in bars]
    return Chart("bar", title, [b.label for b in bars], [Series(title, values)], axis_for(values, unit))


def interval_chart(title: str, rows: Sequence[Interval], unit: Unit = "number") -> Chart:
    """A forest plot: one row per arm, the estimate and a bar over its 95% confidence interval."""
    ends = [v for r in rows for v in (r.value, r.low, r.high)]
    return Chart(
        "interval",
        title,
        [r.label for r in rows],
        [Series("estimate", [r.value for r in rows])],
        axis_for(ends, unit),
        list(rows),
    )
