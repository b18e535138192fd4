"""The product page's two slots, each from its own evidence, each with a reason that is true of the data.

``bought_together`` (items shoppers took together with the anchor) counts, for every other item:

* **shoppers who bought both** (distinct shoppers with a ``purchase`` of each),
* **shoppers who put both in the cart** without buying both (``add_to_cart`` or ``purchase`` of each),
* **visits in which both were looked at** (one session: the events' ``session_id``, else a gap of more
  than ``session_gap_minutes`` between a shopper's events starts a new visit).

Items with none of these are never listed: an anchor without such evidence gets an empty list (the response
says ``fallback="no_co_purchases"``), never look-alikes passed off as companions.

``similar`` (items like the anchor) scores content and behaviour:
``0.5 x`` cosine of the item vectors (``shelfwise build``; left out when there are none) ``+ 0.35 x`` the
catalogue's attribute overlap (:meth:`~shelfwise.recommend.catalog.ServingCatalog.similarity`: category,
brand, title words) ``+ 0.15 x`` behaviour cosine (shoppers who interacted with both over
``sqrt(n_a n_b)``). Its reason names only facts that hold: same category / department, same brand, close in
description (among the anchor's nearest items by description vector), or shared name words, and "N shoppers
chose both" when at least two shoppers took both.

Counts come from the store's events when the recommender loads (:meth:`RelatedItems.from_store`); events
the recommender applies later are added (:meth:`RelatedItems.observe`; a live visit starts with the first
live event); a forgotten shopper's events are taken out of every count (:meth:`RelatedItems.without_user`).

Example:
    >>> import pyarrow as pa
    >>> ev = pa.table({"user_id": ["u1", "u1", "u2", "u2"], "item_id": ["a", "b", "a", "b"],
    ...                "type": ["purchase"] * 4, "timestamp": [0.0, 9e5, 0.0, 9e5]})
    >>> rel = RelatedItems.from_events(ev, {"a": 0, "b": 1, "c": 2})
    >>> rel.together(0, 10, np.zeros(0, np.int32))
    [Together(item=1, bought=2, carted=0, visits=0)]
    >>> together_reason(rel.together(0, 10, np.zeros(0, np.int32))[0])
    'Bought together by 2 shoppers'
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import scipy.sparse as sp

from shelfwise.recommend.catalog import ServingCatalog

__all__ = [
    "Likeness",
    "RelatedItems",
    "Together",
    "similar_reason",
    "together_reason",
]

log = logging.getLogger(__name__)

_BOUGHT = ("purchase",)
_CARTED = ("purchase", "add_to_cart")
_LOOKED = ("view", "click", "add_to_cart", "purchase", "favorite")
_KINDS = ("bought", "carted", "looked", "visits")
_W_TEXT, _W_ATTR, _W_BEHAVIOUR = 0.5, 0.35, 0.15
_NEAR_IN_TEXT = 20  # "close in description": among the anchor's nearest items by description vector
_POOL = 300  # candidates of the similar slot taken from each of vectors / behaviour / attributes


@dataclass(frozen=True)
class Together:
    """Evidence that ``item`` goes with the anchor: distinct shoppers and visits."""

    item: int
    bought: int
    carted: int
    visits: int


@dataclass(frozen=True)
class Likeness:
    """Why ``item`` is like the anchor (each fact true of the catalogue / events)."""

    item: int
    score: float
    same_category: bool
    same_department: bool
    same_brand: bool
    close_in_text: bool
    shared_words: tuple[str, ...]
    shared_shoppers: int


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def together_reason(t: Together) -> str:
    """The bought-together reason in a shopper's words, from the counts only (visits are mentioned only when
    nobody bought or carted both: "bought together by 5 shoppers", else "looked at together in 3 visits")."""
    parts = []
    if t.bought:
        parts.append(f"bought together by {_plural(t.bought, 'shopper')}")
    if t.carted:
        more = " more" if t.bought else ""
        parts.append(f"put in the cart together by {_plural(t.carted, 'shopper')}{more}")
    if t.visits and not parts:  # the weaker evidence, said only when it is the only one
        parts.append(f"looked at together in {_plural(t.visits, 'visit')}")
    text = "; ".join(parts)
    return text[:1].upper() + text[1:]


def similar_reason(like: Likeness) -> str:
    """The similar-items reason: the facts that hold, e.g. "Similar: same category and brand, close in
    description"."""
    facts: list[str] = []
    if like.same_category and like.same_brand:
        facts.append("same category and brand")
    elif like.same_category:
        facts.append("same category")
    elif like.same_department and like.same_brand:
        facts.append("same department and brand")
    elif like.same_department:
        facts.append("same department")
    elif like.same_brand:
        facts.append("same brand")
    if like.close_in_text:
        facts.append("close in description")
    elif like.shared_words:
        facts.append("name shares " + " and ".join(f'"{w}"' for w in like.shared_words[:2]))
    if like.shared_shoppers >= 2:
        facts.append(f"{like.shared_shoppers} shoppers chose both")
    return "Similar: " + ", ".join(facts)


def _incidence(rows: np.ndarray, cols: np.ndarray, n_rows: int, n_cols: int) -> sp.csr_matrix:
    m = sp.csr_matrix((np.ones(rows.size, np.float32), (rows, cols)), shape=(n_rows, n_cols))
    m.data[:] = 1.0  # duplicates summed by the constructor: one row counts once per item
    return m


def _co(m: sp.csr_matrix) -> sp.csr_matrix:
    """Item x item: rows of ``m`` holding both (diagonal kept: it is each item's own count)."""
    return (m.T @ m).tocsr()


class RelatedItems:
    """Co-purchase, co-cart, co-visit and co-interaction counts over the catalogue's dense indices.

    Args:
        users: external user id of each row of the user matrices.
        bought / carted / looked: users x items 0/1 matrices (purchase; purchase or cart; any event).
        visit_users: the user of each row of ``visits``; ``visits``: visits x items 0/1.
        vectors: L2-normalised item vectors aligned with the dense indices (zero rows = none), or ``None``.
    """

    def __init__(
        self,
        users: list[str],
        bought: sp.csr_matrix,
        carted: sp.csr_matrix,
        looked: sp.csr_matrix,
        visit_users: np.ndarray,
        visits: sp.csr_matrix,
        vectors: np.ndarray | None = None,
    ) -> None:
        self.users = users
        self.user_index = {u: k for k, u in enumerate(users)}
        self.bought, self.carted, self.looked = bought, carted, looked
        self.visit_users, self.visits = visit_users, visits
        self.vectors = vectors
        self.n_items = bought.shape[1]
        self.session_gap = 30 * 60.0
        self.co_bought = _co(bought)
        self.co_carted = _co(carted)
        self.co_looked = _co(looked)
        self.co_visits = _co(visits)
        self._diag = {k: getattr(self, f"co_{k}").diagonal() for k in _KINDS}
        # events observed after the counts were built: per-anchor deltas, each anchor's dict replaced (never
        # changed in place), so a request reading one while a writer adds to it sees the old or the new one
        self._delta: dict[str, dict[int, dict[int, int]]] = {k: {} for k in _KINDS}
        self._mine: dict[tuple[str, str], frozenset[int]] = {}  # (kind, user) -> items added live
        self._visit: dict[str, tuple[float, str | None, frozenset[int]]] = {}  # user -> open live visit
        self._live: dict[str, list[tuple[int, str, float, str | None]]] = {}  # user -> events (forgetting)

    # ------------------------------------------------------------------ building

    @classmethod
    def from_events(
        cls,
        events: pa.Table,
        index: Mapping[str, int],
        *,
        n_items: int | None = None,
        vectors: np.ndarray | None = None,
        session_gap_minutes: float = 30.0,
    ) -> RelatedItems:
        """Counts from an events table (``user_id``, ``item_id``, ``type``, ``timestamp``, optional
        ``session_id``); events on items not in ``index`` are left out."""
        n = int(n_items if n_items is not None else (max(index.values(), default=-1) + 1))
        cols = events.column_names
        rows = events.num_rows
        users = events.column("user_id").to_pandas().astype("string")
        items = events.column("item_id").to_pandas().astype("string").map(index)
        items_arr = items.fillna(-1).to_numpy(dtype=np.int64)
        types = events.column("type").to_pandas().astype("string").fillna("")
        ts = _seconds(events.column("timestamp")) if "timestamp" in cols else np.zeros(rows)
        sessions = (
            events.column("session_id").to_pandas().astype("string")
            if "session_id" in cols
            else pd.Series(pd.NA, index=range(rows), dtype="string")
        )
        keep = (items_arr >= 0) & users.notna().to_numpy() & (users.fillna("") != "").to_numpy()
        codes, uniques = pd.factorize(users.where(keep), sort=True)
        urow = np.asarray(codes, dtype=np.int64)
        user_ids = [str(u) for u in uniques]
        n_users = len(user_ids)

        def matrix(kinds: tuple[str, ...]) -> sp.csr_matrix:
            sel = keep & types.isin(kinds).to_numpy()
            return _incidence(urow[sel], items_arr[sel], n_users, n)

        # visits: a session id when the source has one, else a gap longer than session_gap_minutes
        order = np.lexsort((ts, urow))
        sel = order[keep[order] & types.isin(_LOOKED).to_numpy()[order]]
        gap = session_gap_minutes * 60.0
        su, st = urow[sel], ts[sel]
        sid = sessions.to_numpy(dtype=object, na_value=None)[sel]
        has_sid = np.asarray([v is not None for v in sid], dtype=bool)
        same_user = np.r_[False, su[1:] == su[:-1]] if sel.size else np.zeros(0, bool)
        by_id = has_sid | np.r_[False, has_sid[:-1]] if sel.size else np.zeros(0, bool)
        sid_changed = np.r_[True, sid[1:] != sid[:-1]] if sel.size else np.zeros(0, bool)
        long_gap = np.r_[True, np.diff(st) > gap] if sel.size else np.zeros(0, bool)
        new = ~same_user | np.where(by_id, sid_changed, long_gap)
        visit = np.cumsum(new) - 1
        n_visits = int(visit.max()) + 1 if visit.size else 0
        visit_users = np.zeros(n_visits, np.int64)
        if visit.size:
            visit_users[visit] = urow[sel]
        visits = _incidence(visit, items_arr[sel], n_visits, n)
        rel = cls(user_ids, matrix(_BOUGHT), matrix(_CARTED), matrix(_LOOKED), visit_users, visits, vectors)
        rel.session_gap = gap
        log.info(
            "related items: %d shoppers, %d visits, %d item pairs bought together",
            n_users,
            n_visits,
            (rel.co_bought.nnz - int((rel.co_bought.diagonal() > 0).sum())) // 2,
        )
        return rel

    @classmethod
    def from_store(
        cls, store: Any, catalog: ServingCatalog, session_gap_minutes: float = 30.0
    ) -> RelatedItems:
        """Counts from every stored event, with the built item vectors when there are any."""
        events = store.read_events(["user_id", "item_id", "type", "timestamp", "session_id"])
        return cls.from_events(
            events,
            catalog.index,
            n_items=len(catalog),
            vectors=_item_vectors(store, catalog),
            session_gap_minutes=session_gap_minutes,
        )

    def without_user(self, user_id: str) -> RelatedItems:
        """A copy with every event of ``user_id`` taken out of the counts (itself when the user is absent)."""
        k = self.user_index.get(user_id)
        if k is None or self.users[k] != user_id:
            return self._rebuilt(self._copy_base(), user_id) if user_id in self._live else self

        def drop(m: sp.csr_matrix, rows: np.ndarray) -> sp.csr_matrix:
            keep = np.ones(m.shape[0], dtype=bool)
            keep[rows] = False
            return sp.diags(keep.astype(np.float32)) @ m

        mine = np.flatnonzero(self.visit_users == k)
        users = list(self.users)
        users[k] = ""
        base = RelatedItems(
            users,
            drop(self.bought, np.array([k])).tocsr(),
            drop(self.carted, np.array([k])).tocsr(),
            drop(self.looked, np.array([k])).tocsr(),
            self.visit_users,
            drop(self.visits, mine).tocsr(),
            self.vectors,
        )
        return self._rebuilt(base, user_id)

    def _copy_base(self) -> RelatedItems:
        return RelatedItems(
            self.users, self.bought, self.carted, self.looked, self.visit_users, self.visits, self.vectors
        )

    def _rebuilt(self, base: RelatedItems, user_id: str) -> RelatedItems:
        """``base`` (the stored counts without ``user_id``) plus every other shopper's live events, replayed."""
        base.session_gap = self.session_gap
        for user, events in self._live.items():
            if user != user_id:
                for item, kind, ts, session in events:
                    base._add(user, item, kind, ts, session)
        return base

    # ------------------------------------------------------------------ live events

    def observe(self, events: list[Mapping[str, Any]], index: Mapping[str, int]) -> int:
        """Count events that arrived after the counts were built (the recommender's writer calls this with
        the events it applies, in time order; one writer at a time); returns how many were counted."""
        from shelfwise.recommend.writers import _seconds

        n = 0
        for e in events:
            item = index.get(str(e.get("item_id")))
            kind = str(e.get("type") or e.get("event_type") or "view")
            user = e.get("user_id")
            if item is None or user is None or kind not in _LOOKED:
                continue
            session = e.get("session_id")
            sid = None if session is None else str(session)
            self._add(str(user), int(item), kind, _seconds(e.get("timestamp")), sid)
            n += 1
        return n

    def _base_items(self, m: sp.csr_matrix, user: str) -> set[int]:
        k = self.user_index.get(user)
        if k is None or self.users[k] != user:
            return set()
        return set(m.indices[m.indptr[k] : m.indptr[k + 1]].tolist())

    def _bump(self, kind: str, a: int, b: int) -> None:
        delta = self._delta[kind]
        row = dict(delta.get(a, {}))
        row[b] = row.get(b, 0) + 1
        delta[a] = row  # replaced, never changed in place (a request may hold the old one)

    def _join(self, kind: str, m: sp.csr_matrix, user: str, item: int) -> None:
        """``user`` took ``item``: one more shopper for each pair with their earlier items, and for the item."""
        key = (kind, user)
        added = self._mine.get(key, frozenset())
        before = self._base_items(m, user) | added
        if item in before:
            return
        for other in before:
            self._bump(kind, item, other)
            self._bump(kind, other, item)
        self._bump(kind, item, item)  # the item's own count (the behaviour cosine's norm)
        self._mine[key] = added | {item}

    def _add(self, user: str, item: int, kind: str, ts: float, session: str | None) -> None:
        self._live.setdefault(user, []).append((item, kind, ts, session))
        if kind in _BOUGHT:
            self._join("bought", self.bought, user, item)
        if kind in _CARTED:
            self._join("carted", self.carted, user, item)
        self._join("looked", self.looked, user, item)
        last = self._visit.get(user)
        if last is None:
            same = False
        elif session is not None or last[1] is not None:
            same = session == last[1]
        else:
            same = ts - last[0] <= self.session_gap
        items = last[2] if same and last is not None else frozenset()
        if item not in items:
            for other in items:
                self._bump("visits", item, other)
                self._bump("visits", other, item)
        self._visit[user] = (ts, session, items | {item})

    # ------------------------------------------------------------------ lists

    def _row(self, kind: str, anchor: int, *, own: bool = False) -> dict[int, int]:
        """Co-counts of ``anchor`` with every other item (and its own count with ``own``): stored + live."""
        m = getattr(self, f"co_{kind}")
        out: dict[int, int] = {}
        if anchor < m.shape[0]:
            lo, hi = m.indptr[anchor], m.indptr[anchor + 1]
            out = {int(i): int(v) for i, v in zip(m.indices[lo:hi], m.data[lo:hi], strict=True) if v > 0}
        for i, v in self._delta[kind].get(anchor, {}).items():
            out[i] = out.get(i, 0) + v
        if not own:
            out.pop(anchor, None)
        return out

    def own_count(self, kind: str, item: int) -> int:
        """Shoppers (``bought`` / ``carted`` / ``looked``) or visits (``visits``) holding ``item``."""
        diag = self._diag[kind]
        stored = int(diag[item]) if item < diag.size else 0
        return stored + self._delta[kind].get(item, {}).get(item, 0)

    def together(self, anchor: int, k: int, exclude: np.ndarray) -> list[Together]:
        """Items with co-purchase / co-cart / co-visit evidence, strongest first (shoppers who bought both,
        then those who carted both, then visits); an empty list when there is none."""
        bought = self._row("bought", anchor)
        carted = self._row("carted", anchor)
        visits = self._row("visits", anchor)
        blocked = set(np.asarray(exclude).tolist()) | {anchor}
        found = [
            Together(i, bought.get(i, 0), carted.get(i, 0) - bought.get(i, 0), visits.get(i, 0))
            for i in set(bought) | set(carted) | set(visits)
            if i not in blocked
        ]
        found.sort(key=lambda t: (-(t.bought + t.carted), -t.bought, -t.visits, t.item))
        return found[:k]

    def similar(self, anchor: int, catalog: ServingCatalog, k: int, exclude: np.ndarray) -> list[Likeness]:
        """Items like ``anchor`` by content and behaviour (module doc), best first; items with no fact
        in common with the anchor are never listed.

        Candidates: the ``_POOL`` nearest by description vector, by co-interaction, in the same category and
        of the same brand; attribute facts come from the catalogue's category / brand codes (vectorised) and
        title words (only for the candidates).
        """
        n = len(catalog)
        blocked = np.zeros(n, dtype=bool)
        ex = np.asarray(exclude, dtype=np.int64)
        blocked[ex[(ex >= 0) & (ex < n)]] = True
        blocked[anchor] = True
        cat_code, dept_code, brand_code = _codes(catalog)
        text = np.zeros(n, dtype=np.float32)
        pools: list[np.ndarray] = []
        near: set[int] = set()
        vecs = self.vectors
        if vecs is not None and anchor < vecs.shape[0] and vecs[anchor].any():
            text[: vecs.shape[0]] = vecs @ vecs[anchor]
            ranked = np.where(blocked, -np.inf, text)
            best = np.argpartition(-ranked, min(_POOL, n - 1))[:_POOL]
            best = best[np.argsort(-ranked[best], kind="stable")]
            best = best[np.isfinite(ranked[best])]
            near = {int(i) for i in best[:_NEAR_IN_TEXT]}
            pools.append(best)
        looked = self._row("looked", anchor)
        pools.append(np.asarray(sorted(looked, key=lambda i: -looked[i])[:_POOL], dtype=np.int64))
        for code in (cat_code, brand_code):
            if code[anchor] >= 0:
                pools.append(np.flatnonzero((code == code[anchor]) & ~blocked)[:_POOL])
        cands = np.unique(np.concatenate(pools)) if pools else np.zeros(0, np.int64)
        cands = cands[(cands < n) & ~blocked[np.minimum(cands, n - 1)]]
        if not cands.size:
            return []
        same_cat = (cat_code[cands] == cat_code[anchor]) & (cat_code[anchor] >= 0)
        same_dept = (dept_code[cands] == dept_code[anchor]) & (dept_code[anchor] >= 0)
        same_brand = (brand_code[cands] == brand_code[anchor]) & (brand_code[anchor] >= 0)
        wa = catalog.words(anchor)
        shared_words = [catalog.words(int(i)) & wa for i in cands]
        jaccard = np.asarray(
            [
                len(w) / max(len(catalog.words(int(i)) | wa), 1)
                for i, w in zip(cands, shared_words, strict=True)
            ],
            dtype=np.float32,
        )
        attr = 0.4 * same_cat + 0.2 * (same_dept & ~same_cat) + 0.2 * same_brand + 0.4 * jaccard
        n_a = float(self.own_count("looked", anchor))
        shared = np.asarray([looked.get(int(i), 0) for i in cands], dtype=np.float32)
        n_i = np.asarray([self.own_count("looked", int(i)) for i in cands], dtype=np.float32)
        behaviour = np.where(n_i * n_a > 0, shared / np.sqrt(np.maximum(n_i * n_a, 1e-9)), 0.0)
        w_text = _W_TEXT if vecs is not None else 0.0
        score = w_text * np.clip(text[cands], 0.0, 1.0) + _W_ATTR * attr + _W_BEHAVIOUR * behaviour
        score = score / (w_text + _W_ATTR + _W_BEHAVIOUR)
        out: list[Likeness] = []
        for j in np.argsort(-score, kind="stable"):
            i = int(cands[j])
            like = Likeness(
                item=i,
                score=round(float(score[j]), 6),
                same_category=bool(same_cat[j]),
                same_department=bool(same_dept[j]),
                same_brand=bool(same_brand[j]),
                close_in_text=i in near,
                shared_words=tuple(sorted(shared_words[j])[:3]),
                shared_shoppers=int(shared[j]),
            )
            if similar_reason(like) == "Similar: ":
                continue  # nothing in common that can be said: not listed
            out.append(like)
            if len(out) == k:
                break
        return out


_CODES: dict[int, tuple[Any, tuple[np.ndarray, np.ndarray, np.ndarray]]] = {}


def _codes(catalog: ServingCatalog) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """int64 category-path, top-level-category and brand codes per item (``-1`` = none), cached per catalogue
    object (a catalogue change makes a new object)."""
    cached = _CODES.get(id(catalog))
    if cached is not None and cached[0] is catalog:
        return cached[1]

    def encode(values: list[str | None]) -> np.ndarray:
        table: dict[str, int] = {}
        return np.asarray([table.setdefault(v, len(table)) if v else -1 for v in values], dtype=np.int64)

    codes = (
        encode(catalog.categories),
        encode([c.split(" > ")[0] if c else None for c in catalog.categories]),
        encode(catalog.brands),
    )
    _CODES.clear()  # one catalogue at a time is served; keep only the newest
    _CODES[id(catalog)] = (catalog, codes)
    return codes


def _seconds(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Unix seconds (float64) of a timestamp or numeric column."""
    if pa.types.is_timestamp(col.type):
        return np.asarray(col.cast(pa.timestamp("us")).cast(pa.int64()).to_numpy(zero_copy_only=False)) / 1e6
    return np.asarray(col.to_numpy(zero_copy_only=False), dtype=np.float64)


def _item_vectors(store: Any, catalog: ServingCatalog) -> np.ndarray | None:
    """The built item vectors aligned with the catalogue's dense indices (L2-normalised), or ``None``."""
    import json

    from shelfwise.storage import ArtifactNotFoundError

    try:
        art = store.artifacts.latest("item-vectors")
    except ArtifactNotFoundError:
        log.info(
            "no item-vectors artifact (run `shelfwise build`): similar items from attributes and behaviour"
        )
        return None
    raw = np.load(art.path / "vectors.npy").astype(np.float32)
    ids = json.loads((art.path / "ids.json").read_text())
    out = np.zeros((len(catalog), raw.shape[1]), dtype=np.float32)
    for row, item in enumerate(ids):
        k = catalog.index.get(str(item))
        if k is not None:
            out[k] = raw[row]
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return np.divide(out, norms, out=np.zeros_like(out), where=norms > 0)
