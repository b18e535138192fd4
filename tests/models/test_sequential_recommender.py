"""The fitted recommender on the synthetic shop: known tastes, harness, cold items, save / load."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from shelfwise.metrics import evaluate_ranking
from shelfwise.models.sequential import SequentialRecommender, sequences_from_split
from shelfwise.retrieval.baselines import Popularity
from tests.models.conftest import ShopData, train_tiny


def taste_share(model: SequentialRecommender, shop_data: ShopData, k: int = 10) -> float:
    """Share of each user's top-k items that lie in the user's preferred categories."""
    seqs = sequences_from_split(shop_data.split, shop_data.data.users, shop_data.data.items, ("train",))
    scores = model.score_sequences(seqs)
    top = np.argsort(-scores, axis=1)[:, :k]
    hits = [
        np.isin(shop_data.item_category[t], list(p)).mean()
        for t, p in zip(top, shop_data.user_categories, strict=True)
    ]
    return float(np.mean(hits))


@pytest.mark.parametrize("which", ["text_model", "id_model"])
def test_recovers_the_known_category_tastes(
    which: str, shop_data: ShopData, request: pytest.FixtureRequest
) -> None:
    model: SequentialRecommender = request.getfixturevalue(which)
    base = np.mean([len(p) / 10 for p in shop_data.user_categories])  # share by chance
    assert base < 0.2
    assert taste_share(model, shop_data) > 0.7


def test_beats_popularity_in_the_harness_and_reports_training(
    text_model: SequentialRecommender, shop_data: ShopData
) -> None:
    d = shop_data.data
    hist = d.train_valid[d.test_users]
    ours = evaluate_ranking(text_model, d.test_users, d.test_targets, hist, ["ndcg@10", "hr@10"])
    pop = evaluate_ranking(
        Popularity().fit(d.train_valid), d.test_users, d.test_targets, hist, ["ndcg@10", "hr@10"]
    )
    assert ours.metrics["hr@10"] > 1.5 * pop.metrics["hr@10"]
    assert ours.model == "sasrec[text+id,nbr50]"
    rep = text_model.report
    assert rep["best_valid"]["ndcg@10"] > 0 and 1 <= rep["best_epoch"] <= rep["epochs_run"]
    assert len(rep["history"]) == rep["epochs_run"]


def test_scores_are_batch_independent_and_validate_input(text_model: SequentialRecommender) -> None:
    seqs = [np.array([1, 2, 3]), np.array([7]), np.array([], dtype=np.int32), np.arange(40) % 30]
    full = text_model.score_sequences(seqs)
    assert full.shape == (4, text_model.n_items) and full.dtype == np.float32 and np.isfinite(full).all()
    one_by_one = np.vstack([text_model.score_sequences([s]) for s in seqs])
    np.testing.assert_allclose(full, one_by_one, rtol=1e-5, atol=1e-5)
    with pytest.raises(IndexError):
        text_model.score_sequences([np.array([text_model.n_items])])
    with pytest.raises(IndexError):
        text_model.score(np.array([10**6]))


def test_recommend_explains_each_hit(text_model: SequentialRecommender) -> None:
    seq = np.array([4, 9, 4, 11])
    hits = text_model.recommend([seq], k=5)[0]
    assert len(hits) == 5 and all(h.source == "sequential" for h in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    for h in hits:
        assert set(h.parts) == {"sequence", "repeat", "neighbours"}
        assert sum(h.parts.values()) == pytest.approx(h.score, abs=1e-4)
        assert h.because in seq
    kept = text_model.recommend([seq], k=5, exclude_input=True)[0]
    assert not {h.item for h in kept} & set(seq.tolist())


def test_save_load_roundtrip_gives_identical_scores(
    text_model: SequentialRecommender, tmp_path: Path
) -> None:
    path = text_model.save(tmp_path / "m")
    assert {p.name for p in path.iterdir()} >= {"config.json", "weights.safetensors", "item_counts.npy"}
    assert not list(path.glob("*.pkl"))
    loaded = SequentialRecommender.load(path)
    users = np.arange(10)
    np.testing.assert_array_equal(loaded.score(users), text_model.score(users))
    assert loaded.name == text_model.name and loaded.config == text_model.config
    assert loaded.item_ids is not None and loaded.item_ids.tolist() == text_model.item_ids.tolist()  # type: ignore[union-attr]


def test_training_is_seeded(shop_data: ShopData) -> None:
    a = train_tiny(shop_data, item_embedding="id", epochs=2)
    b = train_tiny(shop_data, item_embedding="id", epochs=2)
    c = train_tiny(shop_data, item_embedding="id", epochs=2, seed=1)
    users = np.arange(5)
    np.testing.assert_array_equal(a.score(users), b.score(users))
    assert not np.array_equal(a.score(users), c.score(users))


def test_linear_schedule_decays_the_learning_rate_to_zero(shop_data: ShopData) -> None:
    flat = train_tiny(shop_data, item_embedding="id", text_neighbours=0, epochs=2)
    decayed = train_tiny(shop_data, item_embedding="id", text_neighbours=0, epochs=2, lr_schedule="linear")
    assert flat.report["final_lr"] == pytest.approx(1e-2)
    assert decayed.report["final_lr"] == pytest.approx(0.0, abs=1e-9)


def test_early_stopping_restores_the_best_evaluated_weights(shop_data: ShopData) -> None:
    model = train_tiny(shop_data, item_embedding="id", epochs=40, patience=1, lr=0.05)
    rep = model.report
    assert rep["stopped_early"] and rep["epochs_run"] < 40
    evaluated = [e for e in rep["history"] if e["valid"]]
    best = max(evaluated, key=lambda e: e["valid"]["ndcg@10"])
    assert rep["best_epoch"] == best["epoch"]


def test_new_items_get_sensible_scores_only_with_text(shop_data: ShopData) -> None:
    """Hold 15% of items out of training entirely: the text model still ranks a new item of the
    shopper's own category above new items of other categories; the ID-only model cannot."""
    rng = np.random.default_rng(0)
    n_items = len(shop_data.data.items)
    cold = np.sort(rng.choice(n_items, n_items * 15 // 100, replace=False))
    seqs = sequences_from_split(shop_data.split, shop_data.data.users, shop_data.data.items, ("train",))
    warm_seqs = [s[~np.isin(s, cold)] for s in seqs]
    from shelfwise.models.sequential import SequentialConfig, train_sequential
    from tests.models.conftest import TINY

    def auc(mode: str, neighbours: int = 50) -> float:
        cfg = SequentialConfig.model_validate({**TINY, "item_embedding": mode, "text_neighbours": neighbours})
        model = train_sequential(cfg, warm_seqs, n_items, item_vectors=shop_data.text, show_progress=False)
        assert (model.item_counts[cold] == 0).all()
        scores = model.score_sequences(warm_seqs)[:, cold]
        wins = []
        for row, prefs in zip(scores, shop_data.user_categories, strict=True):
            mine = np.isin(shop_data.item_category[cold], list(prefs))
            if mine.any() and (~mine).any():
                wins.append((row[mine][:, None] > row[~mine][None, :]).mean())
        return float(np.mean(wins))

    text_auc, id_auc, id_nbr_auc = auc("text+id"), auc("id", neighbours=0), auc("id")
    assert text_auc > 0.85
    assert id_auc < 0.7 and text_auc > id_auc + 0.2
    assert id_nbr_auc > id_auc + 0.1  # the text-neighbour bias alone reaches new items too


def test_added_items_are_scored_from_text_for_the_right_shoppers(
    text_model: SequentialRecommender, shop_data: ShopData, id_model: SequentialRecommender
) -> None:
    cat = 3
    peers = np.flatnonzero(shop_data.item_category == cat)
    vector = shop_data.text[peers].mean(axis=0, keepdims=True)  # a new item that reads like category 3
    bigger = text_model.add_items(["brand-new"], vector)
    assert bigger.n_items == text_model.n_items + 1 and bigger.item_counts[-1] == 0
    assert bigger.encode_items(["brand-new", "nope"]).tolist() == [text_model.n_items, -1]
    seqs = sequences_from_split(shop_data.split, shop_data.data.users, shop_data.data.items, ("train",))
    scores = bigger.score_sequences(seqs)
    # the transformer part of the old items is unchanged (their neighbour lists may now hold the new item)
    np.testing.assert_allclose(
        bigger.score_parts(seqs[:20])["sequence"][:, :-1],
        text_model.score_parts(seqs[:20])["sequence"],
        rtol=1e-5,
        atol=1e-5,
    )
    pct = (scores[:, :-1] < scores[:, -1:]).mean(axis=1)  # share of items the new one beats
    fans = np.array([cat in p for p in shop_data.user_categories])
    assert pct[fans].mean() > 0.8 and pct[fans].mean() > pct[~fans].mean() + 0.3
    assert bigger.recommend([seqs[int(np.flatnonzero(fans)[0])]], k=50)[0][0].item >= 0
    with pytest.raises(ValueError, match="without text"):
        id_model.add_items(["x"], vector)
    with pytest.raises(ValueError, match="already"):
        bigger.add_items(["brand-new"], vector)
