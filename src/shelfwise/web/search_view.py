"""The search page's state in its URL, the chips, and the facet links.

The URL holds the query ``q``, explicit filters (``brand``, ``category``, ``colour``, ``colour_exclude``,
``size`` repeatable; ``price_min``, ``price_max``) and ``qf=0`` when the filters the parser reads from the text
are switched off. Removing a chip keeps the text (it still ranks the results) and turns the remaining
constraints into explicit filters with ``qf=0``, so exactly that one constraint goes away.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from fastapi import Request

from shelfwise.web import backend
from shelfwise.web.items import price_text
from shelfwise.web.pages import cards, catalog

__all__ = ["SearchState", "chip_label", "search_view"]

LIST_KEYS = ("brand", "category", "colour", "colour_exclude", "size")
PRICE_KEYS = ("price_min", "price_max")
PAGE_SIZE = 24


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text not in (None, "") else None
    except ValueError:
        return None


@dataclass(frozen=True)
class SearchState:
    """What the search URL says: the text, whether the text's filters apply, the explicit filters."""

    q: str
    query_filters: bool = True
    filters: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_params(cls, q: str, params: Any) -> SearchState:
        """From the request's query parameters."""
        filters: dict[str, Any] = {}
        for key in LIST_KEYS:
            values = [v for v in params.getlist(key) if v.strip()]
            if values:
                filters[key] = values
        for key in PRICE_KEYS:
            if (value := _number(params.get(key))) is not None:
                filters[key] = value
        return cls(q.strip(), params.get("qf", "1") != "0", filters)

    def url(self, request: Request, filters: Mapping[str, Any], query_filters: bool | None = None) -> str:
        """The search URL for this text with ``filters``."""
        qf = self.query_filters if query_filters is None else query_filters
        pairs: list[tuple[str, Any]] = [("q", self.q)] + ([] if qf else [("qf", "0")])
        for key in LIST_KEYS:
            pairs += [(key, v) for v in filters.get(key, [])]
        pairs += [(key, _plain(filters[key])) for key in PRICE_KEYS if filters.get(key) is not None]
        return f"{request.url_for('web_search').path}?{urlencode(pairs)}"


def _plain(value: float) -> str:
    return f"{value:g}"


_CHIP_FORMATS = {
    "brand": "Brand: {}",
    "category": "Category: {}",
    "colour": "Colour: {}",
    "colour_exclude": "Not {}",
    "size": "Size: {}",
    "price_max": "Under {}",
    "price_min": "Over {}",
}


def chip_label(field_name: str, value: Any, currency: str | None = None) -> str:
    """A chip's text for an explicit filter ("Brand: 3M", "Category: Tapes", "Under $15")."""
    if field_name in PRICE_KEYS:
        value = price_text(float(value), currency)
    elif field_name == "category":
        value = str(value).split(" > ")[-1]
    return _CHIP_FORMATS.get(field_name, field_name + ": {}").format(value)


def _effective(state: SearchState, parsed_filters: Mapping[str, Any]) -> dict[str, Any]:
    """The filters in force: the text's (when on) merged with the explicit ones (explicit prices win)."""
    out: dict[str, Any] = {}
    if state.query_filters:
        for key in LIST_KEYS:
            if parsed_filters.get(key):
                out[key] = list(parsed_filters[key])
        for key in PRICE_KEYS:
            if parsed_filters.get(key) is not None:
                out[key] = float(parsed_filters[key])
    for key in LIST_KEYS:
        for v in state.filters.get(key, []):
            if v.lower() not in {x.lower() for x in out.get(key, [])}:
                out.setdefault(key, []).append(v)
    for key in PRICE_KEYS:
        if key in state.filters:
            out[key] = state.filters[key]
    return out


def _without(filters: Mapping[str, Any], field_name: str, value: Any) -> dict[str, Any]:
    out = {k: (list(v) if isinstance(v, list) else v) for k, v in filters.items()}
    if field_name in LIST_KEYS:
        out[field_name] = [v for v in out.get(field_name, []) if str(v).lower() != str(value).lower()]
    elif field_name in ("price", "price_band"):
        out.pop("price_min", None)
        out.pop("price_max", None)
    else:
        out.pop(field_name, None)
    return out


def _chips(
    request: Request, state: SearchState, effective: dict[str, Any], parsed: Mapping[str, Any]
) -> list[dict[str, Any]]:
    currency = (parsed.get("filters") or {}).get("currency")
    chips: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    parsed_chips = parsed.get("chips", []) if state.query_filters else []
    for c in parsed_chips:
        chips.append({"field": c["field"], "value": c["value"], "label": c["label"]})
        for key in ("price_min", "price_max") if c["field"] in ("price", "price_band") else (c["field"],):
            seen.add((key, str(c["value"]).lower() if key in LIST_KEYS else key))
    for key in LIST_KEYS:
        for v in effective.get(key, []):
            if (key, str(v).lower()) not in seen:
                chips.append({"field": key, "value": v, "label": chip_label(key, v)})
    for key in PRICE_KEYS:
        if effective.get(key) is not None and (key, key) not in seen:
            chips.append(
                {"field": key, "value": effective[key], "label": chip_label(key, effective[key], currency)}
            )
    for chip in chips:
        chip["remove_url"] = state.url(request, _without(effective, chip["field"], chip["value"]), False)
    return chips


def _facets(
    request: Request, state: SearchState, facets: Mapping[str, Mapping[str, int]], effective: dict[str, Any]
) -> list[dict[str, Any]]:
    names = catalog(request).category_names()
    out = []
    for key, label in (("category", "Category"), ("brand", "Brand"), ("price", "Price")):
        values = []
        for value, count in (facets.get(key) or {}).items():
            if key == "price":
                low, _, high = value.rstrip("+").partition("-")
                add = {"price_min": float(low), **({"price_max": float(high)} if high else {})}
                selected = effective.get("price_min") == add["price_min"] and effective.get(
                    "price_max"
                ) == add.get("price_max")
                text = f"${low}–${high}" if high else f"${low} and up"
                new = {**state.filters, **add}
            else:
                full = names.get(value.lower(), value) if key == "category" else value
                selected = full.lower() in {v.lower() for v in effective.get(key, [])}
                text = full.split(" > ")[-1] if key == "category" else full
                new = {**state.filters, key: [*state.filters.get(key, []), full]}
            values.append(
                {"label": text, "count": count, "url": state.url(request, new), "selected": selected}
            )
        if values:
            out.append({"name": key, "label": label, "values": values})
    return out


def search_view(request: Request, state: SearchState, user_id: str | None) -> dict[str, Any]:
    """Run the search and shape everything the search page shows."""
    from shelfwise.search import SearchRequest

    req = SearchRequest(
        query=state.q,
        user_id=user_id,
        k=PAGE_SIZE,
        filters=dict(state.filters),
        use_query_filters=state.query_filters,
    )
    response, rid = backend.search(request.app.state, req)
    parsed = response.parsed or {}
    effective = _effective(state, parsed.get("filters") or {})
    rows = [(h.item_id, h.score, h.reason) for h in response.results]
    corrected = parsed.get("corrected")
    shown = len(rows)
    total = f"{response.total:,} products match" + (
        f"; showing the best {shown}" if response.total > shown else ""
    )
    return {
        "results": cards(request, rows, "search", rid),
        "chips": _chips(request, state, effective, parsed),
        "facets": _facets(request, state, response.facets or {}, effective),
        "relaxed": " ".join(response.relaxed) if response.relaxed else None,
        "total_text": total,
        "corrected": corrected if corrected and corrected != parsed.get("normalized") else None,
    }
