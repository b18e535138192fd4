"""The search page's state in its URL, the chips, and the facet links.

The URL holds the query ``q``, explicit filters (``brand``, ``category``, ``colour``, ``colour_exclude``,
``size`` repeatable; ``price_min``, ``price_max``), ``sort`` and ``page``, and ``qf=0`` when what the parser
reads from the text is switched off. Constraints read from the text are shown as chips with how sure the
reading is; only an explicit price limit filters, the others rank. Removing a chip keeps the text (it still ranks the results) and turns the remaining
constraints into explicit filters with ``qf=0``, so exactly that one constraint goes away.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from markupsafe import Markup, escape

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
    sort: str = "relevance"
    page: int = 1

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
        from shelfwise.search.types import SORTS

        sort = params.get("sort", "relevance")
        page = _number(params.get("page")) or 1
        return cls(
            q.strip(),
            params.get("qf", "1") != "0",
            filters,
            sort if sort in SORTS else "relevance",
            max(1, min(int(page), 400)),
        )

    def url(
        self,
        request: Request,
        filters: Mapping[str, Any],
        query_filters: bool | None = None,
        *,
        sort: str | None = None,
        page: int = 1,
    ) -> str:
        """The search URL for this text with ``filters`` (first page unless ``page``; this sort unless
        ``sort``)."""
        qf = self.query_filters if query_filters is None else query_filters
        pairs: list[tuple[str, Any]] = [("q", self.q)] + ([] if qf else [("qf", "0")])
        for key in LIST_KEYS:
            pairs += [(key, v) for v in filters.get(key, [])]
        pairs += [(key, _plain(filters[key])) for key in PRICE_KEYS if filters.get(key) is not None]
        order = self.sort if sort is None else sort
        pairs += [("sort", order)] if order != "relevance" else []
        pairs += [("page", page)] if page > 1 else []
        return f"{request.url_for('web_search').path}?{urlencode(pairs)}"


def marked(title: str, spans: list[list[int]]) -> Markup:
    """The title, escaped, with the matched spans in ``<mark>``."""
    out, last = [], 0
    for start, end in sorted(spans):
        if start < last:
            continue
        out += [str(escape(title[last:start])), f"<mark>{escape(title[start:end])}</mark>"]
        last = end
    out.append(str(escape(title[last:])))
    return Markup("".join(out))


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
    """The filters in force: the text's hard ones (when on; ``parsed_filters`` = the response's applied
    filters) merged with the explicit ones (explicit prices win)."""
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
    sure = {(c["field"], str(c["value"]).lower()): c for c in parsed.get("constraints", [])}
    for c in parsed_chips:
        reading = sure.get((c["field"], str(c["value"]).lower()))
        if reading is None and c["field"] in (*PRICE_KEYS, "price"):
            reading = next((r for r in parsed.get("constraints", []) if r["field"] == "price"), None)
        label = c["label"]
        if reading is not None:
            how = "filter" if reading["use"] == "filter" else "ranks first"
            label = f"{label} ({round(100 * reading['confidence'])}% sure, {how})"
        chips.append({"field": c["field"], "value": c["value"], "label": label})
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

    offset = (state.page - 1) * PAGE_SIZE
    req = SearchRequest(
        query=state.q,
        user_id=user_id,
        k=PAGE_SIZE,
        offset=offset,
        filters=dict(state.filters),
        use_query_filters=state.query_filters,
        sort=state.sort,
    )
    response, rid = backend.search(request.app.state, req)
    parsed = response.parsed or {}
    effective = _effective(state, getattr(response, "applied_filters", None) or {})
    total = response.total
    shown = len(response.results)
    if total and shown:
        text = f"{total:,} products match; showing {offset + 1}-{offset + shown}"
    else:
        text = f"{total:,} products match"
    more = list(getattr(response, "more_results", []))
    pages = []
    last = max(1, -(-(total + getattr(response, "more_total", 0)) // PAGE_SIZE))
    if state.page > 1:
        pages.append({"label": "Previous", "url": state.url(request, state.filters, page=state.page - 1)})
    if state.page < last:
        pages.append({"label": "Next", "url": state.url(request, state.filters, page=state.page + 1)})
    sorts = [
        {"label": label, "url": state.url(request, state.filters, sort=key), "selected": key == state.sort}
        for key, label in _SORT_LABELS.items()
    ]
    return {
        "results": _cards(request, response.results, rid),
        "more_results": _cards(request, more, rid),
        "chips": _chips(request, state, effective, parsed),
        "facets": _facets(request, state, response.facets or {}, effective),
        "relaxed": " ".join(response.relaxed) if response.relaxed else None,
        "total_text": text,
        "corrected": getattr(response, "did_you_mean", None),
        "pages": pages,
        "sorts": sorts,
    }


_SORT_LABELS = {
    "relevance": "Best match",
    "price_asc": "Price: low to high",
    "price_desc": "Price: high to low",
    "rating": "Rating",
    "newest": "Newest",
}


def _cards(request: Request, hits: list[Any], rid: str | None) -> list[dict[str, Any]]:
    """Cards of search hits, titles with the matched words marked."""
    out = cards(request, [(h.item_id, h.score, h.reason) for h in hits], "search", rid)
    spans = {h.item_id: getattr(h, "highlights", []) for h in hits}
    for card in out:
        if spans.get(card["item_id"]):
            card["title_html"] = marked(str(card["title"]), spans[card["item_id"]])
    return out
