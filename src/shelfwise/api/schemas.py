"""Request and response schemas of the HTTP API (separate models per resource and direction)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt

from shelfwise.experiments.config import NAME_PATTERN, Variant

#: Unix seconds between 1970 and the year 3000 (anything else is a unit mistake, e.g. milliseconds).
UnixSeconds = Annotated[float, Field(ge=0, le=32_503_680_000)]


class _In(BaseModel):
    """A request body: unknown fields, NaN / infinity, and numbers or booleans sent as another JSON type (``"5"``,
    ``0`` for ``false``) are refused, so the route accepts exactly what the OpenAPI document allows."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class _Out(BaseModel):
    model_config = ConfigDict(extra="ignore")


# -- recommendations -------------------------------------------------------------------------------
class RecommendIn(_In):
    """Recommendations for a shopper and a slot."""

    user_id: str | None = Field(
        None, min_length=1, max_length=256, description="the shop's id of the shopper"
    )
    slot: Literal["home", "similar", "bought_together", "cart"] = "home"
    k: StrictInt = Field(10, ge=1, le=1000, description="how many items (at most api.max_k)")
    item_id: str | None = Field(
        None,
        min_length=1,
        max_length=256,
        description="the anchor item (needed by similar / bought_together)",
    )
    cart: list[str] = Field(default_factory=list, max_length=200, description="item ids in the cart")
    shown: list[str] = Field(default_factory=list, max_length=1000, description="already shown on the page")
    exclude: list[str] = Field(default_factory=list, max_length=1000, description="never return these")
    diversity: StrictFloat | None = Field(
        None, ge=0, le=1, description="0 = pure relevance .. 1 = most diverse"
    )
    method: str | None = Field(
        None, pattern=r"^[A-Za-z0-9_.-]{1,64}$", description="a named recommender method"
    )
    fairness: StrictFloat | None = Field(
        None,
        ge=0,
        le=1,
        description="brand fair exposure: 0 = relevance order .. 1 = exposure by merit (default rerank.fairness)",
    )


class ItemOut(_Out):
    """One recommended item with where it came from and why."""

    item_id: str
    score: float
    reason: str = Field(description="a plain-language explanation")
    sources: list[str] = Field(default_factory=list)
    breakdown: dict[str, Any] = Field(default_factory=dict)
    title: str | None = None
    brand: str | None = None
    category: str | None = None
    price: float | None = None


class RecommendOut(_Out):
    """A recommendation list."""

    request_id: str = Field(description="send it back with events from this list (attribution)")
    user_id: str | None
    slot: str
    model: str | None = None
    version: str | None = None
    fallback: str | None = Field(None, description="set when a fallback answered (e.g. popular)")
    arm: str | None = Field(None, description="experiment:arm when an experiment applied")
    cached: bool = False
    personalised: bool = Field(False, description="whether the shopper's history and profile were used")
    personalisation_note: str | None = Field(None, description="why not, when the shopper's consent says no")
    items: list[ItemOut]


# -- search ----------------------------------------------------------------------------------------
class SearchIn(_In):
    """A product search."""

    query: str = Field(max_length=512)
    user_id: str | None = Field(None, min_length=1, max_length=256)
    k: StrictInt = Field(10, ge=1, le=1000, description="how many results (at most api.max_k)")
    offset: StrictInt = Field(0, ge=0, le=10_000)
    filters: dict[str, Any] = Field(
        default_factory=dict,
        description='hard filters the shopper chose (chips, facets), e.g. {"brand": "x", "price_max": 20}',
    )
    personalise: StrictBool = True
    sort: Literal["relevance", "price_asc", "price_desc", "rating", "newest"] = Field(
        "relevance", description="order of the confident matches"
    )


class HitOut(_Out):
    """One search result."""

    item_id: str
    title: str | None = None
    score: float
    reason: str = ""
    breakdown: dict[str, Any] = Field(default_factory=dict)
    brand: str | None = None
    category: str | None = None
    price: float | None = None
    highlights: list[list[int]] = Field(default_factory=list, description="[start, end) title spans matched")


class SearchOut(_Out):
    """Search results with what the query was understood as."""

    request_id: str
    query: str
    total: int = 0
    parsed: Any = None
    facets: Any = None
    relaxed: Any = None
    arm: str | None = None
    cached: bool = False
    personalised: bool = Field(False, description="whether the shopper's history and profile were used")
    personalisation_note: str | None = Field(None, description="why not, when the shopper's consent says no")
    results: list[HitOut]
    more_results: list[HitOut] = Field(default_factory=list, description="weaker matches, their own heading")
    more_total: int = 0
    did_you_mean: str | None = None
    redirect: str | None = None
    offset: int = 0
    sort: str = "relevance"


class SuggestOut(_Out):
    """Autocomplete suggestions: words / past queries, and products."""

    prefix: str
    suggestions: list[Any]
    products: list[Any] = Field(default_factory=list, description="item_id, title, price, brand")


class SearchRulesIn(_In):
    """The shop's search rules (replaces the stored ones whole)."""

    synonyms: dict[str, list[str]] = Field(
        default_factory=dict, description='word -> alternatives it also matches, e.g. {"sellotape": ["tape"]}'
    )
    redirects: dict[str, str] = Field(
        default_factory=dict, description='query -> URL, e.g. {"gift card": "/gift"}'
    )


# -- events and catalogue --------------------------------------------------------------------------
class EventIn(_In):
    """One interaction. ``request_id`` (from a recommend / search response) attributes it to that list."""

    event_id: str | None = Field(None, min_length=1, max_length=128, description="idempotency key")
    user_id: str = Field(min_length=1, max_length=256)
    item_id: str | None = Field(None, min_length=1, max_length=256)
    type: str = Field(min_length=1, max_length=32, description="view, click, add_to_cart, purchase, ...")
    value: StrictFloat | None = Field(None, ge=-1e9, le=1e9, description="rating, quantity or price paid")
    query: str | None = Field(None, max_length=512)
    timestamp: datetime | UnixSeconds | None = Field(
        None, description="ISO 8601 or Unix seconds (default: now)"
    )
    session_id: str | None = Field(None, max_length=128)
    request_id: str | None = Field(None, max_length=128)


class EventsIn(_In):
    """A batch of events."""

    events: list[EventIn] = Field(min_length=1, max_length=10_000)


class IngestOut(_Out):
    """What a batch changed; rejected rows come back with their row number (1-based) and reason."""

    received: int
    accepted: int
    duplicates: int
    quarantined: int
    problems: list[dict[str, Any]] = Field(default_factory=list)
    users: int = 0
    cache_entries_dropped: int = 0
    not_recorded: int = Field(0, description="events of shoppers whose consent allows no use of them")


class ItemIn(_In):
    """A catalogue row (insert or replace by ``item_id``)."""

    item_id: str = Field(min_length=1, max_length=256)
    title: str | None = Field(None, max_length=2000)
    description: str | None = Field(None, max_length=20_000)
    category: str | None = Field(None, max_length=1000, description="a path: 'Beauty > Makeup > Nails'")
    brand: str | None = Field(None, max_length=256)
    price: StrictFloat | None = Field(None, ge=0, le=1e9)
    currency: str | None = Field(None, min_length=3, max_length=3)
    attributes: dict[str, Any] | None = None
    image: str | None = Field(None, max_length=2000)
    available: StrictBool = True


class ItemsIn(_In):
    """A batch of catalogue rows."""

    items: list[ItemIn] = Field(min_length=1, max_length=10_000)


class DeleteItemsIn(_In):
    """Items to take out of the catalogue."""

    item_ids: list[str] = Field(min_length=1, max_length=10_000)


class DeleteItemsOut(_Out):
    """What was deleted."""

    deleted: list[str]
    unknown: list[str]


class ConsentIn(_In):
    """A shopper's consent flags; a flag left out keeps its recorded value (or the default)."""

    personalisation: bool | None = Field(None, description="personalised recommendations and search")
    analytics: bool | None = Field(None, description="counted in dashboard and experiment analytics")
    training: bool | None = Field(None, description="learned from by models and aggregates")


class ConsentOut(_Out):
    """A shopper's consent as recorded, and as it applies (the record over ``privacy.default_consent``)."""

    user_id: str
    recorded: dict[str, bool]
    effective: dict[str, bool]
    consent_seq: int = Field(
        description="the store's consent log entry: other workers apply it at their next tick"
    )


class UserDeletedOut(_Out):
    """The deletion receipt: what deleting a shopper removed, from where, when (``shelfwise.forget``)."""

    deleted: bool
    removed: dict[str, int]
    receipt_id: str
    user_id: str
    user_digest: str
    requested_at: str
    completed_at: str
    store: dict[str, Any]
    erasure: dict[str, Any]
    artifacts: dict[str, Any]
    online_state: dict[str, Any]
    logs: str


# -- experiments -----------------------------------------------------------------------------------
class ExperimentIn(_In):
    """A new experiment: named variants with traffic shares (adding up to 1)."""

    name: str = Field(pattern=NAME_PATTERN)
    surface: Literal["recommend", "search"] = "recommend"
    slots: list[Literal["home", "similar", "bought_together", "cart"]] = Field(default_factory=list)
    variants: list[Variant] = Field(min_length=2, max_length=10)
    salt: str = Field("", max_length=64)


class ExperimentOut(_Out):
    """An experiment definition."""

    name: str
    surface: str
    slots: list[str]
    variants: list[Variant]
    salt: str
    status: str
    created_at: float


# -- keys ------------------------------------------------------------------------------------------
class KeyIn(_In):
    """A new API key."""

    name: str = Field(min_length=1, max_length=64)
    scopes: list[Literal["read", "events", "admin"]] = Field(min_length=1, max_length=3)
    rate_per_second: StrictFloat | None = Field(None, ge=0, le=100_000, description="0 = unlimited")


class KeyOut(_Out):
    """A key's public record."""

    key_id: str
    name: str
    scopes: list[str]
    created_at: float
    rate_per_second: float | None = None


class KeyCreatedOut(KeyOut):
    """A new key: the key itself is shown only in this response."""

    key: str


class HealthOut(_Out):
    """Liveness / readiness."""

    status: str
    components: dict[str, str] = Field(default_factory=dict)
    versions: dict[str, Any] | None = Field(
        None, description="artifact versions served (they change without a restart when new ones are trained)"
    )


#: Request bodies whose ``k`` is capped by ``api.max_k`` (the route checks it; the document says it).
CAPPED_K = ("RecommendIn", "SearchIn")


def limit_openapi(app: Any, max_k: int) -> None:
    """Make ``app``'s OpenAPI document state the configured ``k`` cap (``api.max_k``) the routes enforce."""
    base = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = base()
            for name in CAPPED_K:
                prop = (
                    doc.get("components", {}).get("schemas", {}).get(name, {}).get("properties", {}).get("k")
                )
                if prop is not None:
                    prop["maximum"] = min(int(prop.get("maximum", max_k)), max_k)
            app.openapi_schema = doc
        return app.openapi_schema

    app.openapi = openapi
