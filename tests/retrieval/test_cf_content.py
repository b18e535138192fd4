"""ALS fold-in against implicit's own recalculate_user; text profile and content sources; text vectors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from shelfwise.encoded.data import RecommendData
from shelfwise.retrieval.base import UserContext
from shelfwise.retrieval.cf import ALSSource, ALSSourceConfig
from shelfwise.retrieval.content import ContentConfig, ContentSource, ProfileSource, TextProfileConfig
from shelfwise.retrieval.history import EventLog, RecencyConfig
from shelfwise.retrieval.text_vectors import ItemTextVectors, TextVectorConfig
from tests.retrieval.conftest import BagOfWordsEncoder, tiny_data

ALS_CFG = ALSSourceConfig(factors=16, iterations=6, regularization=2.0, alpha=10.0)


@pytest.fixture(scope="module")
def als(shop_data: RecommendData) -> ALSSource:
    return ALSSource(ALS_CFG).fit(shop_data)


def test_fold_in_matches_implicits_recalculate_user(als: ALSSource, shop_data: RecommendData) -> None:
    implicit_als = pytest.importorskip("implicit.cpu.als")
    ref = implicit_als.AlternatingLeastSquares(
        factors=ALS_CFG.factors, regularization=ALS_CFG.regularization, alpha=ALS_CFG.alpha, dtype=np.float32
    )
    ref.item_factors, ref.user_factors = als.item_factors.copy(), als.user_factors.copy()
    events = EventLog.from_data(shop_data)
    users = np.array([0, 11, 42])
    contexts = events.contexts(users)
    assert min(np.unique(c.history).size for c in contexts) > ALS_CFG.factors  # direct solve
    mine = als.fold_in(list(contexts))
    rows = shop_data.ranking.train_valid[users]
    theirs = ref.recalculate_user(users, sp.csr_matrix(rows))
    np.testing.assert_allclose(mine, theirs, rtol=2e-3, atol=2e-4)
    short = [
        UserContext(history=np.array([3, 9, 9, 40], dtype=np.int32)),
        UserContext(history=np.array([7], np.int32)),
    ]
    rows = sp.csr_matrix(([1.0, 2.0, 1.0, 1.0], ([0, 0, 0, 1], [3, 9, 40, 7])), shape=(2, shop_data.n_items))
    np.testing.assert_allclose(  # rank-h update of the shared Gram matrix (Woodbury)
        als.fold_in(short), ref.recalculate_user(np.array([0, 1]), rows), rtol=2e-3, atol=2e-4
    )


def test_known_users_use_learned_factors_and_fold_in_agrees_with_them(
    als: ALSSource, shop_data: RecommendData
) -> None:
    events = EventLog.from_data(shop_data)
    ctx = events.context(5)
    np.testing.assert_allclose(als.score_all([ctx])[0], als.user_factors[5] @ als.item_factors.T, rtol=1e-5)
    folded = als.fold_in([ctx])[0]
    cos = folded @ als.user_factors[5] / (np.linalg.norm(folded) * np.linalg.norm(als.user_factors[5]))
    assert cos > 0.9  # one more half-step of ALS barely moves a fitted user
    always = ALSSource(ALS_CFG.model_copy(update={"fold_in": "always"}))
    always.set_factors(als.user_factors, als.item_factors)
    np.testing.assert_allclose(always.score_all([ctx])[0], folded @ als.item_factors.T, rtol=1e-4, atol=1e-5)


def test_a_new_user_with_no_history_gets_zero_factors(als: ALSSource) -> None:
    assert not als.fold_in([UserContext()]).any()


TITLES = {
    "a": "red matte lipstick",
    "b": "red glossy lipstick",
    "c": "blue yoga mat",
    "d": "thick yoga mat",
    "e": "steel frying pan",
    "f": "cast iron frying pan",
}


@pytest.fixture()
def catalogue() -> RecommendData:
    return tiny_data({"u1": ["a", "c", "e"], "u2": ["b", "d", "f"]}, titles=TITLES)


def _content(data: RecommendData, **kw: object) -> ContentSource:
    cfg = ContentConfig(text=TextVectorConfig(cache_dir=None), **kw)  # type: ignore[arg-type]
    return ContentSource(cfg, BagOfWordsEncoder()).fit(data)


def test_content_serves_a_cold_user_from_a_query_alone(catalogue: RecommendData) -> None:
    src = _content(catalogue)
    cand = src.candidates(UserContext(query="yoga mat"), 2)
    assert sorted(cand.items.tolist()) == catalogue.ranking.items.encode(["c", "d"]).tolist()


def test_content_reaches_a_brand_new_item_through_its_text(catalogue: RecommendData) -> None:
    src = _content(catalogue)
    (new,) = src.add_items(texts=["glossy red lipstick, limited edition"]).tolist()
    assert new == catalogue.n_items
    lipstick = catalogue.ranking.items.encode(["b"])
    cand = src.candidates(UserContext(session=lipstick), 3)
    assert new in cand.items.tolist()[:2]


def test_content_with_nothing_to_go_on_proposes_nothing(catalogue: RecommendData) -> None:
    src = _content(catalogue)
    assert src.candidates(UserContext(), 5).items.size == 0
    assert not src.score_all([UserContext()]).any()


def test_profile_decay_follows_the_newest_history_items(catalogue: RecommendData) -> None:
    lipstick, pan = catalogue.ranking.items.encode(["a", "e"]).tolist()
    ctx = UserContext(history=np.array([lipstick, pan], dtype=np.int32))

    def top(half_life: float | None) -> list[int]:
        cfg = TextProfileConfig(
            text=TextVectorConfig(cache_dir=None), recency=RecencyConfig(half_life_events=half_life)
        )
        return ProfileSource(cfg, BagOfWordsEncoder()).fit(catalogue).candidates(ctx, 2).items.tolist()

    pans = catalogue.ranking.items.encode(["e", "f"]).tolist()
    assert sorted(top(0.2)) == sorted(pans)  # the older lipstick weighs 2**-5 of the pan
    assert set(top(None)) != set(pans)  # undecayed: lipstick and pan count alike


def test_profile_takes_a_user_vector_from_a_provider(catalogue: RecommendData) -> None:
    vectors = ItemTextVectors(TextVectorConfig(cache_dir=None), BagOfWordsEncoder()).encode_items(
        catalogue.items
    )
    target = int(catalogue.ranking.items.encode(["f"])[0])
    src = ProfileSource(
        TextProfileConfig(text=TextVectorConfig(cache_dir=None)),
        vectors=vectors,
        provider=lambda ctx: vectors[target],
    ).fit(catalogue)
    assert src.candidates(UserContext(user_index=0), 1).items.tolist() == [target]
    assert src.params()["provider"] == "function"


def test_text_vectors_are_cached_by_content(catalogue: RecommendData, tmp_path: Path) -> None:
    encoder = BagOfWordsEncoder()
    cfg = TextVectorConfig(cache_dir=tmp_path / "emb")
    first = ItemTextVectors(cfg, encoder).encode_items(catalogue.items)
    calls = encoder.calls
    again = ItemTextVectors(cfg, encoder).encode_items(catalogue.items)
    assert encoder.calls == calls  # every text came from the cache
    np.testing.assert_array_equal(first, again)
    assert first.shape == (catalogue.n_items, encoder.dim) and first.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(first, axis=1), 1.0, rtol=1e-5)


def test_item_text_leaves_opaque_attributes_out_and_empty_text_gives_zeros() -> None:
    import pyarrow as pa

    items = pa.table(
        {
            "item_id": ["x", "y"],
            "title": ["Rose lip balm", None],
            "attributes": ['{"asin": "B00123", "attribute_ids": [1, 2]}', None],
        }
    )
    text = ItemTextVectors(TextVectorConfig(cache_dir=None), BagOfWordsEncoder())
    assert text.texts(items)[0].startswith("Rose lip balm") and "B00123" not in text.texts(items)[0]
    vecs = text.encode_items(items)
    assert vecs[0].any() and not vecs[1].any()


@pytest.mark.slow
def test_real_encoder_puts_related_products_close(tmp_path: Path) -> None:
    """all-MiniLM-L6-v2 (ONNX int8, bundled): lipsticks are nearer each other than to a yoga mat."""
    pytest.importorskip("onnxruntime")
    text = ItemTextVectors(TextVectorConfig(cache_dir=tmp_path / "emb"))
    v = text.encode_texts(["red matte lipstick", "glossy lip colour", "thick yoga mat"])
    assert v[0] @ v[1] > v[0] @ v[2] + 0.1
