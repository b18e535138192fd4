"""Inline SVG charts: what is drawn matches the numbers, and the figure states them for screen readers."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from shelfwise.web.charts import Bar, Interval, bar_chart, interval_chart

SVG = "{http://www.w3.org/2000/svg}"


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg.replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1))


def test_interval_chart_draws_one_whisker_and_point_per_arm_in_order() -> None:
    rows = [Interval("control", 0.10, 0.08, 0.12), Interval("mmr", 0.14, 0.11, 0.17)]
    root = _parse(interval_chart("CTR", rows))
    points = [c for c in root.iter(f"{SVG}circle") if c.get("class") == "point"]
    assert len(points) == 2
    # the larger estimate sits further right; each point lies inside its whisker
    xs = [float(p.get("cx")) for p in points]
    assert xs[0] < xs[1]
    whiskers = [
        ln for ln in root.iter(f"{SVG}line") if ln.get("class") == "ci" and ln.get("y1") == ln.get("y2")
    ]
    assert len(whiskers) == 2
    for x, w in zip(xs, whiskers, strict=True):
        assert float(w.get("x1")) < x < float(w.get("x2"))
    desc = root.find(f"{SVG}desc").text
    assert "control: 0.1 (95% CI 0.08 to 0.12)" in desc and "mmr: 0.14" in desc


def test_interval_chart_without_interval_draws_no_whisker_and_escapes_labels() -> None:
    svg = interval_chart("<rate>", [Interval("a&b", 2.0)])
    root = _parse(svg)
    assert not [ln for ln in root.iter(f"{SVG}line") if ln.get("class") == "ci"]
    assert root.find(f"{SVG}title").text == "<rate>"
    assert "a&amp;b" in svg


def test_bar_chart_widths_are_proportional() -> None:
    root = _parse(bar_chart("p99", [Bar("search", 40.0), Bar("recommend", 20.0)], unit=" ms"))
    widths = [float(r.get("width")) for r in root.iter(f"{SVG}rect")]
    assert widths[0] == 2 * widths[1]
    assert re.search(r"search: 40 ms", root.find(f"{SVG}desc").text)
