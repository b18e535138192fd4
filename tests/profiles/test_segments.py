from __future__ import annotations

from pathlib import Path

import numpy as np

from shelfwise.data.synthetic import SyntheticShop
from shelfwise.profiles import (
    ItemCatalog,
    ProfileConfig,
    ProfileService,
    SegmentConfig,
    SegmentModel,
    segment_features,
)


def service(shop: SyntheticShop, catalog: ItemCatalog, k_min: int = 3, k_max: int = 8) -> ProfileService:
    cfg = ProfileConfig(segments=SegmentConfig(k_min=k_min, k_max=k_max, silhouette_sample=500, n_init=2))
    svc = ProfileService(catalog, cfg)
    svc.rebuild(shop.dataset.events)
    return svc


def test_segments_follow_true_category_tastes(shop: SyntheticShop, catalog: ItemCatalog) -> None:
    svc = service(shop, catalog)
    model = svc.fit_segments()
    assert 3 <= model.k <= 8 and set(model.silhouettes) == set(range(3, 9))
    assert model.silhouettes[model.k] == max(model.silhouettes.values())  # the stated criterion
    ids = sorted(svc.states)
    assign = model.assign(segment_features([svc.states[u] for u in ids], catalog, svc.config))
    # purity: the most common first true category in each segment covers most of its members
    pure = 0
    for s in range(model.k):
        firsts = [shop.truth[u].categories[0] for u, a in zip(ids, assign, strict=True) if a == s]
        if firsts:
            pure += max(firsts.count(c) for c in set(firsts))
    assert pure / len(ids) > 0.5  # 10 categories, 1-2 per user: chance purity is far lower
    # labels name the segment's leading category leaf; a price level only when it sets the segment apart
    for s, label in enumerate(model.labels):
        top = model.stats[s]["top_categories"][0]["name"].split(">")[-1].strip().lower()
        assert top in label or "mixed" in label
    assert len(set(model.labels)) == model.k
    assert sum(st["size"] for st in model.stats) == len(ids)


def test_segment_model_save_load(tmp_path: Path, shop: SyntheticShop, catalog: ItemCatalog) -> None:
    svc = service(shop, catalog)
    model = svc.fit_segments()
    model.save(tmp_path)
    again = SegmentModel.load(tmp_path)
    feats = segment_features([svc.states[u] for u in sorted(svc.states)], catalog, svc.config)
    np.testing.assert_array_equal(model.assign(feats), again.assign(feats))
    assert again.labels == model.labels and again.silhouettes == model.silhouettes
    out = svc.segments_json()
    assert out["k"] == model.k and len(out["segments"]) == model.k and "silhouette" in out["criterion"]
