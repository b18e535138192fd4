"""What the parser returns: a frozen :class:`ParsedQuery`, its filters and its UI chips.

Example:
    >>> q = ParsedQuery(original="Nike shoes under $50", normalized="nike shoes under $50",
    ...                 corrected="nike shoes under $50", brands=("Nike",), price_max=50.0, currency="USD",
    ...                 intent=Intent.SPECIFIC_PRODUCT, residual="shoes", search_text="nike shoes")
    >>> q.filters()
    {'brand': ['Nike'], 'price_max': 50.0, 'currency': 'USD'}
    >>> [c.label for c in q.chips()]
    ['Brand: Nike', 'Under $50']
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from typing import Any

from shelfwise.data.schema import CATEGORY_SEPARATOR


class Intent(enum.StrEnum):
    """What kind of search a query is (rule in :func:`~shelfwise.search.query.intent.classify_intent`)."""

    NAVIGATIONAL_BRAND = "navigational_brand"
    CATEGORY_BROWSE = "category_browse"
    SPECIFIC_PRODUCT = "specific_product"
    OTHER = "other"


@dataclass(frozen=True)
class Correction:
    """A word the parser changed to a catalogue word.

    Attributes:
        original: the word as typed (normalised).
        corrected: the catalogue word(s) it became.
        distance: edits between them (0 for a split of a run-together word).
    """

    original: str
    corrected: str
    distance: int


@dataclass(frozen=True)
class Extraction:
    """One phrase of the query read as a constraint: where it is, what it means, where the meaning came from.

    Attributes:
        field: ``brand``, ``category``, ``colour``, ``colour_exclude``, ``size``, ``price`` or ``price_band``.
        value: the canonical value (brand name, category path, colour, size, band, or "min-max").
        text: the phrase as it stands in the corrected query.
        start: offset in :attr:`ParsedQuery.corrected`.
        end: offset just past the phrase.
        source: how it matched, e.g. ``"exact"``, ``"joined"``, ``"fuzzy"``, ``"synonym"``, ``"zh"``,
            ``"head"``, ``"grammar"``.
    """

    field: str
    value: str
    text: str
    start: int
    end: int
    source: str = "exact"


@dataclass(frozen=True)
class Chip:
    """A removable chip a UI shows for one extracted constraint.

    Attributes:
        field: the filter key it stands for (see :meth:`ParsedQuery.filters`).
        value: the filter value it adds.
        label: human-readable text ("Under $50", "Brand: Nike").
    """

    field: str
    value: Any
    label: str


_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "CNY": "¥"}


def _money(value: float, currency: str | None) -> str:
    amount = f"{value:,.2f}".rstrip("0").rstrip(".")
    symbol = _SYMBOLS.get(currency or "", "")
    return f"{symbol}{amount}" if symbol or not currency else f"{amount} {currency}"


@dataclass(frozen=True)
class ParsedQuery:
    """A query understood: normalised and corrected text, the constraints found, the intent, the rest.

    Attributes:
        original: the query as typed.
        normalized: NFKC, lower case, units rewritten ("5ML" -> "5 ml").
        corrected: :attr:`normalized` with typos replaced by catalogue words.
        corrections: the replacements made.
        brands: brand names as the catalogue writes them (several when the query names several).
        categories: matched category paths ("Footwear > Shoes > Casual Shoes").
        colours: canonical colours asked for.
        colours_excluded: colours asked against ("not red", "不要红色").
        sizes: canonical sizes ("XL", "9", "32 gb").
        price_min: explicit lower bound, or ``None``.
        price_max: explicit upper bound, or ``None``.
        price_band: relative band "low" / "mid" / "high" ("cheap", "premium"), or ``None``.
        price_band_range: the band as (min, max) over the catalogue's price terciles, when known.
        currency: currency named in the query (ISO code), or ``None``.
        product_types: product-type words (title head nouns) found, e.g. ("case",).
        intent: the kind of search.
        residual: the query with every extracted constraint phrase (and filler words) removed: the free
            text left for the retriever when the constraints are applied as filters.
        search_text: the corrected query without price phrases, negated colours and fillers: what a
            retriever should search when the constraints are applied as boosts instead.
        extractions: every phrase read as a constraint, with its span and how it matched.
    """

    original: str
    normalized: str
    corrected: str
    corrections: tuple[Correction, ...] = ()
    brands: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    colours: tuple[str, ...] = ()
    colours_excluded: tuple[str, ...] = ()
    sizes: tuple[str, ...] = ()
    price_min: float | None = None
    price_max: float | None = None
    price_band: str | None = None
    price_band_range: tuple[float | None, float | None] | None = None
    currency: str | None = None
    product_types: tuple[str, ...] = ()
    intent: Intent = Intent.OTHER
    residual: str = ""
    search_text: str = ""
    extractions: tuple[Extraction, ...] = field(default=())

    @property
    def brand(self) -> str | None:
        """The first brand, or ``None``."""
        return self.brands[0] if self.brands else None

    @property
    def category(self) -> str | None:
        """The first category path, or ``None``."""
        return self.categories[0] if self.categories else None

    @property
    def colour(self) -> str | None:
        """The first colour, or ``None``."""
        return self.colours[0] if self.colours else None

    @property
    def size(self) -> str | None:
        """The first size, or ``None``."""
        return self.sizes[0] if self.sizes else None

    def filters(self) -> dict[str, Any]:
        """Constraints for the retrieval layer; only keys with a value are present.

        Keys: ``brand`` (list of names, OR), ``category`` (list of paths, OR; an item matches a path when
        its own path equals it or lies under it), ``colour`` / ``colour_exclude`` (lists),
        ``size`` (list), ``price_min`` / ``price_max`` (explicit numbers; else the band's range over the
        catalogue when the parser resolved it), ``price_band`` ("low" / "mid" / "high"), ``currency``.
        """
        out: dict[str, Any] = {}
        for key, values in (
            ("brand", self.brands),
            ("category", self.categories),
            ("colour", self.colours),
            ("colour_exclude", self.colours_excluded),
            ("size", self.sizes),
        ):
            if values:
                out[key] = list(values)
        low, high = self.price_min, self.price_max
        if low is None and high is None and self.price_band_range is not None:
            low, high = self.price_band_range
        if low is not None:
            out["price_min"] = low
        if high is not None:
            out["price_max"] = high
        if self.price_band:
            out["price_band"] = self.price_band
        if self.currency and (self.price_min is not None or self.price_max is not None):
            out["currency"] = self.currency
        return out

    def chips(self) -> list[Chip]:
        """One removable chip per constraint, in a stable order (brand, category, colour, size, price)."""
        chips = [Chip("brand", b, f"Brand: {b}") for b in self.brands]
        chips += [
            Chip("category", c, f"Category: {c.rsplit(CATEGORY_SEPARATOR, 1)[-1]}") for c in self.categories
        ]
        chips += [Chip("colour", c, f"Colour: {c}") for c in self.colours]
        chips += [Chip("colour_exclude", c, f"Not {c}") for c in self.colours_excluded]
        chips += [Chip("size", s, f"Size: {s}") for s in self.sizes]
        low, high, cur = self.price_min, self.price_max, self.currency
        if low is not None and high is not None:
            chips.append(Chip("price", [low, high], f"{_money(low, cur)}–{_money(high, cur)}"))
        elif high is not None:
            chips.append(Chip("price_max", high, f"Under {_money(high, cur)}"))
        elif low is not None:
            chips.append(Chip("price_min", low, f"Over {_money(low, cur)}"))
        if self.price_band:
            label = {"low": "Low price", "mid": "Mid price", "high": "Premium"}.get(
                self.price_band, self.price_band
            )
            chips.append(Chip("price_band", self.price_band, label))
        return chips

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, with the filters and chips (for an API response)."""
        out = asdict(self)
        out["intent"] = str(self.intent)
        out["filters"] = self.filters()
        out["chips"] = [asdict(c) for c in self.chips()]
        return out
