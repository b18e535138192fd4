"""A shopper's category / brand / price-band affinities, from their history or precomputed by a profile.

An affinity is a share: the weighted fraction of the user's history in the candidate's category (brand,
price band), so it is comparable across users with short and long histories. The profile service
(:mod:`shelfwise.profiles`) keeps richer, time-decayed versions; pass those in with :meth:`UserAffinity.from_named`
instead of recomputing here.

Example:
    >>> import numpy as np, pyarrow as pa
    >>> from shelfwise.ranking.attributes import ItemAttributes
    >>> attrs = ItemAttributes.from_table(pa.table({"item_id": ["a", "b", "c"], "category": ["X", "X", "Y"],
    ...                                             "brand": ["B", None, "B"], "price": [1.0, 2.0, 9.0]}))
    >>> aff = UserAffinity.from_history(np.array([0, 1, 1]), None, attrs)
    >>> aff.category_share(np.array([0, 2]), attrs).tolist(), aff.brand_share(np.array([2]), attrs).tolist()
    ([1.0, 0.0], [1.0])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from shelfwise.ranking.attributes import N_PRICE_BANDS, ItemAttributes

__all__ = ["UserAffinity"]


def _shares(codes: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keep = codes >= 0
    if not keep.any():
        return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32)
    uniq, inv = np.unique(codes[keep], return_inverse=True)
    sums = np.bincount(inv, weights=weights[keep])
    return uniq.astype(np.int32), (sums / sums.sum()).astype(np.float32)


def _lookup(keys: np.ndarray, values: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """``values`` of ``codes`` in the sorted ``keys`` (0 when absent; NaN for unknown codes ``-1``)."""
    out = np.zeros(codes.shape, dtype=np.float32)
    if keys.size:
        pos = np.minimum(np.searchsorted(keys, codes), keys.size - 1)
        hit = keys[pos] == codes
        out[hit] = values[pos[hit]]
    out[codes < 0] = np.nan
    return out


@dataclass(frozen=True, eq=False)
class UserAffinity:
    """Shares of a user's history by category, brand and price band, and their typical log price.

    Attributes:
        categories / category_weights: sorted int32 category codes and their float32 shares (sum 1).
        brands / brand_weights: likewise for brands.
        price_bands: float32 ``(3,)`` shares of budget / mid / premium (zeros when no price is known).
        log_price_mean / log_price_std: weighted mean and spread of ``log(price)`` (NaN when unknown).
    """

    categories: np.ndarray
    category_weights: np.ndarray
    brands: np.ndarray
    brand_weights: np.ndarray
    price_bands: np.ndarray
    log_price_mean: float = float("nan")
    log_price_std: float = float("nan")

    @classmethod
    def from_history(
        cls, history: np.ndarray, weights: np.ndarray | None, attributes: ItemAttributes
    ) -> UserAffinity:
        """Shares over ``history`` (item indices), each item weighted by ``weights`` (default 1)."""
        h = np.asarray(history, dtype=np.int64)
        w = np.ones(h.size) if weights is None else np.asarray(weights, dtype=np.float64)
        cats, cat_w = _shares(attributes.category[h], w)
        brands, brand_w = _shares(attributes.brand[h], w)
        bands, band_w = _shares(attributes.price_band[h].astype(np.int32), w)
        band_share = np.zeros(N_PRICE_BANDS, dtype=np.float32)
        band_share[bands] = band_w
        price = attributes.price[h].astype(np.float64)
        known = np.isfinite(price) & (price > 0)
        mean = std = float("nan")
        if known.any():
            lp, wk = np.log(price[known]), w[known]
            mean = float(np.average(lp, weights=wk))
            std = float(np.sqrt(np.average((lp - mean) ** 2, weights=wk)))
        return cls(cats, cat_w, brands, brand_w, band_share, mean, std)

    @classmethod
    def from_named(
        cls,
        attributes: ItemAttributes,
        categories: Mapping[str, float] | None = None,
        brands: Mapping[str, float] | None = None,
        price_bands: Sequence[float] | None = None,
        log_price_mean: float = float("nan"),
        log_price_std: float = float("nan"),
    ) -> UserAffinity:
        """Precomputed affinities (e.g. from a stored profile) by name; unknown names are ignored.

        Args:
            attributes: the catalogue facts that give names their codes.
            categories: weight per category path (normalised to shares here).
            brands: weight per brand name.
            price_bands: weights of budget / mid / premium.
            log_price_mean: typical ``log(price)``.
            log_price_std: its spread.
        """

        def encode(
            names: tuple[str, ...], weights: Mapping[str, float] | None
        ) -> tuple[np.ndarray, np.ndarray]:
            pos = {n: i for i, n in enumerate(names)}
            pairs = sorted((pos[k], float(v)) for k, v in (weights or {}).items() if k in pos and v > 0)
            if not pairs:
                return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32)
            codes, w = np.asarray([p[0] for p in pairs]), np.asarray([p[1] for p in pairs])
            return codes.astype(np.int32), (w / w.sum()).astype(np.float32)

        cats, cat_w = encode(attributes.categories, categories)
        brand_codes, brand_w = encode(attributes.brands, brands)
        bands = np.zeros(N_PRICE_BANDS, dtype=np.float32)
        if price_bands is not None:
            b = np.asarray(price_bands, dtype=np.float64)[:N_PRICE_BANDS]
            bands[: b.size] = b / b.sum() if b.sum() > 0 else 0.0
        return cls(cats, cat_w, brand_codes, brand_w, bands, log_price_mean, log_price_std)

    def category_share(self, items: np.ndarray, attributes: ItemAttributes) -> np.ndarray:
        """float32 share of the user's history in each item's category (NaN for an item without one)."""
        return _lookup(self.categories, self.category_weights, attributes.category[items])

    def brand_share(self, items: np.ndarray, attributes: ItemAttributes) -> np.ndarray:
        """float32 share of the user's history in each item's brand (NaN for an item without one)."""
        return _lookup(self.brands, self.brand_weights, attributes.brand[items])

    def price_band_share(self, items: np.ndarray, attributes: ItemAttributes) -> np.ndarray:
        """float32 share of the user's history in each item's price band (NaN when either is unknown)."""
        band = attributes.price_band[items].astype(np.int64)
        out = np.where(band >= 0, self.price_bands[np.maximum(band, 0)], np.nan).astype(np.float32)
        if self.price_bands.sum() <= 0:
            out[:] = np.nan
        return out

    def price_gap(self, items: np.ndarray, attributes: ItemAttributes) -> np.ndarray:
        """float32 ``(log(price) - typical) / max(spread, 0.1)``: how far above the user's usual price."""
        price = attributes.price[items].astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            gap = (np.log(np.where(price > 0, price, np.nan)) - self.log_price_mean) / max(
                np.nan_to_num(self.log_price_std), 0.1
            )
        return gap.astype(np.float32)
