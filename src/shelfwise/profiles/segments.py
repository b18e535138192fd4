"""Segments: K-means over profile features, k chosen by silhouette, labels and dashboard stats.

Features per user, each block scaled to unit norm and weighted (:class:`SegmentConfig`):

* interest: the long-term vector (unit length);
* category / brand / price: square roots of the affinity distributions and of the price-percentile
  histogram (Euclidean distance between them is the Hellinger distance; empty blocks are dropped);
* activity: standardised log counts and funnel shares.

They are projected on ``pca_components`` principal components (denoising the 384-d text block and making
K-means cheap), then K-means (scikit-learn, ``n_init`` restarts, seeded) runs for every k in
``[k_min, k_max]``; the k with the highest silhouette on a seeded sample is kept. Labels and statistics
are in :mod:`shelfwise.profiles.segment_labels`.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from shelfwise.profiles.catalog import ItemCatalog
from shelfwise.profiles.config import ProfileConfig, SegmentConfig
from shelfwise.profiles.state import UserState

__all__ = ["SegmentFeatures", "SegmentModel", "fit_segments", "segment_features"]

log = logging.getLogger(__name__)


def _activity_raw(st: UserState) -> list[float]:
    n = max(st.n_events, 1)
    return [
        math.log1p(st.n_events),
        math.log1p(st.sessions),
        math.log1p(st.active_days),
        st.type_counts.get("purchase", 0) / n,
        st.type_counts.get("add_to_cart", 0) / n,
        math.log1p(st.monetary),
    ]


def _sqrt_dist(weights: dict[int, float], size: int) -> np.ndarray:
    out = np.zeros(size)
    total = sum(weights.values())
    if total > 0:
        for k, v in weights.items():
            out[k] = v / total
    return np.sqrt(out)


@dataclass(frozen=True, eq=False)
class SegmentFeatures:
    """The raw blocks of the segment features (before weighting), kept for labels and priors.

    Attributes:
        interest: ``(n, d)`` unit long-term vectors (zeros when none).
        category / brand / price: ``(n, size)`` normalised distributions (not square-rooted).
        activity: ``(n, 6)`` raw activity values.
    """

    interest: np.ndarray
    category: np.ndarray
    brand: np.ndarray
    price: np.ndarray
    activity: np.ndarray


def segment_features(
    states: Sequence[UserState], catalog: ItemCatalog, config: ProfileConfig
) -> SegmentFeatures:
    """Raw feature blocks of many states (row order = ``states``)."""
    n, d = len(states), catalog.dim
    interest = np.zeros((n, d), dtype=np.float32)
    category = np.zeros((n, len(catalog.categories)), dtype=np.float32)
    brand = np.zeros((n, len(catalog.brands)), dtype=np.float32)
    price = np.zeros((n, config.price_bins), dtype=np.float32)
    activity = np.zeros((n, 6), dtype=np.float32)
    for r, st in enumerate(tqdm(states, desc="segment features", disable=n < 50_000, unit="user")):
        v = st.long_vector()
        if v is not None and d:
            norm = float(np.linalg.norm(v))
            if norm > 0:
                interest[r] = v / norm
        if category.shape[1]:
            category[r] = _sqrt_dist(st.categories, category.shape[1]) ** 2
        if brand.shape[1]:
            brand[r] = _sqrt_dist(st.brands, brand.shape[1]) ** 2
        hist = np.asarray(st.price_hist, dtype=np.float64)
        if hist.sum() > 0:
            price[r] = hist / hist.sum()
        activity[r] = _activity_raw(st)
    return SegmentFeatures(interest, category, brand, price, activity)


@dataclass(frozen=True, eq=False)
class SegmentModel:
    """A fitted segmentation: how to embed a state, the centroids, and each segment's label and prior.

    Attributes:
        config: the segment settings used.
        blocks: ``(name, width, weight)`` of each feature block kept, in column order.
        activity_mean / activity_scale: standardisation of the activity block.
        pca_mean / pca_components: the projection (``components`` ``(p, f)``; identity-free when p = 0).
        centroids: ``(k, p)`` K-means centroids in the projected space.
        silhouettes: ``{k: silhouette}`` for every k tried (the selection criterion).
        labels: a readable label per segment.
        stats: dashboard statistics per segment (JSON-ready dicts).
        prior_interest / prior_category / prior_brand / prior_price: per-segment mean of each raw block
            (the cold-start prior).
    """

    config: SegmentConfig
    blocks: tuple[tuple[str, int, float], ...]
    activity_mean: np.ndarray
    activity_scale: np.ndarray
    pca_mean: np.ndarray
    pca_components: np.ndarray
    centroids: np.ndarray
    silhouettes: dict[int, float]
    labels: tuple[str, ...] = ()
    stats: tuple[dict[str, Any], ...] = ()
    prior_interest: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    prior_category: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    prior_brand: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    prior_price: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    category_names: tuple[str, ...] = ()
    brand_names: tuple[str, ...] = ()
    category_map: np.ndarray | None = None
    brand_map: np.ndarray | None = None

    @property
    def k(self) -> int:
        """Number of segments."""
        return int(self.centroids.shape[0])

    def aligned(self, catalog: ItemCatalog) -> SegmentModel:
        """This model read against ``catalog``'s category / brand codes, which may differ from the ones
        it was fitted on (the catalogue grew: codes are sorted names, so a new name shifts later codes).

        Current codes are mapped to the fitted columns by name (a name the model never saw maps nowhere)
        and the priors are re-indexed to current codes. A model saved without its names (older
        artifacts) is aligned by position, padded or trimmed, and a warning says so.
        """
        maps: dict[str, Any] = {}
        priors: dict[str, Any] = {}
        for kind, names, current in (
            ("category", self.category_names, catalog.categories),
            ("brand", self.brand_names, catalog.brands),
        ):
            if names:
                pos = {n: i for i, n in enumerate(names)}
                m = np.array([pos.get(n, -1) for n in current], dtype=np.int64)
            else:
                if len(current) != getattr(self, f"prior_{kind}").shape[1]:
                    log.warning("segment model has no %s names: aligned by position", kind)
                m = np.arange(len(current), dtype=np.int64)
                m[m >= getattr(self, f"prior_{kind}").shape[1]] = -1
            maps[f"{kind}_map"] = m
            prior = getattr(self, f"prior_{kind}")
            out = np.zeros((prior.shape[0], len(current)), np.float32)
            ok = m >= 0
            if prior.size and ok.any():
                out[:, ok] = prior[:, m[ok]]
            priors[f"prior_{kind}"] = out
        return dataclasses.replace(self, **maps, **priors)

    def _block(self, name: str, block: np.ndarray, width: int) -> np.ndarray:
        """A category / brand block in the fitted column order (see :meth:`aligned`)."""
        m = getattr(self, f"{name}_map", None)
        if m is None or m.size != block.shape[1]:
            return _fit_width(block, width)
        out = np.zeros((block.shape[0], width), block.dtype)
        ok = (m >= 0) & (m < width)
        out[:, m[ok]] = block[:, ok]
        return out

    def design(self, feats: SegmentFeatures) -> np.ndarray:
        """The weighted, block-normalised feature matrix (before projection).

        Each block is padded or trimmed to the width the model was fitted with: a catalogue that grew
        since (new categories or brands at the end of the vocabulary) adds dimensions the model simply
        does not know.
        """
        parts = []
        for name, width, weight in self.blocks:
            if name == "activity":
                block = (
                    (feats.activity - self.activity_mean)
                    / self.activity_scale
                    / math.sqrt(feats.activity.shape[1])
                )
            elif name == "interest":
                block = feats.interest
            else:
                block = np.sqrt(getattr(feats, name))
            if name in ("category", "brand"):
                block = self._block(name, block, width)
            parts.append(math.sqrt(weight) * _fit_width(block.astype(np.float32), width))
        return np.hstack(parts).astype(np.float32)

    def project(self, feats: SegmentFeatures) -> np.ndarray:
        """Features in the clustering space."""
        x = self.design(feats)
        if self.pca_components.size == 0:
            return x
        return ((x - self.pca_mean) @ self.pca_components.T).astype(np.float32)

    def assign(self, feats: SegmentFeatures) -> np.ndarray:
        """Nearest centroid of each row (int32)."""
        z = self.project(feats)
        d2 = (z**2).sum(1)[:, None] - 2 * z @ self.centroids.T + (self.centroids**2).sum(1)[None, :]
        return np.argmin(d2, axis=1).astype(np.int32)

    def nearest_by_interest(self, vector: np.ndarray | None) -> int:
        """Segment whose mean interest is closest (cosine) to ``vector``; the largest segment without one."""
        sizes = [int(s.get("size", 0)) for s in self.stats] or [1] * self.k
        if vector is None or self.prior_interest.size == 0 or not np.any(vector):
            return int(np.argmax(sizes))
        p = self.prior_interest / np.maximum(
            np.linalg.norm(self.prior_interest, axis=1, keepdims=True), 1e-12
        )
        return int(np.argmax(p @ (vector / max(float(np.linalg.norm(vector)), 1e-12))))

    def save(self, directory: Path) -> None:
        """Write ``segments.json`` and one ``.npy`` per array (no pickle)."""
        directory.mkdir(parents=True, exist_ok=True)
        meta = {
            "config": self.config.model_dump(),
            "blocks": [list(b) for b in self.blocks],
            "silhouettes": {str(k): v for k, v in self.silhouettes.items()},
            "labels": list(self.labels),
            "stats": list(self.stats),
            "category_names": list(self.category_names),
            "brand_names": list(self.brand_names),
        }
        (directory / "segments.json").write_text(json.dumps(meta, indent=1, default=float))
        for name in _ARRAYS:
            np.save(directory / f"{name}.npy", np.asarray(getattr(self, name)), allow_pickle=False)

    @classmethod
    def load(cls, directory: Path) -> SegmentModel:
        """Inverse of :meth:`save`."""
        meta = json.loads((directory / "segments.json").read_text())
        arrays = {n: np.load(directory / f"{n}.npy", allow_pickle=False) for n in _ARRAYS}
        return cls(
            config=SegmentConfig(**meta["config"]),
            blocks=tuple((str(b[0]), int(b[1]), float(b[2])) for b in meta["blocks"]),
            silhouettes={int(k): float(v) for k, v in meta["silhouettes"].items()},
            labels=tuple(meta["labels"]),
            stats=tuple(meta["stats"]),
            category_names=tuple(meta.get("category_names", ())),
            brand_names=tuple(meta.get("brand_names", ())),
            **arrays,
        )


def _fit_width(block: np.ndarray, width: int) -> np.ndarray:
    """``block`` with exactly ``width`` columns: extra columns dropped, missing ones zero."""
    if block.shape[1] == width:
        return block
    if block.shape[1] > width:
        return block[:, :width]
    return np.hstack([block, np.zeros((block.shape[0], width - block.shape[1]), block.dtype)])


_ARRAYS = (
    "activity_mean",
    "activity_scale",
    "pca_mean",
    "pca_components",
    "centroids",
    "prior_interest",
    "prior_category",
    "prior_brand",
    "prior_price",
)


def _blocks(feats: SegmentFeatures, cfg: SegmentConfig) -> tuple[tuple[str, int, float], ...]:
    wanted = (
        ("interest", cfg.weight_interest),
        ("category", cfg.weight_category),
        ("brand", cfg.weight_brand),
        ("price", cfg.weight_price),
        ("activity", cfg.weight_activity),
    )
    out = []
    for name, weight in wanted:
        block: np.ndarray = getattr(feats, name)
        if weight > 0 and block.shape[1] and np.any(block):
            out.append((name, int(block.shape[1]), float(weight)))
    return tuple(out)


def fit_segments(
    feats: SegmentFeatures, config: SegmentConfig | None = None
) -> tuple[SegmentModel, np.ndarray]:
    """Fit the projection and K-means for each k, keep the best silhouette (labels added separately).

    Args:
        feats: raw feature blocks of the users to segment.
        config: segment settings.

    Returns:
        ``(model, assignment)``: the model (no labels / stats yet) and each user's segment (int32).

    Raises:
        ImportError: without scikit-learn (``pip install 'shelfwise[ranking]'``).
    """
    try:
        from sklearn.cluster import KMeans
        from sklearn.metrics import silhouette_score
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("segments need scikit-learn: pip install 'shelfwise[ranking]'") from exc
    cfg = config or SegmentConfig()
    n = feats.activity.shape[0]
    if n < cfg.k_min + 1:
        raise ValueError(f"need more than {cfg.k_min} users to segment, got {n}")
    act_mean = feats.activity.mean(axis=0)
    act_scale = feats.activity.std(axis=0)
    act_scale[act_scale < 1e-9] = 1.0
    base = SegmentModel(
        cfg,
        _blocks(feats, cfg),
        act_mean,
        act_scale,
        np.zeros(0, np.float32),
        np.zeros((0, 0), np.float32),
        np.zeros((0, 0), np.float32),
        {},
    )
    x = base.design(feats)
    p = min(cfg.pca_components, x.shape[1], n)
    mean = x.mean(axis=0)
    comps = np.zeros((0, 0), np.float32)
    if p and p < x.shape[1]:
        cov = np.cov((x - mean).T.astype(np.float64))
        vals, vecs = np.linalg.eigh(cov)
        comps = vecs[:, np.argsort(vals)[::-1][:p]].T.astype(np.float32)
        comps *= np.sign(comps[np.arange(p), np.abs(comps).argmax(axis=1)])[:, None]  # deterministic signs
        z = ((x - mean) @ comps.T).astype(np.float32)
    else:
        z = x
    rng = np.random.default_rng(cfg.seed)
    sample = rng.choice(n, size=min(cfg.silhouette_sample, n), replace=False)
    best: tuple[float, int, Any] | None = None
    silhouettes: dict[int, float] = {}
    for k in tqdm(range(cfg.k_min, min(cfg.k_max, n - 1) + 1), desc="k-means", unit="k"):
        km = KMeans(n_clusters=k, n_init=cfg.n_init, random_state=cfg.seed).fit(z)
        score = float(silhouette_score(z[sample], km.labels_[sample]))
        silhouettes[k] = score
        log.info("k=%d silhouette=%.4f inertia=%.1f", k, score, km.inertia_)
        if best is None or score > best[0]:
            best = (score, k, km)
    assert best is not None
    km = best[2]
    assign = km.labels_.astype(np.int32)
    k = best[1]

    def means(block: np.ndarray) -> np.ndarray:
        out = np.zeros((k, block.shape[1]), dtype=np.float32)
        for s in range(k):
            if np.any(assign == s):
                out[s] = block[assign == s].mean(axis=0)
        return out

    model = SegmentModel(
        cfg,
        base.blocks,
        act_mean,
        act_scale,
        mean.astype(np.float32) if comps.size else np.zeros(0, np.float32),
        comps,
        km.cluster_centers_.astype(np.float32),
        silhouettes,
        prior_interest=means(feats.interest),
        prior_category=means(feats.category),
        prior_brand=means(feats.brand),
        prior_price=means(feats.price),
    )
    return model, assign
