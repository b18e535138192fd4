"""Sticky assignment and the statistics of the experiment scorecard, against known answers."""

from __future__ import annotations

import numpy as np
import pytest

from shelfwise.experiments.assignment import assign, bucket
from shelfwise.experiments.config import Experiment, Variant
from shelfwise.experiments.stats import (
    compare_means,
    compare_ratios,
    gini,
    mean_estimate,
    ratio_estimate,
    sample_ratio_check,
)


def _exp(name: str = "e", shares: tuple[float, ...] = (0.5, 0.5), salt: str = "") -> Experiment:
    variants = [Variant(name=f"v{i}", share=s) for i, s in enumerate(shares)]
    return Experiment(name=name, variants=variants, salt=salt)


def test_assignment_is_sticky_and_split_by_shares() -> None:
    exp = _exp(shares=(0.2, 0.3, 0.5))
    users = [f"user-{i}" for i in range(20_000)]
    arms = [assign(exp, u).name for u in users]
    assert arms == [assign(exp, u).name for u in users]  # deterministic
    counts = {v: arms.count(v) for v in ("v0", "v1", "v2")}
    for name, share in (("v0", 0.2), ("v1", 0.3), ("v2", 0.5)):
        sd = (share * (1 - share) / len(users)) ** 0.5
        assert abs(counts[name] / len(users) - share) < 4 * sd
    assert sample_ratio_check(counts, {"v0": 0.2, "v1": 0.3, "v2": 0.5}).passed


def test_salts_reshuffle_independently() -> None:
    a, b = _exp("a"), _exp("b")
    users = [f"u{i}" for i in range(4000)]
    same = sum(assign(a, u).name == assign(b, u).name for u in users) / len(users)
    assert 0.45 < same < 0.55  # independent 50/50 splits agree half the time
    assert _exp("a", salt="fixed").salt == "fixed" and a.salt == "a"
    assert 0.0 <= bucket("s", "u") < 1.0


def test_definitions_are_validated() -> None:
    with pytest.raises(ValueError, match="add up to 1"):
        _exp(shares=(0.5, 0.6))
    with pytest.raises(ValueError, match="distinct"):
        Experiment(name="x", variants=[Variant(name="a", share=0.5), Variant(name="a", share=0.5)])
    with pytest.raises(ValueError, match="may set"):
        Experiment(
            name="x", variants=[Variant(name="a", share=0.5), Variant(name="b", share=0.5, params={"k": 3})]
        )


def test_ci_of_a_mean_and_a_ratio_match_hand_computed_values() -> None:
    x = np.array([1.0, 2.0, 3.0, 4.0])
    e = mean_estimate(x)
    se = np.std(x, ddof=1) / 2
    assert (
        e.value == 2.5 and e.se == pytest.approx(se) and e.low == pytest.approx(2.5 - 1.959964 * se, rel=1e-5)
    )
    num, den = np.array([1.0, 0.0, 2.0]), np.array([2.0, 2.0, 2.0])
    r = ratio_estimate(num, den)
    assert r.value == pytest.approx(0.5)
    # delta method with constant denominators reduces to the se of mean(num) / 2
    assert r.se == pytest.approx(np.std(num, ddof=1) / np.sqrt(3) / 2)


def test_aa_false_positive_rate_is_near_alpha_and_a_real_lift_is_detected() -> None:
    rng = np.random.default_rng(0)
    false_pos = 0
    detected = 0
    reps = 300
    for _ in range(reps):
        imps_a, imps_b = rng.integers(1, 5, 800).astype(float), rng.integers(1, 5, 800).astype(float)
        clicks_a, clicks_b = rng.binomial(imps_a.astype(int), 0.1), rng.binomial(imps_b.astype(int), 0.1)
        false_pos += compare_ratios("ctr", (clicks_a, imps_a), (clicks_b, imps_b)).significant
        lifted = rng.binomial(imps_b.astype(int), 0.13)
        detected += compare_ratios("ctr", (clicks_a, imps_a), (lifted, imps_b)).significant
    assert 0.02 < false_pos / reps < 0.09
    assert detected / reps > 0.8
    c = compare_means("rev", np.zeros(100), np.ones(100))
    assert c.significant and c.diff == 1.0 and c.rel_diff is None


def test_srm_flags_a_broken_split_and_gini_is_right() -> None:
    assert not sample_ratio_check({"a": 5200, "b": 4800}, {"a": 0.5, "b": 0.5}).passed
    assert sample_ratio_check({"a": 5030, "b": 4970}, {"a": 0.5, "b": 0.5}).passed
    assert gini(np.array([1.0, 1.0, 1.0])) == pytest.approx(0.0)
    assert gini(np.array([0.0, 0.0, 0.0, 1.0])) == pytest.approx(0.75)
