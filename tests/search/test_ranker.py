"""The learned search re-ranker on a small shop whose right answers are known (real indexes and encoder)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from shelfwise.config import load_settings
from shelfwise.search import SearchPipeline, SearchRequest
from shelfwise.search.features import FEATURES, TextMatcher, prf_cosine
from shelfwise.search.ranker import SearchRanker
from shelfwise.search.training import candidates_for, train_ranker

ENCODER_CACHE = Path.home() / ".cache" / "shelfwise"

# Per kind of product: a "good" title (gain 3) and "bad" ones (gain 0) that share the query's words.
_KINDS = {
    "kettle": (
        "Electric kettle 1.7 litre stainless steel",
        ["Kettle descaler tablets", "Kettle sticker decal"],
    ),
    "lamp": ("LED desk lamp with dimmer", ["Lamp shade fabric cover", "Lamp bulb socket adapter"]),
    "backpack": (
        "Hiking backpack 40 litre waterproof",
        ["Backpack keychain charm", "Backpack rain cover only"],
    ),
    "headphones": (
        "Wireless over-ear headphones",
        ["Headphones cable replacement", "Headphones stand holder"],
    ),
    "blender": ("Countertop blender 1000 watt", ["Blender gasket seal ring", "Blender recipe book"]),
    "scissors": ("Stainless steel scissors 8 inch", ["Scissors sharpener tool", "Scissors holder magnet"]),
    "umbrella": ("Windproof travel umbrella", ["Umbrella stand for hallway", "Umbrella sleeve bag"]),
    "mug": ("Ceramic coffee mug 350 ml", ["Mug warmer pad", "Mug rack tree stand"]),
}


def _shop() -> tuple[list[dict[str, object]], dict[str, dict[str, float]]]:
    items, judged = [], {}
    for kind, (good, bads) in _KINDS.items():
        for variant in ("", " deluxe", " basic"):
            gid = f"{kind}-good{variant.strip()}"
            items.append({"item_id": gid, "title": good + variant, "description": f"a {kind}"})
            judged.setdefault(kind + variant, {})[gid] = 3.0
            for n, bad in enumerate(bads):
                bid = f"{kind}-bad{n}{variant.strip()}"
                items.append({"item_id": bid, "title": bad + variant, "description": f"for your {kind}"})
                judged[kind + variant][bid] = 0.0
    return items, judged


@pytest.fixture(scope="module")
def pipe() -> SearchPipeline:
    items, _ = _shop()
    settings = load_settings(environ={}, overrides=[f"search.encoder.cache_dir={ENCODER_CACHE}"])
    return SearchPipeline.from_items(items, settings)


def test_text_matcher_features_are_hand_checkable() -> None:
    m = TextMatcher.build(
        [
            {"item_id": "a", "title": "Red 16 GB card"},
            {"item_id": "b", "title": "Blue card", "description": "16 gb"},
        ]
    )
    f = m.match("16 gb card", ["a", "b"])
    assert f["title_coverage"].tolist() == [1.0, pytest.approx(1 / 3)]
    assert f["number_match"].tolist() == [1.0, 0.0]
    assert f["title_phrase"].tolist() == [1.0, 0.0]
    assert f["title_all_terms"].tolist() == [1.0, 0.0]
    assert f["bm25_title"][0] > f["bm25_title"][1] > 0


def test_prf_features_favour_what_the_best_candidates_share(pipe: SearchPipeline) -> None:
    """The centroid of the best fused candidates for "kettle" is kettle-like: a kettle scores closer to it
    than a mug, and the features line up with :func:`prf_cosine` over the stored vectors."""
    cands = candidates_for(pipe, "electric kettle", ["kettle-good", "mug-good", "lamp-good"], extra=5)
    affinity = np.zeros((len(cands), 3), np.float32)
    x = pipe_features = SearchRanker().features(pipe, "electric kettle", None, cands, affinity, None)
    col = {f: x[:, n] for n, f in enumerate(FEATURES)}
    pos = {i: n for n, i in enumerate(cands.ids)}
    for part in ("prf_dense", "prf_title"):
        assert col[part][pos["kettle-good"]] > col[part][pos["mug-good"]], part
        assert col[f"{part}_rel"].max() == 0.0 and (col[f"{part}_rel"] <= 0).all()
    expected = prf_cosine(pipe.retriever.vector_index.get_vectors(cands.ids), cands.order())
    np.testing.assert_allclose(col["prf_dense"], expected, rtol=1e-5)
    assert pipe_features.shape == (len(cands), len(FEATURES))


def test_ranker_learns_to_put_the_product_above_its_accessories(pipe: SearchPipeline, tmp_path: Path) -> None:
    _, judged = _shop()
    train = {q: g for q, g in judged.items() if not q.endswith("basic")}
    test = [q for q in judged if q.endswith("basic")]
    ranker = train_ranker(pipe, train, use_cross_encoder=False)
    assert ranker.model is not None and set(ranker.importance()) == set(FEATURES)
    pipe.ranker = ranker
    hits = 0
    for q in test:
        ids = list(judged[q])
        cands = candidates_for(pipe, pipe.retrieval_text(q, pipe.parse(q)), ids)
        scores, parts = ranker.score(pipe, q, pipe.parse(q), cands, np.zeros((len(cands), 3), np.float32))
        hits += cands.ids[int(np.argmax(scores))].split("-")[1].startswith("good")
        assert "ranker" in parts
    assert hits >= len(test) - 1, "held-out queries: the product itself ranks first"
    ranker.save(tmp_path / "r")
    again = SearchRanker.load(tmp_path / "r")
    resp_a = pipe.search(SearchRequest("mug basic", k=5, use_query_filters=False))
    pipe.ranker = again
    resp_b = pipe.search(SearchRequest("mug basic", k=5, use_query_filters=False))
    assert [h.item_id for h in resp_a.results] == [h.item_id for h in resp_b.results]
    assert "ranker" in resp_b.results[0].breakdown
    pipe.ranker = None
