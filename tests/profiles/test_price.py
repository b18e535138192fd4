from __future__ import annotations

import numpy as np
import pytest

from shelfwise.profiles.price import band_label, percentile_in_category, price_tier, weighted_median


def test_percentile_is_mid_rank_within_category() -> None:
    price = np.array([10.0, 20.0, 20.0, 40.0, 5.0, np.nan, 0.0])
    cat = np.array([0, 0, 0, 0, 1, 1, 1])
    pct = percentile_in_category(price, cat)
    # category 0: 10 -> (0 + .5)/4, 20 -> (1 + 1)/4 twice, 40 -> (3 + .5)/4; category 1: one priced item
    assert pct[:5].tolist() == pytest.approx([12.5, 50.0, 50.0, 87.5, 50.0])
    assert np.isnan(pct[5]) and np.isnan(pct[6])  # unknown and non-positive prices


def test_weighted_median_interpolates_inside_the_median_bin() -> None:
    hist = np.zeros(10)
    hist[6] = 1.0  # all mass in 60-70
    assert weighted_median(hist) == pytest.approx(65.0)
    hist[2] = 1.0  # half in 20-30, half in 60-70: the median sits at the upper edge of 20-30
    assert weighted_median(hist) == pytest.approx(30.0)
    assert weighted_median(np.zeros(10)) is None


@pytest.mark.parametrize(
    ("pct", "band", "tier"),
    [
        (67.0, "60-80th", "premium"),
        (5.0, "0-20th", "budget"),
        (33.0, "20-40th", "budget"),
        (50.0, "40-60th", "mid"),
        (100.0, "80-100th", "premium"),
    ],
)
def test_band_and_tier(pct: float, band: str, tier: str) -> None:
    assert band_label(pct) == band
    assert price_tier(pct) == tier
