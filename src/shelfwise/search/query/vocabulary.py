"""The catalogue's own vocabulary: brands, category paths, colours, product types, words and price terciles.

Built once from the items (canonical columns: ``title``, ``description``, ``category`` path joined by
``" > "``, ``brand``, ``price``, ``currency``, ``attributes``), saved as one JSON file, loaded by the
parser. Brands come from the ``brand`` column; when it is empty they are mined from title starts
(:mod:`~shelfwise.search.query.mining`). Every node of every category path is matchable by its name,
by the parts of a compound name ("Tapes, Adhesives & Sealants" -> "tapes", "adhesives", "sealants") and
with plurals folded.

Example:
    >>> vocab = CatalogueVocabulary.build([
    ...     {"title": "Puma Men Black Sneaker", "brand": "Puma", "category": "Footwear > Shoes > Casual Shoes",
    ...      "price": 40.0},
    ...     {"title": "Lee Women Blue Top", "brand": "Lee", "category": "Apparel > Topwear > Tops", "price": 20.0},
    ... ])
    >>> [b.name for b in vocab.brands_for("puma")], vocab.categories_for("casual shoe")
    (['Puma'], ('Footwear > Shoes > Casual Shoes',))
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from functools import cached_property
from pathlib import Path
from typing import Any, Final

import pyarrow as pa

from shelfwise.data.schema import CATEGORY_SEPARATOR
from shelfwise.search.query.brands import Brand, brand_aliases, column_brands, usable_aliases
from shelfwise.search.query.config import VocabularyConfig
from shelfwise.search.query.lexicon import COLOURS
from shelfwise.search.query.mining import mine_brands, mine_product_types
from shelfwise.search.query.normalize import compact, fold, fold_key, phrase_key
from shelfwise.search.query.spelling import SpellCorrector

logger = logging.getLogger(__name__)

FORMAT: Final[str] = "shelfwise/query-vocabulary"
VERSION: Final[int] = 1
_SUBNAME_SPLIT = re.compile(r",\s*|\s+&\s+|\s+and\s+")
_COLOUR_KEYS = ("colour", "color", "basecolour", "base_colour", "basecolor")


def _rows(items: pa.Table | Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    if isinstance(items, pa.Table):
        wanted = [c for c in ("title", "description", "category", "brand", "price", "currency", "attributes")]
        return items.select([c for c in wanted if c in items.column_names]).to_pylist()
    return list(items)


def _attributes(raw: Any) -> dict[str, Any]:
    if isinstance(raw, Mapping):
        return dict(raw)
    if isinstance(raw, str) and raw.strip().startswith("{"):
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            return {}
        return value if isinstance(value, dict) else {}
    return {}


class _Tally:
    """Counts of one pass over item rows: words, category paths, colours, brand spellings, prices."""

    def __init__(self) -> None:
        self.words: Counter[str] = Counter()
        self.categories: Counter[str] = Counter()
        self.colours: Counter[str] = Counter()
        self.brand_names: dict[str, Counter[str]] = defaultdict(Counter)
        self.prices: list[float] = []
        self.currencies: Counter[str] = Counter()

    @classmethod
    def of(cls, rows: list[Mapping[str, Any]], cfg: VocabularyConfig) -> _Tally:
        out = cls()
        titles = [r.get("title") or "" for r in rows]
        for text in titles + ([r.get("description") or "" for r in rows] if cfg.use_descriptions else []):
            out.words.update(_text_words(text))
        ignored = {phrase_key(b) for b in cfg.ignored_brands}
        for row, title in zip(rows, titles, strict=True):
            levels = [
                lv.strip() for lv in (row.get("category") or "").split(CATEGORY_SEPARATOR) if lv.strip()
            ]
            for depth in range(1, len(levels) + 1):
                out.categories[CATEGORY_SEPARATOR.join(levels[:depth])] += 1
            for lv in levels:
                out.words.update(_text_words(lv))
            brand = (row.get("brand") or "").strip()
            if brand and phrase_key(brand) not in ignored:
                out.brand_names[phrase_key(brand)][brand] += 1
                out.words.update(_text_words(brand))
            found = {
                COLOURS.get(phrase_key(str(v)))
                for k, v in _attributes(row.get("attributes")).items()
                if k.lower() in _COLOUR_KEYS and v
            }
            found |= {COLOURS[w] for w in phrase_key(title).split() if w in COLOURS}
            out.colours.update(c for c in found if c)
            price = row.get("price")
            if isinstance(price, int | float) and price == price and price > 0:
                out.prices.append(float(price))
            if row.get("currency"):
                out.currencies[str(row["currency"])] += 1
        return out


class CatalogueVocabulary:
    """What the catalogue calls things; the parser matches query phrases against it.

    Build with :meth:`build`, persist with :meth:`save` / :meth:`load`. Lookups take keys made by
    :func:`~shelfwise.search.query.normalize.phrase_key` (category lookups fold plurals themselves).

    Args:
        brands: the brands.
        categories: category path -> item count (every node of every path).
        words: word -> count in titles, brands, category names (and descriptions if configured).
        product_types: head nouns of titles (folded) -> titles they head.
        colours: canonical colour -> items with that colour (attribute or title word).
        prices: ``{"min", "low", "high", "max"}`` (low / high = the 1/3 and 2/3 quantiles) or ``None``.
        currency: the most common item currency, or ``None``.
        n_items: items the vocabulary was built from.
        config: the build settings.
    """

    def __init__(
        self,
        brands: Iterable[Brand],
        categories: Mapping[str, int],
        words: Mapping[str, int],
        product_types: Mapping[str, int],
        colours: Mapping[str, int],
        prices: Mapping[str, float] | None = None,
        currency: str | None = None,
        n_items: int = 0,
        config: VocabularyConfig | None = None,
    ) -> None:
        self.config = config or VocabularyConfig()
        self.brands = tuple(brands)
        self.categories = dict(categories)
        self.words = dict(words)
        self.product_types = dict(product_types)
        self.colours = dict(colours)
        self.prices = dict(prices) if prices else None
        self.currency = currency
        self.n_items = n_items
        self._brand_index: dict[str, list[Brand]] = defaultdict(list)
        for brand in self.brands:
            for key in brand.keys:
                for k in {key, compact(key)}:
                    if brand not in self._brand_index[k]:
                        self._brand_index[k].append(brand)
        self._category_index: dict[str, set[str]] = defaultdict(set)
        self._head_index: dict[str, set[str]] = defaultdict(set)
        limit = self.config.max_category_share * max(n_items, 1)
        for path, count in self.categories.items():
            if n_items and count > limit and CATEGORY_SEPARATOR not in path:
                continue  # a root holding (nearly) every item tells nothing
            name = path.rsplit(CATEGORY_SEPARATOR, 1)[-1]
            for part in {name, *_subnames(name)}:
                key = fold_key(phrase_key(part))
                if key:
                    self._category_index[key].add(path)
                    self._category_index[compact(key)].add(path)
                    self._head_index[key.split()[-1]].add(path)

    # -- building ---------------------------------------------------------------------------------------

    @classmethod
    def build(
        cls, items: pa.Table | Iterable[Mapping[str, Any]], config: VocabularyConfig | None = None
    ) -> CatalogueVocabulary:
        """Build the vocabulary of a catalogue.

        Args:
            items: a table or dicts with canonical item columns (any may be missing or null).
            config: build settings.
        """
        cfg = config or VocabularyConfig()
        rows = _rows(items)
        titles = [r.get("title") or "" for r in rows]
        descriptions = [r.get("description") for r in rows]
        t = _Tally.of(rows, cfg)
        words, categories, colours, brand_names = t.words, t.categories, t.colours, t.brand_names
        prices, currencies = t.prices, t.currencies
        types = mine_product_types(titles, cfg)
        brands = column_brands(brand_names, titles, categories)
        use_mining = cfg.mine_brands if cfg.mine_brands is not None else not brands
        if use_mining:
            strong = mine_product_types(titles, cfg, min_count=10, min_share=0.5)
            mined = mine_brands(titles, cfg, descriptions, product_types=strong)
            title_words = Counter(w for t in titles for w in set(phrase_key(t).split()))
            brands += [
                Brand(
                    m.name,
                    tuple(dict.fromkeys((*usable_aliases(m.name, m.count, title_words), *m.aliases))),
                    m.count,
                    "mined",
                )
                for m in mined
                if not any(k in brand_names for k in brand_aliases(m.name))
            ]
            logger.info("mined %d brands from %d titles", len(mined), len(titles))
        brand_words = {fold(k) for b in brands for k in b.keys if " " not in k}
        types = {t: c for t, c in types.items() if t not in brand_words}
        quantiles = _terciles(prices)
        return cls(
            brands,
            categories,
            words,
            types,
            colours,
            quantiles,
            currencies.most_common(1)[0][0] if currencies else None,
            len(rows),
            cfg,
        )

    def extended(self, items: pa.Table | Iterable[Mapping[str, Any]]) -> CatalogueVocabulary:
        """This vocabulary plus what ``items`` (new or changed items of a live catalogue) add: words,
        category paths, colours and brands of the brand column, so a product added without a rebuild
        can be found by its brand, category and spelling at once.

        Product types, mined brands and the price terciles stay as built (they are statistics of the
        whole catalogue; ``shelfwise build`` recomputes them). Counts of a replaced item add up.
        """
        rows = _rows(items)
        t = _Tally.of(rows, self.config)
        words, categories, colours = Counter(self.words), Counter(self.categories), Counter(self.colours)
        words.update(t.words)
        categories.update(t.categories)
        colours.update(t.colours)
        known = {k for b in self.brands for k in b.keys}
        new_names = {k: v for k, v in t.brand_names.items() if k not in known}
        added = column_brands(new_names, [r.get("title") or "" for r in rows], categories)
        return CatalogueVocabulary(
            (*self.brands, *added),
            categories,
            words,
            self.product_types,
            colours,
            self.prices,
            self.currency,
            self.n_items + len(rows),
            self.config,
        )

    # -- lookups -----------------------------------------------------------------------------------------

    def brands_for(self, key: str) -> list[Brand]:
        """Brands whose key (or joined key, "rayban") is ``key``."""
        return self._brand_index.get(key, [])

    def categories_for(self, key: str) -> tuple[str, ...]:
        """Category paths named ``key`` (plurals folded), most general first; descendants of a match dropped."""
        folded = fold_key(key)
        paths = self._category_index.get(folded) or self._category_index.get(compact(folded)) or set()
        return _antichain(paths)

    def categories_by_head(self, word: str, limit: int = 3) -> tuple[str, ...]:
        """Paths whose name ends in ``word`` (folded), if at most ``limit`` such general paths exist."""
        paths = _antichain(self._head_index.get(fold(word), set()))
        return paths if len(paths) <= limit else ()

    def is_product_type(self, word: str) -> bool:
        """Whether ``word`` (folded) heads titles or category names: a kind of product."""
        w = fold(word)
        return w in self.product_types or w in self._head_index

    def word_count(self, word: str) -> int:
        """Occurrences of ``word`` in the catalogue text."""
        return self.words.get(word, 0)

    def price_band_range(self, band: str) -> tuple[float | None, float | None]:
        """(min, max) of a relative band over the catalogue's prices: low = bottom third, high = top third."""
        if not self.prices:
            return (None, None)
        return {
            "low": (None, self.prices["low"]),
            "mid": (self.prices["low"], self.prices["high"]),
            "high": (self.prices["high"], None),
        }.get(band, (None, None))

    @cached_property
    def speller(self) -> SpellCorrector:
        """Spelling corrector over the catalogue words seen at least ``min_word_count`` times."""
        return SpellCorrector({w: c for w, c in self.words.items() if c >= self.config.min_word_count})

    # -- persistence -------------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (what :meth:`save` writes)."""
        from shelfwise import __version__

        return {
            "format": FORMAT,
            "version": VERSION,
            "shelfwise_version": __version__,
            "config": self.config.model_dump(mode="json"),
            "n_items": self.n_items,
            "currency": self.currency,
            "prices": self.prices,
            "brands": [asdict(b) for b in self.brands],
            "categories": self.categories,
            "product_types": self.product_types,
            "colours": self.colours,
            "words": self.words,
        }

    def save(self, path: str | Path) -> Path:
        """Write the vocabulary as one JSON file (a folder gets ``query_vocabulary.json`` inside)."""
        target = Path(path)
        if target.is_dir():
            target = target / "query_vocabulary.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(self.to_dict(), ensure_ascii=False), encoding="utf-8")
        return target

    @classmethod
    def load(cls, path: str | Path) -> CatalogueVocabulary:
        """Read a file written by :meth:`save`.

        Raises:
            ValueError: if the file is not a shelfwise query vocabulary or has a newer version.
        """
        target = Path(path)
        if target.is_dir():
            target = target / "query_vocabulary.json"
        data = json.loads(target.read_text(encoding="utf-8"))
        if data.get("format") != FORMAT or int(data.get("version", 0)) > VERSION:
            raise ValueError(f"{target} is not a shelfwise query vocabulary (version <= {VERSION})")
        return cls(
            brands=[
                Brand(b["name"], tuple(b["keys"]), b["count"], b["source"], b["ambiguous"])
                for b in data["brands"]
            ],
            categories=data["categories"],
            words=data["words"],
            product_types=data["product_types"],
            colours=data["colours"],
            prices=data["prices"],
            currency=data["currency"],
            n_items=data["n_items"],
            config=VocabularyConfig.model_validate(data["config"]),
        )


def _text_words(text: str) -> list[str]:
    """Words of a text for the spelling dictionary, plus joined hyphenated forms ("blu-ray" -> "bluray")."""
    if not text:
        return []
    key = phrase_key(text)
    out = key.split()
    out += [compact(phrase_key(m)) for m in re.findall(r"\w+(?:-\w+)+", text.lower())]
    return out


def _subnames(name: str) -> list[str]:
    """Parts of a compound category name that name products on their own.

    "Tapes, Adhesives & Sealants" -> the three plurals; "Filter, Regulator & Lubricator Combos" -> none
    (singular parts are modifiers of the shared head "Combos").
    """
    parts = [p.strip() for p in _SUBNAME_SPLIT.split(name) if p.strip()]
    if len(parts) < 2:
        return []
    out = []
    for part in parts:
        last = phrase_key(part).split()[-1:] or [""]
        if fold(last[0]) != last[0]:
            out.append(part)
    return out


def _terciles(prices: list[float]) -> dict[str, float] | None:
    if len(prices) < 3:
        return None
    ordered = sorted(prices)
    n = len(ordered)
    return {"min": ordered[0], "low": ordered[n // 3], "high": ordered[(2 * n) // 3], "max": ordered[-1]}


def _antichain(paths: Iterable[str]) -> tuple[str, ...]:
    """Drop every path that has an ancestor in the set; sort the rest."""
    ordered = sorted(set(paths), key=lambda p: (p.count(CATEGORY_SEPARATOR), p))
    kept: list[str] = []
    for p in ordered:
        if not any(p.startswith(k + CATEGORY_SEPARATOR) for k in kept):
            kept.append(p)
    return tuple(sorted(kept))
