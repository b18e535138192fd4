"""Per-kind normalised columns and validation rules (SQL), built from the columns a source has.

:func:`plan_for` returns a :class:`KindPlan`: the SQL expression of every output column, the rules, the id
column used for de-duplication and whether the last or the first duplicate wins.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from shelfwise.config import IngestSettings
from shelfwise.data.schema import (
    EVENT_COLUMNS,
    ITEM_COLUMNS,
    JUDGEMENT_COLUMNS,
    USER_COLUMNS,
    EventType,
)
from shelfwise.data.validation import (
    ColumnSet,
    Rule,
    available_expr,
    category_expr,
    event_type_expr,
    json_object_expr,
    lit,
    time_range_rules,
)

CANONICAL: dict[str, tuple[str, ...]] = {
    "events": EVENT_COLUMNS,
    "items": ITEM_COLUMNS,
    "users": USER_COLUMNS,
    "judgements": (*JUDGEMENT_COLUMNS, "judgement_id"),
}

REQUIRED: dict[str, tuple[tuple[str, ...], ...]] = {
    # each inner tuple: at least one of these columns must be present in the file
    "events": (("user_id",), ("item_id", "query"), ("type",), ("timestamp",)),
    "items": (("item_id",),),
    "users": (("user_id",),),
    "judgements": (("query",), ("relevance",), ("item_id", "title")),
}


@dataclass
class KindPlan:
    """How to turn staged rows of one kind into store rows."""

    kind: str
    columns: dict[str, str]  # output column -> SQL expression over the staged table
    rules: list[Rule]
    id_column: str
    keep_last: bool  # on duplicate ids within a batch: the last row wins (items, users) or the first (events)
    ignored: list[str] = field(default_factory=list)  # source columns not used


def missing_required(kind: str, present: set[str]) -> list[str]:
    """Descriptions of required columns the source lacks (``"timestamp"`` or ``"item_id or query"``)."""
    return [" or ".join(group) for group in REQUIRED[kind] if not any(c in present for c in group)]


def _events(cols: ColumnSet, settings: IngestSettings) -> KindPlan:
    user, item, query = cols.raw("user_id"), cols.raw("item_id"), cols.raw("query")
    raw_type = cols.raw("type")
    etype = event_type_expr(raw_type)
    ts = cols.timestamp("timestamp")
    value = cols.number("value")
    raw_value = cols.raw("value")
    expected = ", ".join(t.value for t in EventType)
    rules = [
        Rule(f"{user} IS NULL", "'missing user_id'"),
        Rule(f"{raw_type} IS NULL", "'missing type'"),
        Rule(
            f"{raw_type} IS NOT NULL AND {etype} IS NULL",
            f"'unknown event type \"' || {raw_type} || '\" (expected one of {expected})'",
        ),
        Rule(
            f"{item} IS NULL AND coalesce({etype}, '') <> 'search'",
            "'missing item_id (only search events may omit it)'",
        ),
        Rule(f"{etype} = 'search' AND {query} IS NULL", "'search event without query text'"),
        Rule(f"{cols.raw('timestamp')} IS NULL", "'missing timestamp'"),
        Rule(
            f"{cols.raw('timestamp')} IS NOT NULL AND {ts} IS NULL",
            f"'bad timestamp \"' || {cols.raw('timestamp')} || '\" (expected ISO 8601 or Unix seconds)'",
        ),
        *time_range_rules(ts, "timestamp", settings),
        Rule(
            f"{raw_value} IS NOT NULL AND {value} IS NULL",
            f"'value \"' || {raw_value} || '\" is not a number'",
        ),
        Rule(f"{value} IS NOT NULL AND NOT isfinite({value})", "'value is not finite'"),
    ]
    columns = {
        "event_id": cols.raw("event_id"),
        "user_id": user,
        "item_id": item,
        "type": etype,
        "value": value,
        "query": query,
        "timestamp": ts,
        "session_id": cols.raw("session_id"),
        "request_id": cols.raw("request_id"),
    }
    ignored = [c for c in cols.types if c not in EVENT_COLUMNS]
    return KindPlan("events", columns, rules, "event_id", keep_last=False, ignored=ignored)


def _items(cols: ColumnSet, settings: IngestSettings) -> KindPlan:
    price, raw_price = cols.number("price"), cols.raw("price")
    currency_raw = f"upper({cols.raw('currency')})"
    available, bad_available = available_expr(cols.raw("available"))
    extras = [c for c in cols.types if c not in ITEM_COLUMNS]
    attributes, bad_attributes = json_object_expr(cols, "attributes", extras)
    updated = cols.timestamp("updated_at")
    rules = [
        Rule(f"{cols.raw('item_id')} IS NULL", "'missing item_id'"),
        Rule(
            f"{raw_price} IS NOT NULL AND {price} IS NULL",
            f"'price \"' || {raw_price} || '\" is not a number'",
        ),
        Rule(f"{price} < 0", f"'negative price ' || CAST({price} AS VARCHAR)"),
        Rule(f"{price} IS NOT NULL AND NOT isfinite({price})", "'price is not finite'"),
        Rule(
            f"{currency_raw} IS NOT NULL AND NOT regexp_full_match({currency_raw}, '[A-Z]{{3}}')",
            f"'bad currency \"' || {cols.raw('currency')} || '\" (expected a 3-letter ISO 4217 code)'",
        ),
        Rule(
            bad_available,
            f"'bad availability \"' || {cols.raw('available')} || '\" (expected true/false, in_stock/out_of_stock)'",
        ),
        Rule(bad_attributes, "'attributes is not a JSON object'"),
        Rule(
            f"{cols.raw('updated_at')} IS NOT NULL AND {updated} IS NULL",
            f"'bad updated_at \"' || {cols.raw('updated_at')} || '\"'",
        ),
    ]
    columns = {
        "item_id": cols.raw("item_id"),
        "title": cols.raw("title"),
        "description": cols.raw("description"),
        "category": category_expr(cols.raw("category")),
        "brand": cols.raw("brand"),
        "price": price,
        "currency": f"CASE WHEN {currency_raw} IS NOT NULL THEN {currency_raw} "
        f"WHEN {price} IS NOT NULL THEN {lit(settings.default_currency.upper())} END",
        "attributes": attributes,
        "image": cols.raw("image"),
        "available": available,
        "updated_at": f"coalesce({updated}, now())",
    }
    return KindPlan("items", columns, rules, "item_id", keep_last=True)


def _users(cols: ColumnSet, settings: IngestSettings) -> KindPlan:
    extras = [c for c in cols.types if c not in USER_COLUMNS]
    attributes, bad_attributes = json_object_expr(cols, "attributes", extras)
    consent, bad_consent = json_object_expr(cols, "consent", [])
    rules = [
        Rule(f"{cols.raw('user_id')} IS NULL", "'missing user_id'"),
        Rule(bad_attributes, "'attributes is not a JSON object'"),
        Rule(bad_consent, "'consent is not a JSON object of flags'"),
    ]
    columns = {"user_id": cols.raw("user_id"), "attributes": attributes, "consent": consent}
    return KindPlan("users", columns, rules, "user_id", keep_last=True)


def _judgements(cols: ColumnSet, settings: IngestSettings) -> KindPlan:
    rel, raw_rel = cols.number("relevance"), cols.raw("relevance")
    title, desc = cols.raw("title"), cols.raw("description")
    derived = f"substr(md5(coalesce({title}, '') || chr(31) || coalesce({desc}, '')), 1, 16)"
    item = f"coalesce({cols.raw('item_id')}, CASE WHEN {title} IS NOT NULL THEN {derived} END)"
    rules = [
        Rule(f"{cols.raw('query')} IS NULL", "'missing query'"),
        Rule(f"{raw_rel} IS NULL", "'missing relevance'"),
        Rule(
            f"{raw_rel} IS NOT NULL AND ({rel} IS NULL OR NOT isfinite({rel}))",
            f"'relevance \"' || {raw_rel} || '\" is not a number'",
        ),
        Rule(f"{item} IS NULL", "'missing item_id (or a title to derive it from)'"),
    ]
    columns = {
        "judgement_id": cols.raw("judgement_id"),
        "query": cols.raw("query"),
        "item_id": item,
        "relevance": rel,
        "title": title,
        "description": desc,
    }
    return KindPlan("judgements", columns, rules, "judgement_id", keep_last=False)


_BUILDERS = {"events": _events, "items": _items, "users": _users, "judgements": _judgements}


def plan_for(kind: str, cols: ColumnSet, settings: IngestSettings) -> KindPlan:
    """The plan of one record kind for a source with these columns."""
    try:
        return _BUILDERS[kind](cols, settings)
    except KeyError:
        raise ValueError(f"unknown record kind {kind!r}; expected one of {', '.join(_BUILDERS)}") from None
