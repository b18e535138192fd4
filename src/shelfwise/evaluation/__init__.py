"""shelfwise.evaluation: the offline harness (experiment runners, model adapters, reports).

It sits on top of every other layer and drives the same pipelines the service runs: named models
(:mod:`~shelfwise.evaluation.registry`, adapters such as :mod:`~shelfwise.evaluation.shelfwise_model`) are
fitted on a split of the store's events (:mod:`shelfwise.encoded`) and scored with the metrics of
:mod:`shelfwise.metrics`; :func:`run_recommend` / :func:`run_search` return one comparison table.

Typical flow::

    result = run_recommend(store, ["popularity", "als", "shelfwise"], settings)
    write_reports(result, store.path / "reports" / "recommend")

Nothing below this package imports it (``tests/test_layers.py`` checks).
"""

from __future__ import annotations

from shelfwise.evaluation.registry import (
    EvalRecommender,
    build_recommender,
    recommender_names,
    register_recommender,
)
from shelfwise.evaluation.runner import ExperimentResult, ModelRun, run_recommend

__all__ = [
    "EvalRecommender",
    "ExperimentResult",
    "ModelRun",
    "build_recommender",
    "recommender_names",
    "register_recommender",
    "run_recommend",
]
