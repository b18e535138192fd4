"""Experiments for the dashboard: definitions from ``app.state.experiments`` and their scorecards from
:func:`shelfwise.experiments.analysis.analyse` (per-arm estimates with confidence intervals, treatment vs
control, the sample-ratio check), drawn as interval charts (:mod:`shelfwise.web.charts`, Chart.js in the page).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Any

from shelfwise.web.charts import Interval, Unit, interval_chart

__all__ = ["experiment_panel", "experiments_view"]

log = logging.getLogger(__name__)

COUNT_COLUMNS = ("users", "impressions", "clicks", "purchasers")
METRIC_LABELS = {
    "ctr": "CTR",
    "conversion": "conversion",
    "revenue_per_user": "revenue / user",
    "diversity": "list diversity",
    "brand_fairness": "brand fairness",
}
#: How each metric's axis is written (CTR counts clicks per list, so it may pass 1).
METRIC_UNITS: dict[str, Unit] = {
    "ctr": "number",
    "conversion": "rate",
    "revenue_per_user": "money",
    "diversity": "rate",
    "brand_fairness": "rate",
}


def _finite(x: Any) -> bool:
    return isinstance(x, int | float) and math.isfinite(x)


def _interval(arm: str, m: Mapping[str, Any]) -> Interval | None:
    if not _finite(m.get("value")):
        return None
    low, high = m.get("low"), m.get("high")
    return Interval(arm, float(m["value"]), low if _finite(low) else None, high if _finite(high) else None)


def _cell(iv: Interval | None) -> str:
    if iv is None:
        return "n/a"
    if iv.low is None or iv.high is None:
        return f"{iv.value:.4g}"
    return f"{iv.value:.4g} [{iv.low:.4g}, {iv.high:.4g}]"


def _summary(result: Mapping[str, Any]) -> str:
    parts = []
    srm = result.get("srm") or {}
    if srm:
        verdict = "passed" if srm.get("passed") else "FAILED (sample ratio mismatch)"
        parts.append(f"sample-ratio check {verdict}, p = {srm.get('p_value', float('nan')):.3g}")
    comparisons = result.get("comparisons", [])
    sig = [c["metric"] for c in comparisons if c.get("significant")]
    waiting = sorted(
        {c["verdict"] for c in comparisons if c.get("verdict", "").startswith(("insufficient", "collecting"))}
    )
    if sig:
        parts.append(f"significant vs {result.get('control', 'control')}: {', '.join(sig)}")
    elif waiting:
        parts.append("no verdict yet (" + "; ".join(waiting) + ")")
    else:
        parts.append("no significant difference")
    parts.append(f"{result.get('attributed_events', 0):,} attributed events")
    parts += [str(n) for n in result.get("notes", [])]
    return "; ".join(parts)


def experiment_panel(name: str, status: str, result: Mapping[str, Any] | None) -> dict[str, Any]:
    """Template values of one experiment: per-arm table, one interval chart per metric, a summary line."""
    arms: Mapping[str, Mapping[str, Any]] = (result or {}).get("arms") or {}
    metrics = [m for m in METRIC_LABELS if any(m in (a.get("metrics") or {}) for a in arms.values())]
    rows: list[dict[str, Any]] = []
    per_metric: dict[str, list[Interval]] = {m: [] for m in metrics}
    for arm_name, arm in arms.items():
        cells = [f"{arm.get(c, 0):,}" for c in COUNT_COLUMNS]
        for m in metrics:
            iv = _interval(arm_name, (arm.get("metrics") or {}).get(m, {}))
            cells.append(_cell(iv))
            if iv is not None:
                per_metric[m].append(iv)
        rows.append({"name": arm_name, "cells": cells})
    charts = [
        interval_chart(f"{METRIC_LABELS[m]} by arm (95% CI)", per_metric[m], unit=METRIC_UNITS[m])
        for m in metrics
        if per_metric[m]
    ]
    return {
        "name": name,
        "status": status,
        "summary": _summary(result) if result else "no results yet",
        "columns": [*COUNT_COLUMNS, *(METRIC_LABELS[m] for m in metrics)],
        "arms": rows,
        "charts": charts,
    }


def _result(state: Any, experiment: Any) -> Mapping[str, Any] | None:
    """The scorecard of one experiment as JSON-ready dict, or ``None`` when it cannot be computed."""
    try:
        from shelfwise.experiments.analysis import analyse

        return analyse(
            state.store,
            experiment,
            state.settings.experiments,
            default_consent=state.settings.privacy.default_consent,
        ).to_dict()
    except Exception as exc:  # an analysis failure must not take the whole dashboard down
        log.warning("no results for experiment %s: %s", experiment.name, exc)
        return None


def experiments_view(state: Any) -> list[dict[str, Any]]:
    """Every experiment of the app with its scorecard."""
    registry = getattr(state, "experiments", None)
    if registry is None:
        return []
    return [experiment_panel(e.name, e.status, _result(state, e)) for e in registry.list()]
