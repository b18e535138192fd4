from __future__ import annotations

import numpy as np

from shelfwise.data.synthetic import SyntheticShop
from shelfwise.encoded import LeaveOneOut, RankingData
from shelfwise.metrics import evaluate_ranking
from shelfwise.profiles import ItemCatalog, ProfileRetriever
from shelfwise.retrieval.baselines import Popularity


def test_profile_retriever_beats_popularity_on_the_synthetic_shop(
    shop: SyntheticShop, catalog: ItemCatalog
) -> None:
    events = shop.dataset.events
    split = LeaveOneOut().split(events)
    data = RankingData.from_split(split)
    train = split.table.take(np.concatenate([split.train, split.valid]))
    model = ProfileRetriever.fit(
        train, data.users.ids.tolist(), data.items.ids.tolist(), catalog, short_weight=0.3
    )
    hist = data.train_valid[data.test_users]
    ours = evaluate_ranking(model, data.test_users, data.test_targets, hist, ["ndcg@10"])
    pop = evaluate_ranking(
        Popularity().fit(data.train_valid), data.test_users, data.test_targets, hist, ["ndcg@10"]
    )
    assert ours.metrics["ndcg@10"] > 1.5 * pop.metrics["ndcg@10"]


def test_scores_are_aligned_with_harness_indices(catalog: ItemCatalog) -> None:
    assert catalog.vectors is not None
    from shelfwise.profiles import ProfileEvent, ProfileUpdater

    up = ProfileUpdater(catalog)
    st = up.new_state()
    up.apply(st, ProfileEvent(catalog.index_of("i5"), "purchase", 0.0))
    item_ids = ["i5", "i9", "unknown"]  # harness order differs from the catalogue's
    r = ProfileRetriever.from_states({"a": st}, ["b", "a"], item_ids, catalog, short_weight=0.0)
    scores = r.score(np.array([1, 0]))
    assert scores.shape == (2, 3) and scores.dtype == np.float32
    assert scores[0, 0] > scores[0, 1] and scores[0, 2] == 0.0  # unknown item: zero vector
    assert not scores[1].any()  # a user without a profile scores nothing
