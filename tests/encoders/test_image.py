"""Image encoder on a tiny randomly initialised CLIP (no real CLIP weights are reachable offline)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from shelfwise.encoders.image import ImageEncoderConfig, build_image_encoder

FASHION = Path(__file__).resolve().parents[3] / "shared" / "data" / "fashion-images"


def _images(tmp_path: Path) -> list[Path]:
    from PIL import Image

    rng = np.random.default_rng(0)
    paths = []
    for i in range(3):
        p = tmp_path / f"img{i}.png"
        Image.fromarray(rng.integers(0, 255, size=(40 + 10 * i, 50, 3), dtype=np.uint8)).save(p)
        paths.append(p)
    return paths


def test_clip_loads_by_path_and_encodes(tiny_clip: Path, tmp_path: Path) -> None:
    paths = _images(tmp_path)
    (tmp_path / "broken.jpg").write_bytes(b"not an image")
    enc = build_image_encoder(ImageEncoderConfig(type="clip", model=str(tiny_clip), batch_size=2))
    images = [
        paths[0],
        None,
        tmp_path / "missing.jpg",
        paths[1],
        tmp_path / "broken.jpg",
        str(paths[2]),
        float("nan"),
    ]
    vecs, present = enc.encode_images(images)
    assert vecs.shape == (7, 12) and vecs.dtype == np.float32
    assert present.tolist() == [True, False, False, True, False, True, False]
    np.testing.assert_allclose(np.linalg.norm(vecs[present], axis=1), 1.0, atol=1e-5)
    assert not vecs[~present].any()
    again, _ = enc.encode_images([paths[1], paths[0]])  # deterministic, independent of batch position
    np.testing.assert_allclose(again, vecs[[3, 0]], atol=1e-5)
    assert not np.allclose(vecs[0], vecs[3])


def test_relative_paths_and_missing_processor(tiny_clip: Path, tmp_path: Path) -> None:
    import shutil

    paths = _images(tmp_path)
    bare = tmp_path / "bare-model"
    shutil.copytree(tiny_clip, bare)
    (bare / "preprocessor_config.json").unlink()
    enc = build_image_encoder(ImageEncoderConfig(type="clip", model=str(bare), image_root=tmp_path))
    _vecs, present = enc.encode_images([paths[0].name, "nope.png"])
    assert present.tolist() == [True, False]
    assert build_image_encoder().encode_images([paths[0]])[0].shape == (1, 0)  # type "none"
    with pytest.raises(ValueError):
        build_image_encoder(ImageEncoderConfig(type="clip"))


@pytest.mark.data
def test_fashion_images_cross_modal_path(tiny_clip: Path) -> None:
    """The whole image -> fused-vector path on the real product photos (tiny random CLIP, so no semantics)."""
    if not FASHION.exists():
        pytest.skip(f"{FASHION} not present")
    import pandas as pd

    from shelfwise.encoders import (
        FeatureConfig,
        FusionConfig,
        FusionProjection,
        ItemFeaturizer,
        pairs_from_sequences,
    )

    styles = pd.read_csv(FASHION / "styles_subset.csv").head(40)
    items = [
        {
            "item_id": str(r.id),
            "title": r.productDisplayName,
            "category": f"{r.masterCategory} > {r.subCategory}",
            "brand": r.productDisplayName.split()[0],
            "price": None if i % 5 == 0 else 10.0 + i,
            "image": f"{r.id}.jpg",
        }
        for i, r in enumerate(styles.itertuples())
    ]
    items[3]["image"] = "does-not-exist.jpg"
    enc = build_image_encoder(
        ImageEncoderConfig(type="clip", model=str(tiny_clip), image_root=FASHION / "images")
    )
    img, present = enc.encode_images([it["image"] for it in items])
    assert present.sum() == len(items) - 1 and not present[3]
    text = np.random.default_rng(0).normal(size=(len(items), 24)).astype(np.float32)
    feats = ItemFeaturizer(FeatureConfig(price_bands=3)).fit(items)
    by_type = styles.groupby("articleType").indices
    pairs = pairs_from_sequences([list(v) for v in by_type.values()], window=4)
    fusion = FusionProjection(
        feats, text_dim=24, image_dim=enc.dim, config=FusionConfig(dim=16, hidden=32, epochs=3, batch_size=16)
    )
    fusion.fit(text, feats.transform(items), pairs, img, present, show_progress=False)
    fused = fusion.transform(text, feats.transform(items), img, present)
    assert fused.shape == (len(items), 16) and np.isfinite(fused).all()
    np.testing.assert_allclose(np.linalg.norm(fused, axis=1), 1.0, atol=1e-5)
