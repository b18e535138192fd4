"""Fair exposure across requests: brands get attention in proportion to their relevance, amortised over lists.

A single list cannot be fair to brands: ten slots, hundreds of brands, and near-ties broken the same way every
time give one brand the top slot in every list (Singh & Joachims 2018). Fairness is therefore *amortised*
(Biega, Gummadi & Weikum 2018): a :class:`FairExposureLedger` keeps, per item, the cumulative **exposure**
``E`` it received (position-weighted, ``1 / log2(1 + rank)``, as the harness's fairness metrics) and the
cumulative **merit** ``R`` it earned (by default the relevance of each brand's best candidate in a request,
``rerank.fairness_merit="max"``, or every candidate's relevance, ``"sum"``; scaled so that a request hands out
as much merit as its list has exposure). Per brand ``b``, the deficit is

    ``d_b = R_b / sum R - E_b / sum E``  (positive: under-exposed for its relevance).

Method ``fair_exposure`` fills the list greedily with the gain

    ``(1 - f) rel(i) + f * m_b(i)``,  ``m_b = clip(1 - (E_b / sum E) / (R_b / sum R), 0, 1)``,  ``f = rerank.fairness``,

``m_b`` being the share of its deserved exposure brand ``b`` is missing (1: none received; 0: at or above its
due), a scale-free boost that many under-exposed brands hold at once, so relevance still decides among them.
Only a brand's first item in a list is boosted, and each pick adds its slot's exposure to its brand before
the next slot is scored (a brand is lifted into one slot, it does not flood the list). ``f = 0`` is relevance
order exactly; items of unknown brand get no boost. (A boost normalised by the largest deficit, tried first,
handed whole lists to one brand at a time and raised the brand Gini on Beauty.) The caller records what was served
(:meth:`FairExposureLedger.record`, as for every :class:`~shelfwise.rerank.exposure.ExposureCounter`): offline
:func:`~shelfwise.rerank.batch.rerank_top_items` does it row by row; online :class:`LiveFairExposure` keeps one
ledger per surface with the half-life of :class:`~shelfwise.rerank.exposure.LiveExposure`.

Example:
    >>> import numpy as np
    >>> ledger = FairExposureLedger(4)
    >>> ledger.observe_merit(np.array([0, 1, 2, 3]), np.array([1.0, 1.0, 1.0, 1.0]), k=2)
    >>> ledger.record(np.array([0, 1]))  # brand 0 got both slots
    >>> ledger.brand_deficit(np.array([0, 0, 1, 1])).round(3).tolist()
    [-0.5, 0.5]
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, fields

import numpy as np

from shelfwise.rerank.catalog import ItemCatalog
from shelfwise.rerank.exposure import ExposureCounter, LiveExposure
from shelfwise.rerank.greedy import Diversifier, GreedyState, SelectionProblem

__all__ = [
    "BrandLedger",
    "BrandView",
    "FairExposure",
    "FairExposureLedger",
    "FairSelectionProblem",
    "LiveFairExposure",
    "brand_merit",
    "fair_problem",
    "scaled_merit",
]


def _weights(n: int) -> np.ndarray:
    return 1.0 / np.log2(np.arange(2, n + 2, dtype=np.float64))


@dataclass(frozen=True)
class BrandView:
    """What one request sees of a brand ledger: cumulative exposure and merit of its candidates' brands
    (this request's merit included) and of all brands."""

    exposure: np.ndarray
    merit: np.ndarray
    total_exposure: float
    total_merit: float


class BrandLedger(abc.ABC):
    """Where amortised brand exposure and merit are kept: in the process (:class:`FairExposureLedger`) or
    in the service's shared online state (:class:`~shelfwise.rerank.fair_shared.SharedFairLedger`)."""

    @abc.abstractmethod
    def brand_view(
        self, catalog: ItemCatalog, items: np.ndarray, merit: np.ndarray, k: int, brands: np.ndarray
    ) -> BrandView:
        """Add one request's ``merit`` (per candidate ``items``, scaled to the exposure of a ``k``-list),
        then read the totals of ``brands`` (brand ids of ``catalog``) and of every brand."""

    @abc.abstractmethod
    def record(self, items: np.ndarray) -> None:
        """Count one served list (``items`` in list order, ``-1`` padding ignored)."""


def scaled_merit(relevance: np.ndarray, k: int) -> np.ndarray:
    """``relevance`` (clipped at 0) scaled so that a request hands out the exposure of a ``k``-list."""
    rel = np.clip(np.asarray(relevance, dtype=np.float64), 0.0, None)
    total = rel.sum()
    return rel * (_weights(k).sum() / total) if total > 0 else np.zeros_like(rel)


class FairExposureLedger(ExposureCounter, BrandLedger):
    """Cumulative position-weighted exposure and merit per item (a drop-in :class:`ExposureCounter`).

    ``counts`` (lists an item was placed in) behave exactly as in the base class, so method ``coverage``
    reads the same numbers from a ledger.

    Args:
        n_items: catalogue size (dense item indices).
    """

    def __init__(self, n_items: int) -> None:
        super().__init__(n_items)
        self.exposure = np.zeros(n_items, dtype=np.float64)
        self.merit = np.zeros(n_items, dtype=np.float64)

    def record(self, items: np.ndarray) -> None:
        """Count one served list: ``items`` in list order (``-1`` padding ignored, ranks kept)."""
        super().record(items)
        arr = np.asarray(items, dtype=np.int64)
        valid = arr >= 0
        np.add.at(self.exposure, arr[valid], _weights(arr.size)[valid])

    def observe_merit(self, items: np.ndarray, relevance: np.ndarray, k: int) -> None:
        """Add one request's merit: ``relevance`` of its candidates, scaled to the exposure of a ``k``-list."""
        np.add.at(self.merit, np.asarray(items, dtype=np.int64), scaled_merit(relevance, k))

    def brand_view(
        self, catalog: ItemCatalog, items: np.ndarray, merit: np.ndarray, k: int, brands: np.ndarray
    ) -> BrandView:
        assert catalog.brands is not None
        self.grow(int(catalog.brands.size))
        self.observe_merit(items, merit, k)
        e_all, r_all = self.brand_totals(np.asarray(catalog.brands, dtype=np.int64))
        return BrandView(e_all[brands].copy(), r_all[brands].copy(), float(e_all.sum()), float(r_all.sum()))

    def decay(self, factor: float) -> None:
        """Multiply counts, exposure and merit by ``factor`` (recent requests weigh more)."""
        super().decay(factor)
        self.exposure *= factor
        self.merit *= factor

    def grow(self, n_items: int) -> None:
        """Make room for new items (no exposure, no merit)."""
        n_old = len(self.counts)
        super().grow(n_items)
        if n_items > n_old:
            pad = np.zeros(n_items - n_old)
            self.exposure = np.concatenate([self.exposure, pad])
            self.merit = np.concatenate([self.merit, pad])

    def brand_totals(self, brands: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """float64 ``(n_brands,)`` cumulative exposure and merit per brand (items of brand ``-1`` left out)."""
        b = np.asarray(brands, dtype=np.int64)
        n = min(b.size, self.exposure.size)
        b = b[:n]
        known = b >= 0
        n_brands = int(b.max(initial=-1)) + 1
        e = np.bincount(b[known], weights=self.exposure[:n][known], minlength=n_brands)
        r = np.bincount(b[known], weights=self.merit[:n][known], minlength=n_brands)
        return e, r

    def brand_deficit(self, brands: np.ndarray) -> np.ndarray:
        """float64 ``(n_brands,)``: merit share minus exposure share per brand."""
        e, r = self.brand_totals(brands)
        return _share(r) - _share(e)


def _share(x: np.ndarray) -> np.ndarray:
    total = x.sum()
    return x / total if total > 0 else np.zeros_like(x)


@dataclass(frozen=True, eq=False)
class FairSelectionProblem(SelectionProblem):
    """A :class:`SelectionProblem` with the brand ledger's view for one request.

    Attributes:
        fairness: the knob ``f`` in ``[0, 1]``.
        brand_of: int64 ``(n,)`` local brand index per candidate (``-1`` unknown).
        brand_exposure: float64 ``(m,)`` cumulative exposure of the candidates' ``m`` brands.
        brand_merit: float64 ``(m,)`` their cumulative merit.
        total_exposure: exposure of all brands so far.
        total_merit: merit of all brands so far (this request included).
    """

    fairness: float = 0.0
    brand_of: np.ndarray | None = None
    brand_exposure: np.ndarray | None = None
    brand_merit: np.ndarray | None = None
    total_exposure: float = 0.0
    total_merit: float = 0.0
    tail_from: int = 1 << 30


def fair_problem(
    problem: SelectionProblem,
    fairness: float,
    ledger: ExposureCounter | BrandLedger | None,
    items: np.ndarray,
    catalog: ItemCatalog,
    k: int,
    merit: str = "max",
    tail: int = 0,
) -> SelectionProblem:
    """The fair-exposure view of ``problem``; records this request's merit in ``ledger``.

    ``merit="max"``: a brand's merit in a request is the relevance of its best candidate (a brand with 30
    candidates earns no more than one with a single equally relevant item: the brand, not its catalogue
    size, is what the shopper may want); ``"sum"``: every candidate's relevance counts; ``"equal"``: every
    brand among the candidates earns the same (exposure by presence, whatever the relevance).

    ``tail``: the last ``tail`` positions of the ``k``-list are filled at fairness 1 (the most relevant item of
    the most under-exposed brands), the others at ``fairness``.

    Without a :class:`BrandLedger` (in-process :class:`FairExposureLedger` or the shared one), brands or fairness, ``problem`` is returned unchanged (relevance
    order; the selection notes say why).
    """
    if (fairness <= 0 and tail <= 0) or not isinstance(ledger, BrandLedger) or catalog.brands is None:
        return problem
    items = np.asarray(items, dtype=np.int64)
    rel = np.asarray(problem.relevance, dtype=np.float64)
    cand_brand = np.asarray(catalog.brands, dtype=np.int64)[items]
    if merit == "max":
        rel = brand_merit(rel, cand_brand)
    elif merit == "equal":
        rel = brand_merit(np.ones_like(rel), cand_brand)
    local, inverse = np.unique(cand_brand[cand_brand >= 0], return_inverse=True)
    view = ledger.brand_view(catalog, items, rel, k, local)
    brand_of = np.full(items.size, -1, dtype=np.int64)
    brand_of[cand_brand >= 0] = inverse
    base = {f.name: getattr(problem, f.name) for f in fields(SelectionProblem)}
    return FairSelectionProblem(
        **base,
        fairness=float(fairness),
        brand_of=brand_of,
        brand_exposure=view.exposure,
        brand_merit=view.merit,
        total_exposure=view.total_exposure,
        total_merit=view.total_merit,
        tail_from=max(0, k - tail) if tail > 0 else 1 << 30,
    )


def brand_merit(relevance: np.ndarray, brand_of: np.ndarray) -> np.ndarray:
    """Relevance kept only on each brand's best candidate (ties: the first); unknown-brand items keep theirs.

    Example:
        >>> brand_merit(np.array([0.2, 0.9, 0.5, 0.4]), np.array([0, 0, 1, -1])).tolist()
        [0.0, 0.9, 0.5, 0.4]
    """
    rel = np.asarray(relevance, dtype=np.float64)
    b = np.asarray(brand_of, dtype=np.int64)
    out = np.where(b < 0, rel, 0.0)
    known = np.flatnonzero(b >= 0)
    if known.size:
        order = known[np.lexsort((-rel[known], b[known]))]  # by brand, best first
        first = np.ones(order.size, dtype=bool)
        first[1:] = b[order[1:]] != b[order[:-1]]
        out[order[first]] = rel[order[first]]
    return out


class _FairState(GreedyState):
    def __init__(self, problem: SelectionProblem) -> None:
        self.rel = problem.relevance.astype(np.float64)
        fair = problem if isinstance(problem, FairSelectionProblem) else None
        self.f = fair.fairness if fair is not None and fair.brand_of is not None else 0.0
        self.tail_from = fair.tail_from if fair is not None and fair.brand_of is not None else 1 << 30
        self.missing = fair is None or fair.brand_of is None
        if fair is not None and fair.brand_of is not None:
            self.brand_of = fair.brand_of
            self.exposure = np.asarray(fair.brand_exposure, dtype=np.float64).copy()
            self.merit_share = _share(np.asarray(fair.brand_merit, dtype=np.float64))
            self.total_exposure = fair.total_exposure
            self.listed = np.zeros(self.exposure.size, dtype=bool)
        self.slot = 0
        self.boost = np.zeros_like(self.rel)

    def gains(self) -> np.ndarray:
        f = 1.0 if self.slot >= self.tail_from else self.f
        if f <= 0:
            return self.rel
        exp_share = self.exposure / self.total_exposure if self.total_exposure > 0 else 0 * self.exposure
        # the share of its deserved exposure a brand is missing: 1 = none received, 0 = at or above its due
        missing = np.where(
            self.merit_share > 0, 1.0 - exp_share / np.where(self.merit_share > 0, self.merit_share, 1.0), 0.0
        )
        missing = np.clip(missing, 0.0, 1.0)
        missing[self.listed] = 0.0  # a brand is boosted into one slot of a list, not all of them
        known = self.brand_of >= 0
        self.boost = np.zeros_like(self.rel)
        self.boost[known] = missing[self.brand_of[known]]
        if f >= 1.0:  # fairness only: the most relevant candidate of the most under-exposed brands
            return self.boost + 1e-6 * self.rel
        return (1.0 - f) * self.rel + f * self.boost

    def take(self, j: int) -> None:
        w = 1.0 / np.log2(self.slot + 2.0)
        self.slot += 1
        if (self.f > 0 or self.tail_from < 1 << 30) and self.brand_of[
            j
        ] >= 0:  # totals are over items of known brand
            self.total_exposure += w
            self.exposure[int(self.brand_of[j])] += w
            self.listed[int(self.brand_of[j])] = True

    def terms(self, j: int, gains: np.ndarray) -> dict[str, float]:
        return {"relevance": float(self.rel[j]), "brand_boost": float(self.boost[j]), "gain": float(gains[j])}

    def notes(self) -> tuple[str, ...]:
        if self.missing:
            return ("fair_exposure: no brand ledger or no brands were given; relevance order",)
        return ()


class FairExposure(Diversifier):
    """Amortised fair exposure across requests (see the module docstring); the knob is ``rerank.fairness``,
    carried by :class:`FairSelectionProblem` (the ``diversity`` argument is not used)."""

    name = "fair_exposure"

    def start(self, problem: SelectionProblem) -> GreedyState:
        return _FairState(problem)


class LiveFairExposure(LiveExposure):
    """:class:`LiveExposure` whose per-surface counters are :class:`FairExposureLedger`\\ s (same counts and
    half-life; exposure and merit decay with them). A drop-in for the serving process's exposure state."""

    def counter(self, surface: str, n_items: int) -> ExposureCounter:
        """The surface's ledger, sized for ``n_items``."""
        c = self._counters.get(surface)
        if c is None:
            c = self._counters[surface] = FairExposureLedger(n_items)
        c.grow(n_items)
        return c
