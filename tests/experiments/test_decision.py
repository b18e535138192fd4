"""Verdicts a data scientist would sign: no verdict below the minimum sample, valid under peeking, corrected
over metrics, with power figures that agree with statsmodels."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pytest
from scipy.stats import binomtest

from shelfwise.data.schema import IMPRESSION_SCHEMA
from shelfwise.experiments.analysis import analyse_tables
from shelfwise.experiments.config import Experiment, ExperimentSettings, Variant
from shelfwise.experiments.decision import DecisionSettings, decide
from shelfwise.experiments.power import minimum_detectable_effect, required_users
from shelfwise.experiments.sequential import always_valid_p, confidence_sequence
from shelfwise.experiments.stats import Comparison, compare_means

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_one_user_per_arm_gets_no_verdict_on_any_metric() -> None:
    """The dashboard once said "significant vs control: brand_fairness" with the interval [0.004664, 0.004664]."""
    exp = Experiment(name="x", variants=[Variant(name="a", share=0.5), Variant(name="b", share=0.5)])
    items = pa.table(
        {
            "item_id": ["i1", "i2", "i3"],
            "brand": ["b1", "b2", "b3"],
            "category": ["c1", "c2", "c1"],
            "price": [1.0] * 3,
        }
    )
    imps = pa.Table.from_pylist(
        [
            {
                "request_id": "r1",
                "user_id": "u1",
                "timestamp": T0,
                "context": "{}",
                "item_ids": ["i1", "i2"],
                "scores": None,
                "arm": "x:a",
            },
            {
                "request_id": "r2",
                "user_id": "u2",
                "timestamp": T0,
                "context": "{}",
                "item_ids": ["i3", "i1"],
                "scores": None,
                "arm": "x:b",
            },
        ],
        schema=IMPRESSION_SCHEMA,
    )
    events = pa.Table.from_pylist(
        [
            {
                "event_id": "e1",
                "user_id": "u2",
                "item_id": "i3",
                "type": "click",
                "value": None,
                "timestamp": T0,
                "request_id": "r2",
            }
        ]
    )
    result = analyse_tables(exp, imps, events, items, ExperimentSettings()).to_dict()
    assert len(result["comparisons"]) == 8  # 5 decision metrics + 3 exposure-fairness metrics
    for c in result["comparisons"]:
        assert not c["significant"], c
        assert c["verdict"].startswith("insufficient data: 1 of 100"), c
        assert {"effect", "interval", "p_value", "verdict"} <= set(c)


def _pool(n: int, rng: np.random.Generator) -> np.ndarray:
    """Per-user revenue as shops see it: most users buy nothing, buyers' baskets are log-normal."""
    return rng.binomial(1, 0.08, n) * rng.lognormal(3.0, 1.0, n)


def _any_look_significant(
    values: np.ndarray, arm: np.ndarray, looks: list[int], settings: DecisionSettings
) -> tuple[bool, bool]:
    """(sequential verdict significant at any look, naive fixed-horizon p < alpha at any look)."""
    seq = naive = False
    for n in looks:
        v, a = values[:n], arm[:n]
        c = compare_means("revenue", v[a == 0], v[a == 1], settings.alpha)
        naive |= c.p_fixed_horizon < settings.alpha
        seq |= decide([c], settings)[0].significant
    return seq, naive


def test_aa_false_positive_rate_stays_within_alpha_under_peeking() -> None:
    rng = np.random.default_rng(7)
    values = rng.poisson(2.0, 4000).astype(float)  # clicks per user: the guard, not the tails, is under test
    looks = list(range(400, 4001, 400))  # read the dashboard 10 times as users arrive
    seq_settings = DecisionSettings(inference="sequential", correction="none")
    fixed_settings = DecisionSettings(
        inference="fixed", correction="none", min_users_per_arm=1900, min_detectable_effect=1.0
    )
    reps = 200
    seq_fp = naive_fp = fixed_fp = 0
    for _ in range(reps):  # 200 random re-splits of the same users, in a random arrival order
        order = rng.permutation(values.size)
        v, arm = values[order], rng.integers(0, 2, values.size)
        s, n = _any_look_significant(v, arm, looks, seq_settings)
        seq_fp += s
        naive_fp += n
        fixed_fp += _any_look_significant(v, arm, looks, fixed_settings)[0]
    ci = binomtest(round(0.05 * reps), reps, 0.05).proportion_ci(0.95, method="exact")
    assert seq_fp / reps <= ci.high, seq_fp  # always valid: peeking does not inflate it
    assert ci.low <= fixed_fp / reps <= ci.high, fixed_fp  # fixed horizon: one look at the planned size
    assert naive_fp / reps > ci.high, naive_fp  # what the guard prevents: reading a fixed test 10 times


def test_a_real_lift_is_found_by_the_sequential_test() -> None:
    rng = np.random.default_rng(3)
    control, treatment = _pool(5000, rng), _pool(5000, rng) * 2.0
    c = decide([compare_means("revenue", control, treatment)], DecisionSettings(min_detectable_effect=0.4))[0]
    assert c.significant and c.verdict == "significant" and c.low > 0


def test_confidence_sequence_is_wider_than_the_fixed_interval_and_contains_the_estimate() -> None:
    low, high = confidence_sequence(0.1, 0.02, 0.05, 0.05)
    assert low < 0.1 < high and (high - low) > 2 * 1.96 * 0.02
    assert always_valid_p(0.0, 0.02, 0.05) == 1.0 and always_valid_p(0.2, 0.02, 0.05) < 1e-6


def _cmp(metric: str, p: float) -> Comparison:
    return Comparison(metric, 1.0, 1.1, 0.1, 0.1, 0.0, 0.2, p, True, 0.05, 500, 500, p_fixed_horizon=p)


def test_holm_correction_over_metrics() -> None:
    fixed = DecisionSettings(inference="fixed", min_detectable_effect=1.0)
    both = decide([_cmp("ctr", 0.03), _cmp("conversion", 0.04)], fixed)
    assert [c.significant for c in both] == [False, False]
    assert both[0].p_adjusted == pytest.approx(0.06) and both[1].p_adjusted == pytest.approx(0.06)
    none = decide(
        [_cmp("ctr", 0.03), _cmp("conversion", 0.04)],
        DecisionSettings(inference="fixed", min_detectable_effect=1.0, correction="none"),
    )
    assert [c.significant for c in none] == [True, True]


def test_fixed_horizon_waits_for_the_planned_sample() -> None:
    c = decide([_cmp("ctr", 0.001)], DecisionSettings(inference="fixed", min_detectable_effect=0.01))[0]
    assert not c.significant and c.verdict.startswith("collecting: 500 of")
    assert c.required_users_per_arm is not None and c.required_users_per_arm > 500


def test_power_figures_agree_with_statsmodels() -> None:
    from statsmodels.stats.power import NormalIndPower

    se, n1, n2 = 0.02, 800, 1200
    sd = se / math.sqrt(1 / n1 + 1 / n2)
    d = NormalIndPower().solve_power(effect_size=None, nobs1=n1, alpha=0.05, power=0.8, ratio=n2 / n1)
    assert minimum_detectable_effect(se, n1, n2, 0.05, 0.8) == pytest.approx(d * sd, rel=1e-3)
    n = NormalIndPower().solve_power(effect_size=0.1, nobs1=None, alpha=0.05, power=0.8, ratio=1.0)
    assert required_users(0.1, 1.0, 0.05, 0.8) == math.ceil(n)
