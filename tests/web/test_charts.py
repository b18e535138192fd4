"""Dashboard charts as data: axes that fit the numbers, the numbers in words, JSON safe inside a script block."""

from __future__ import annotations

import json
import math

import pytest

from shelfwise.web.charts import (
    Bar,
    Interval,
    Series,
    axis_for,
    bar_chart,
    interval_chart,
    line_chart,
    nice_ceiling,
)


def test_a_ctr_axis_runs_from_zero_to_just_above_the_largest_value() -> None:
    chart = interval_chart(
        "CTR", [Interval("control", 0.10, 0.08, 0.12), Interval("mmr", 0.14, 0.11, 0.17)], unit="rate"
    )
    assert (chart.axis.low, chart.axis.high) == (0.0, 0.2)
    # the old SVG drew an all-zero CTR from -1.12 to 1.12: now it is [0, 1]
    flat = interval_chart("CTR", [Interval("a", 0.0, 0.0, 0.0), Interval("b", 0.0, 0.0, 0.0)], unit="rate")
    assert (flat.axis.low, flat.axis.high) == (0.0, 1.0)
    # a rate near 1 stops at 1, a difference below 0 gets a negative end
    assert axis_for([0.97, 0.99], "rate").high == 1.0
    assert axis_for([-0.03, 0.05]).low == -0.03 and axis_for([-0.03, 0.05]).high == 0.05


@pytest.mark.parametrize(
    ("value", "top"), [(0.137, 0.15), (7, 8.0), (1234, 1500.0), (1, 1.0), (0.001, 0.001), (99, 100.0)]
)
def test_nice_ceiling_is_the_smallest_round_number_at_or_above(value: float, top: float) -> None:
    assert nice_ceiling(value) == pytest.approx(top)
    assert nice_ceiling(value) >= value


def test_interval_chart_states_each_arm_and_keeps_missing_intervals_missing() -> None:
    chart = interval_chart("CTR", [Interval("control", 0.1, 0.08, 0.12), Interval("a&b", 2.0)])
    assert chart.describe() == "control: 0.1 (95% CI 0.08 to 0.12); a&b: 2"
    data = chart.to_json()
    assert data["intervals"][1] == {"label": "a&b", "value": 2.0, "low": None, "high": None}
    assert data["labels"] == ["control", "a&b"]


def test_line_chart_leaves_gaps_for_days_without_data_and_describes_the_range() -> None:
    days = ["2024-03-01", "2024-03-02", "2024-03-03", "2024-03-04"]
    chart = line_chart("CTR", days, [Series("CTR", [0.1, None, 0.3, float("nan")])], unit="rate")
    assert chart.to_json()["series"][0]["values"] == [0.1, None, 0.3, None]
    assert (chart.axis.low, chart.axis.high) == (0.0, 0.3)
    assert chart.describe() == "CTR: 2024-03-01 0.1, 2024-03-03 0.3"


def test_bar_chart_keeps_the_order_and_its_json_cannot_close_the_script_block() -> None:
    chart = bar_chart("p95", [Bar("</script><b>x", 40.0), Bar("recommend", 20.0)], unit="ms")
    text = chart.script_json()
    assert "</script>" not in text and "<" not in text
    data = json.loads(text)
    assert data["labels"] == ["</script><b>x", "recommend"]
    assert data["series"][0]["values"] == [40.0, 20.0]
    assert data["axis"] == {"min": 0.0, "max": 40.0, "unit": "ms"}
    assert not math.isnan(data["axis"]["max"])
