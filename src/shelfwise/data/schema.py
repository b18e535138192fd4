"""The shelfwise data model: items, users, interactions (events), impressions and search judgements.

Every record kind has one canonical set of column names, used by files a shop brings, by the dataset
loaders and by the store. The Arrow schemas below are what the store holds after validation.

Event types::

    view, click, add_to_cart, purchase, rating, review, search, favorite

``favorite`` (a wishlist add) is not in the minimal list of the design sketch but real logs carry it
(Taobao's ``fav``), and dropping it would lose a strong intent signal. Aliases found in public logs are
mapped on ingestion (see :data:`EVENT_TYPE_ALIASES`).

Example:
    >>> EventType.parse("pv")
    <EventType.VIEW: 'view'>
    >>> EVENT_COLUMNS[:3]
    ('event_id', 'user_id', 'item_id')
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Final

import pyarrow as pa


class EventType(enum.StrEnum):
    """What a shopper did. The value is the canonical lower-case name stored in the event log."""

    VIEW = "view"
    CLICK = "click"
    ADD_TO_CART = "add_to_cart"
    PURCHASE = "purchase"
    RATING = "rating"
    REVIEW = "review"
    SEARCH = "search"
    FAVORITE = "favorite"

    @classmethod
    def parse(cls, raw: str) -> EventType:
        """Map a raw event-type string (any case, common aliases) to an :class:`EventType`.

        Raises:
            ValueError: if the name is not a known type or alias; the message lists the accepted names.
        """
        key = raw.strip().lower().replace("-", "_").replace(" ", "_")
        key = EVENT_TYPE_ALIASES.get(key, key)
        try:
            return cls(key)
        except ValueError:
            raise ValueError(
                f"unknown event type {raw!r}; expected one of {', '.join(t.value for t in cls)}"
            ) from None


#: Aliases seen in public event logs, mapped to canonical names (keys are lower-case, ``_`` for separators).
EVENT_TYPE_ALIASES: Final[dict[str, str]] = {
    "pv": "view",
    "page_view": "view",
    "pageview": "view",
    "detail_view": "view",
    "cart": "add_to_cart",
    "addtocart": "add_to_cart",
    "add_cart": "add_to_cart",
    "buy": "purchase",
    "order": "purchase",
    "transaction": "purchase",
    "fav": "favorite",
    "favourite": "favorite",
    "wishlist": "favorite",
    "rate": "rating",
}

#: Default weight of each event type as an implicit-feedback signal (a purchase says more than a view).
EVENT_WEIGHTS: Final[dict[str, float]] = {
    "view": 1.0,
    "click": 1.0,
    "search": 0.5,
    "favorite": 2.0,
    "add_to_cart": 3.0,
    "rating": 3.0,
    "review": 3.0,
    "purchase": 5.0,
}

EVENT_COLUMNS: Final[tuple[str, ...]] = (
    "event_id",
    "user_id",
    "item_id",
    "type",
    "value",
    "query",
    "timestamp",
    "session_id",
    "request_id",
)
ITEM_COLUMNS: Final[tuple[str, ...]] = (
    "item_id",
    "title",
    "description",
    "category",
    "brand",
    "price",
    "currency",
    "attributes",
    "image",
    "available",
    "updated_at",
)
USER_COLUMNS: Final[tuple[str, ...]] = ("user_id", "attributes", "consent")
JUDGEMENT_COLUMNS: Final[tuple[str, ...]] = ("query", "item_id", "title", "description", "relevance")
IMPRESSION_COLUMNS: Final[tuple[str, ...]] = (
    "request_id",
    "user_id",
    "timestamp",
    "context",
    "item_ids",
    "scores",
    "arm",
)

#: Record kinds a user can ingest from files, and the columns each must have.
REQUIRED_COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    "events": ("user_id", "item_id", "type", "timestamp"),
    "items": ("item_id",),
    "users": ("user_id",),
    "judgements": ("query", "relevance"),
    "sequences": ("user_id", "items"),
}

#: Separator of levels in a normalised category path ("Beauty > Makeup > Nails").
CATEGORY_SEPARATOR: Final[str] = " > "

TS = pa.timestamp("us", tz="UTC")

EVENT_SCHEMA: Final[pa.Schema] = pa.schema(
    [
        pa.field("event_id", pa.string(), nullable=False),
        pa.field("user_id", pa.string(), nullable=False),
        pa.field("item_id", pa.string()),  # null for a search event without a clicked item
        pa.field("type", pa.string(), nullable=False),
        pa.field("value", pa.float64()),
        pa.field("query", pa.string()),
        pa.field("timestamp", TS, nullable=False),
        pa.field("session_id", pa.string()),
        pa.field("request_id", pa.string()),
        pa.field("seq", pa.int64(), nullable=False),  # global ingestion order: the tie-break of equal times
    ]
)
ITEM_SCHEMA: Final[pa.Schema] = pa.schema(
    [
        pa.field("item_id", pa.string(), nullable=False),
        pa.field("title", pa.string()),
        pa.field("description", pa.string()),
        pa.field("category", pa.string()),  # normalised path joined by CATEGORY_SEPARATOR
        pa.field("brand", pa.string()),
        pa.field("price", pa.float64()),
        pa.field("currency", pa.string()),
        pa.field("attributes", pa.string()),  # JSON object
        pa.field("image", pa.string()),
        pa.field("available", pa.bool_(), nullable=False),
        pa.field("updated_at", TS),
    ]
)
USER_SCHEMA: Final[pa.Schema] = pa.schema(
    [
        pa.field("user_id", pa.string(), nullable=False),
        pa.field("attributes", pa.string()),  # JSON object
        pa.field("consent", pa.string()),  # JSON object of flags, e.g. {"personalisation": true}
    ]
)
JUDGEMENT_SCHEMA: Final[pa.Schema] = pa.schema(
    [
        pa.field("query", pa.string(), nullable=False),
        pa.field("item_id", pa.string(), nullable=False),
        pa.field("relevance", pa.float64(), nullable=False),
    ]
)
IMPRESSION_SCHEMA: Final[pa.Schema] = pa.schema(
    [
        pa.field("request_id", pa.string(), nullable=False),
        pa.field("user_id", pa.string()),
        pa.field("timestamp", TS, nullable=False),
        pa.field("context", pa.string()),  # JSON: slot, query, page ...
        pa.field("item_ids", pa.list_(pa.string()), nullable=False),  # position = index + 1
        pa.field("scores", pa.list_(pa.float64())),
        pa.field("arm", pa.string()),
    ]
)
SPLIT_SCHEMA: Final[pa.Schema] = pa.schema(
    [
        pa.field("name", pa.string(), nullable=False),  # e.g. "given"
        pa.field("event_id", pa.string(), nullable=False),
        pa.field("part", pa.string(), nullable=False),  # train | valid | test
    ]
)


@dataclass(frozen=True)
class Item:
    """One product of the catalogue. ``category`` is a path ("Beauty > Makeup > Nails")."""

    item_id: str
    title: str | None = None
    description: str | None = None
    category: str | None = None
    brand: str | None = None
    price: float | None = None
    currency: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    image: str | None = None
    available: bool = True


@dataclass(frozen=True)
class Interaction:
    """One shopper event. ``request_id`` points back to the impression it came from, when it did."""

    event_id: str
    user_id: str
    item_id: str | None
    type: EventType
    timestamp: float  # Unix seconds, UTC
    value: float | None = None
    query: str | None = None
    session_id: str | None = None
    request_id: str | None = None


@dataclass(frozen=True)
class Impression:
    """A list shown to a shopper: what, in which order, with which scores, under which experiment arm."""

    request_id: str
    user_id: str | None
    timestamp: float
    item_ids: tuple[str, ...]
    scores: tuple[float, ...] = ()
    context: dict[str, Any] = field(default_factory=dict)
    arm: str | None = None


@dataclass(frozen=True)
class Dataset:
    """What a dataset loader hands to ingestion: canonical-column tables, any of them absent.

    ``splits`` maps a split name (e.g. ``"given"``) to a table of (event_id, part); ``metadata`` carries
    facts about the source (e.g. that timestamps are synthetic order keys) into the store.
    """

    name: str
    items: pa.Table | None = None
    users: pa.Table | None = None
    events: pa.Table | None = None
    judgements: pa.Table | None = None
    splits: dict[str, pa.Table] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
