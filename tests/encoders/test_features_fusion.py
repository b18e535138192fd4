"""Numeric/categorical features and the learned fusion, on a synthetic shop whose co-purchase structure is known."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from shelfwise.encoders import (
    FeatureConfig,
    FusionConfig,
    FusionProjection,
    ItemFeaturizer,
    pairs_from_sequences,
)


def test_features_bands_flags_and_vocabularies(tmp_path: Path) -> None:
    items = [
        {"price": 1.0, "category": "Shoes > Running > Road", "brand": "Nike", "rating": 4.0},
        {"price": 10.0, "category": "shoes > running", "brand": "nike", "popularity": 99},
        {"price": 1000.0, "category": "Kitchen", "brand": "Acme"},
        {"price": None, "category": None, "brand": None},
        {"price": "n/a", "category": "Garden", "brand": "Rare"},
    ]
    feats = ItemFeaturizer(FeatureConfig(price_bands=3, max_brands=2)).fit(items)
    batch = feats.transform(items)
    assert batch.numeric.shape == (5, feats.numeric_dim) == (5, 9)
    assert batch.numeric[:, 1].tolist() == [0, 0, 0, 1, 1]  # price missing flags
    bands = batch.numeric[:, 6:].argmax(1)
    assert bands[0] < bands[1] < bands[2] and batch.numeric[3, 6:].sum() == 0
    assert batch.numeric[0, 2] == pytest.approx(0.8) and batch.numeric[1, 3] == 1  # rating / missing rating
    assert batch.numeric[1, 4] == pytest.approx(1.0) and batch.numeric[0, 5] == 1  # popularity / missing
    assert batch.category_ids[0] == batch.category_ids[1] != 0  # two levels, case-folded
    assert batch.category_ids[3] == 0
    assert batch.brand_ids[0] == batch.brand_ids[1] != 0 and batch.brand_ids[4] == 0  # outside the top 2
    feats.save(tmp_path / "f.json")
    again = ItemFeaturizer.load(tmp_path / "f.json").transform(items)
    np.testing.assert_array_equal(again.numeric, batch.numeric)
    np.testing.assert_array_equal(again.brand_ids, batch.brand_ids)


def test_pairs_from_sequences() -> None:
    assert pairs_from_sequences([[0, 1, 2], [2, 2, 3]], window=1).tolist() == [[0, 1], [1, 2], [2, 3]]
    assert pairs_from_sequences([[5, 1, 9]], window=5).tolist() == [[1, 5], [1, 9], [5, 9]]
    assert pairs_from_sequences([[1]]).shape == (0, 2)


def _shop(n_groups: int = 8, per_group: int = 25, seed: int = 0):
    """Items in behaviour groups; text vectors carry no group signal, features do a little."""
    rng = np.random.default_rng(seed)
    n = n_groups * per_group
    group = np.repeat(np.arange(n_groups), per_group)
    text = rng.normal(size=(n, 32)).astype(np.float32)
    text /= np.linalg.norm(text, axis=1, keepdims=True)
    items = [
        {
            "price": None if i % 9 == 0 else float(10 * (g + 1)),
            "category": f"Cat{g % 4}",
            "brand": f"B{i % 5}",
        }
        for i, g in enumerate(group)
    ]
    sessions = [
        rng.choice(np.flatnonzero(group == g), size=6, replace=False).tolist()
        for g in rng.integers(0, n_groups, 300)
    ]
    image = rng.normal(size=(n, 8)).astype(np.float32)
    present = rng.random(n) > 0.3
    image[~present] = 0
    return group, text, items, sessions, image, present


def _purity(vecs: np.ndarray, group: np.ndarray, k: int = 5) -> float:
    sims = vecs @ vecs.T
    np.fill_diagonal(sims, -np.inf)
    top = np.argsort(-sims, axis=1)[:, :k]
    return float((group[top] == group[:, None]).mean())


def test_fusion_learns_co_occurrence(tmp_path: Path) -> None:
    group, text, items, sessions, image, present = _shop()
    feats = ItemFeaturizer().fit(items)
    batch = feats.transform(items)
    fusion = FusionProjection(
        feats, text_dim=32, image_dim=8, config=FusionConfig(dim=16, hidden=64, epochs=10, batch_size=128)
    )
    before = fusion.transform(text, batch, image, present)
    fusion.fit(text, batch, pairs_from_sequences(sessions), image, present, show_progress=False)
    after = fusion.transform(text, batch, image, present)
    assert after.shape == (len(items), 16) and after.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(after, axis=1), 1.0, atol=1e-5)
    assert _purity(before, group) < 0.3  # text alone knows nothing of the groups
    assert _purity(after, group) > 0.8
    assert fusion.history[-1] < fusion.history[0]
    # no images and unknown prices at inference: still finite, still grouped
    blind = fusion.transform(text, feats.transform([{**it, "price": None} for it in items]))
    assert np.isfinite(blind).all() and _purity(blind, group) > 0.5
    fusion.save(tmp_path)
    assert {p.name for p in tmp_path.iterdir()} == {"fusion.json", "features.json", "weights.npz"}
    np.testing.assert_allclose(
        FusionProjection.load(tmp_path).transform(text, batch, image, present), after, atol=1e-6
    )


def test_fusion_starts_as_a_text_projection() -> None:
    _group, text, items, _, _, _ = _shop()
    feats = ItemFeaturizer().fit(items)
    fusion = FusionProjection(feats, text_dim=32, config=FusionConfig(dim=32))
    fused = fusion.transform(text, feats.transform(items))
    np.testing.assert_allclose(fused @ fused.T, text @ text.T, atol=1e-4)  # orthogonal start keeps cosines
    fusion.fit(text, feats.transform(items), np.zeros((0, 2)), show_progress=False)  # nothing to learn from
    with pytest.raises(ValueError):
        fusion.transform(text[:, :10], feats.transform(items))
