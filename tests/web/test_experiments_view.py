"""The dashboard's experiment panel from a scorecard shaped as the experiment analysis returns it."""

from __future__ import annotations

from shelfwise.web.experiments_view import experiment_panel


def _metric(value: float, low: float, high: float) -> dict[str, float]:
    return {"value": value, "se": 0.01, "low": low, "high": high, "n": 100}


def test_panel_has_one_chart_per_metric_and_cells_with_intervals() -> None:
    result = {
        "control": "control",
        "arms": {
            "control": {
                "users": 50,
                "impressions": 200,
                "clicks": 20,
                "purchasers": 3,
                "metrics": {"ctr": _metric(0.1, 0.06, 0.14), "conversion": _metric(0.06, 0.0, 0.12)},
            },
            "diverse": {
                "users": 48,
                "impressions": 190,
                "clicks": 30,
                "purchasers": 4,
                "metrics": {"ctr": _metric(0.16, 0.11, 0.21), "conversion": _metric(float("nan"), 0, 0)},
            },
        },
        "comparisons": [{"metric": "ctr", "significant": True}],
        "srm": {"passed": True, "p_value": 0.84},
        "attributed_events": 50,
        "notes": [],
    }
    panel = experiment_panel("feed-diversity", "running", result)
    assert panel["columns"] == ["users", "impressions", "clicks", "purchasers", "CTR", "conversion"]
    assert panel["arms"][0]["cells"][4] == "0.1 [0.06, 0.14]"
    assert panel["arms"][1]["cells"][5] == "n/a"
    assert len(panel["charts"]) == 2
    assert "diverse: 0.16 (95% CI 0.11 to 0.21)" in panel["charts"][0].describe()
    assert (panel["charts"][0].axis.low, panel["charts"][0].axis.high) == (0.0, 0.25)
    assert (
        "sample-ratio check passed" in panel["summary"] and "significant vs control: ctr" in panel["summary"]
    )


def test_panel_without_results_says_so() -> None:
    panel = experiment_panel("x", "stopped", None)
    assert panel["charts"] == [] and panel["summary"] == "no results yet"
