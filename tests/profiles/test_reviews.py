from __future__ import annotations

import numpy as np

from shelfwise.profiles.reviews import ReviewStats, analyse_review


def test_polarity_and_negation() -> None:
    assert analyse_review("I love it, great scent").sentiment == 1.0
    assert analyse_review("Terrible. It broke.").sentiment == -1.0
    assert analyse_review("not good at all").sentiment == -1.0  # negated positive
    assert analyse_review("not bad").sentiment == 1.0  # negated negative
    assert analyse_review(None).sentiment == 0.0 and analyse_review("").aspects == {}


def test_aspects_take_the_polarity_of_their_sentence() -> None:
    sig = analyse_review("The smell is lovely. The pump broke after a week.")
    assert sig.aspects["scent"] > 0 and sig.aspects["packaging"] < 0
    assert "price" not in sig.aspects


def test_stats_roundtrip_and_summary() -> None:
    st = ReviewStats()
    st.add(analyse_review("Great price, lovely scent"))
    st.add(analyse_review("Awful scent"))
    again = ReviewStats.from_dict(st.to_dict())
    assert again == st
    summ = st.summary()
    assert (
        summ["reviews"] == 2
        and summ["aspects"][0]["aspect"] == "scent"
        and summ["aspects"][0]["mentions"] == 2
    )


def test_sentiment_agrees_with_star_ratings() -> None:
    """On amazon-reviews-2018 the lexicon separates 4-5 from 1-2 stars (AUC measured 0.86; threshold 0.75)."""
    from tests.conftest import require_data

    folder = require_data("amazon-reviews-2018")
    from shelfwise.data.datasets import load_dataset
    from shelfwise.metrics import AUC
    from shelfwise.profiles.builder import review_signals_from_dataset

    ds = load_dataset("amazon-reviews-2018", folder.parent)
    assert ds.events is not None
    signals = review_signals_from_dataset(ds)
    ids = ds.events.column("event_id").to_pylist()
    stars = np.asarray(ds.events.column("value").to_pylist(), dtype=float)
    keep = [k for k, (e, s) in enumerate(zip(ids, stars, strict=True)) if e in signals and s != 3]
    labels = (stars[keep] >= 4).astype(int)
    scores = np.array([signals[ids[k]].sentiment for k in keep])
    assert AUC().compute(labels, scores) >= 0.75
