"""Experiments for the dashboard: definitions from ``app.state.experiments``, per-arm results with
confidence intervals from the experiment analysis, drawn as inline SVG interval charts.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from shelfwise.web.charts import Interval, interval_chart

__all__ = ["arm_metrics", "experiments_view"]

log = logging.getLogger(__name__)

_VALUE = ("value", "mean", "estimate", "rate")
_LOW = ("low", "ci_low", "lower")
_HIGH = ("high", "ci_high", "upper")


def _first(d: Mapping[str, Any], keys: tuple[str, ...]) -> float | None:
    for k in keys:
        if isinstance(d.get(k), int | float):
            return float(d[k])
    return None


def arm_metrics(arm: Mapping[str, Any]) -> dict[str, Interval]:
    """The metrics of one arm that carry an estimate (and, when given, a confidence interval)."""
    name = str(arm.get("arm") or arm.get("name") or "?")
    metrics = arm.get("metrics", arm)
    out: dict[str, Interval] = {}
    for key, value in metrics.items():
        if isinstance(value, Mapping) and (v := _first(value, _VALUE)) is not None:
            ci = value.get("ci")
            low, high = (
                (ci[0], ci[1])
                if isinstance(ci, list | tuple) and len(ci) == 2
                else (_first(value, _LOW), _first(value, _HIGH))
            )
            out[key] = Interval(name, v, low, high)
    return out


def _counts(arm: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in arm.items() if isinstance(v, int | float) and not isinstance(v, bool)}


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return f"{v:,}" if isinstance(v, int) else str(v)


def experiment_panel(name: str, status: str, results: Mapping[str, Any] | None) -> dict[str, Any]:
    """Template values of one experiment: a per-arm table and one interval chart per metric."""
    arms = list((results or {}).get("arms") or [])
    per_arm = [arm_metrics(a) for a in arms]
    metric_names = [m for m in dict.fromkeys(k for pm in per_arm for k in pm)]
    count_names = [c for c in dict.fromkeys(k for a in arms for k in _counts(a))]
    rows = []
    for arm, pm in zip(arms, per_arm, strict=True):
        cells = [_fmt(arm.get(c, "")) for c in count_names]
        for m in metric_names:
            iv = pm.get(m)
            if iv is None:
                cells.append("")
            elif iv.low is not None and iv.high is not None:
                cells.append(f"{iv.value:.4g} [{iv.low:.4g}, {iv.high:.4g}]")
            else:
                cells.append(f"{iv.value:.4g}")
        rows.append({"name": str(arm.get("arm") or arm.get("name")), "cells": cells})
    charts = [
        interval_chart(f"{name}: {m} (95% CI)", [pm[m] for pm in per_arm if m in pm]) for m in metric_names
    ]
    summary = (results or {}).get("summary")
    return {
        "name": name,
        "status": status,
        "summary": summary if isinstance(summary, str) else None,
        "columns": count_names + metric_names,
        "arms": rows,
        "charts": charts,
    }


def _results(state: Any, experiment: Any) -> Mapping[str, Any] | None:
    """The analysis of one experiment as a JSON-ready dict, or ``None`` when it cannot be computed."""
    analyse = getattr(state, "experiment_results", None)
    try:
        if callable(analyse):
            return analyse(experiment.name)
        from shelfwise.experiments.analysis import analyse_experiment

        return analyse_experiment(state.store, experiment, state.settings.experiments).to_dict()
    except Exception as exc:  # an analysis failure must not take the dashboard down
        log.warning("no results for experiment %s: %s", experiment.name, exc)
        return None


def experiments_view(state: Any) -> list[dict[str, Any]]:
    """Every experiment of the app with its results."""
    registry = getattr(state, "experiments", None)
    if registry is None:
        return []
    return [experiment_panel(e.name, e.status, _results(state, e)) for e in registry.list()]
