"""Row validation and normalisation, as SQL over a staged table (vectorised: millions of rows a second).

Each record kind has a list of rules; a rule is a SQL condition that is true when the row is wrong, and
the reason it gives. A row's reasons are all the rules it breaks, joined by ``; `` — so a quarantined row
says everything that needs fixing at once. Normalised columns are built from whatever the source has:
text, numbers or native timestamps.

Normalisation (documented for users in the README):

- ids, titles, text: trimmed; empty means missing.
- ``type``: case-insensitive, aliases mapped (``pv`` -> ``view``, ``buy`` -> ``purchase``, ...).
- ``timestamp``: ISO 8601 (with or without offset; no offset means UTC) or Unix seconds; integers of
  1e11 and more are taken as Unix milliseconds. Stored as UTC.
- ``price``: a non-negative number; ``currency``: 3-letter ISO code, upper-cased, the configured default
  when a price has none.
- ``category``: a path; levels split on ``>``, ``|``, ``»`` or `` / `` and re-joined with `` > ``.
- ``available``: true/false, 1/0, yes/no, in_stock/out_of_stock; missing means available.
- ``attributes``: a JSON object; an item or user file's extra columns are folded into it.

Checks beyond the per-kind rules of :mod:`shelfwise.data.rules` (applied by ingestion to every kind):

- a field longer than ``ingest.max_field_bytes`` (2 MiB, DuckDB's CSV line limit) quarantines its row with
  the field's name and size only; the rest of the file loads;
- ids longer than ``ingest.max_id_length`` (256, the API's cap) are quarantined;
- in JSON Lines an id must be a string; an integer is taken as its decimal text (what a CSV holds), while
  a float, boolean, object or array is quarantined rather than stringified;
- event values per type (:func:`event_value_rules`).
"""

from __future__ import annotations

from dataclasses import dataclass

from shelfwise.config import IngestSettings
from shelfwise.data.schema import EVENT_TYPE_ALIASES, EventType

_TEXT_TYPES = ("VARCHAR", "BLOB", "JSON")
_TIME_TYPES = ("TIMESTAMP", "DATE")


def q(name: str) -> str:
    """Quote an identifier."""
    return '"' + name.replace('"', '""') + '"'


def lit(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True)
class Rule:
    """A validation rule: ``condition`` (SQL, true when the row is wrong) and ``reason`` (SQL text expr)."""

    condition: str
    reason: str


class ColumnSet:
    """The staged table's columns and their DuckDB types, with helpers to build normalising expressions."""

    def __init__(self, types: dict[str, str]) -> None:
        self.types = types

    def has(self, name: str) -> bool:
        return name in self.types

    def is_text(self, name: str) -> bool:
        return self.types.get(name, "VARCHAR").upper().startswith(_TEXT_TYPES)

    def raw(self, name: str) -> str:
        """The raw value as trimmed text, NULL when absent or empty."""
        if not self.has(name):
            return "NULL::VARCHAR"
        return f"NULLIF(trim(CAST({q(name)} AS VARCHAR)), '')"

    def number(self, name: str) -> str:
        """The value as DOUBLE; NULL when absent, empty or not a number."""
        if not self.has(name):
            return "NULL::DOUBLE"
        if self.is_text(name):
            return f"TRY_CAST({self.raw(name)} AS DOUBLE)"
        return f"TRY_CAST({q(name)} AS DOUBLE)"

    def timestamp(self, name: str) -> str:
        """The value as TIMESTAMPTZ (see module docstring); NULL when absent or unparseable."""
        if not self.has(name):
            return "NULL::TIMESTAMPTZ"
        col_type = self.types[name].upper()
        if col_type.startswith(_TIME_TYPES):
            return f"CAST({q(name)} AS TIMESTAMPTZ)"
        num = self.number(name)
        from_number = f"try(to_timestamp(CASE WHEN abs({num}) >= 1e11 THEN {num} / 1000.0 ELSE {num} END))"
        if not self.is_text(name):
            return from_number
        raw = self.raw(name)
        return (
            f"CASE WHEN regexp_full_match({raw}, '-?[0-9]+(\\.[0-9]+)?') THEN {from_number} "
            f"ELSE TRY_CAST({raw} AS TIMESTAMPTZ) END"
        )


def event_type_expr(raw: str) -> str:
    """SQL mapping a raw type string to its canonical name, NULL when unknown."""
    key = f"replace(replace(lower({raw}), '-', '_'), ' ', '_')"
    whens = " ".join(f"WHEN {lit(a)} THEN {lit(t)}" for a, t in EVENT_TYPE_ALIASES.items())
    known = ", ".join(lit(t.value) for t in EventType)
    return f"CASE {key} {whens} ELSE (CASE WHEN {key} IN ({known}) THEN {key} END) END"


def category_expr(raw: str) -> str:
    """SQL normalising a category path (see module docstring)."""
    parts = f"list_filter(list_transform(string_split_regex({raw}, '\\s*(>|\\||»| / )\\s*'), lambda x: trim(x)), lambda x: x <> '')"
    return f"CASE WHEN {raw} IS NULL THEN NULL ELSE NULLIF(array_to_string({parts}, ' > '), '') END"


def available_expr(raw: str) -> tuple[str, str]:
    """(normalised BOOLEAN, condition true when the value is not understood)."""
    low = f"lower({raw})"
    yes = "('true','1','yes','y','t','in_stock','instock','in stock','available')"
    no = "('false','0','no','n','f','out_of_stock','outofstock','out of stock','unavailable','sold_out')"
    value = (
        f"CASE WHEN {raw} IS NULL THEN true WHEN {low} IN {yes} THEN true WHEN {low} IN {no} THEN false END"
    )
    bad = f"({raw} IS NOT NULL AND {low} NOT IN {yes} AND {low} NOT IN {no})"
    return value, bad


def json_object_expr(cols: ColumnSet, column: str, extras: list[str]) -> tuple[str, str]:
    """(JSON object text from ``column`` merged with extra columns, condition true when ``column`` is not an object)."""
    raw = cols.raw(column)
    bad = f"({raw} IS NOT NULL AND NOT coalesce(json_valid({raw}) AND json_type({raw}) = 'OBJECT', false))"
    base = f"CASE WHEN {raw} IS NOT NULL AND json_valid({raw}) THEN {raw} END"
    if not extras:
        return base, bad
    packed = "to_json(struct_pack(" + ", ".join(f"{q(c)} := {q(c)}" for c in extras) + "))"
    return f"CAST(json_merge_patch(coalesce({base}, '{{}}'), {packed}) AS VARCHAR)", bad


def time_range_rules(expr: str, name: str, settings: IngestSettings) -> list[Rule]:
    """Rules quarantining times before ``min_year`` or later than now + ``max_future_seconds``."""
    return [
        Rule(
            f"{expr} < make_timestamptz({settings.min_year}, 1, 1, 0, 0, 0.0)",
            f"'{name} ' || CAST({expr} AS VARCHAR) || ' is before {settings.min_year}'",
        ),
        Rule(
            f"{expr} > now() + to_seconds({settings.max_future_seconds})",
            f"'{name} ' || CAST({expr} AS VARCHAR) || ' is in the future'",
        ),
    ]


def oversize_sql(columns: list[str], limit: int) -> str:
    """SQL text naming every field longer than ``limit`` UTF-8 bytes with its size (NULL when none is).

    The reason never quotes the field: a 3 MB description must not travel into logs and reports.
    """
    if not columns:
        return "NULL::VARCHAR"
    parts = ", ".join(
        f"CASE WHEN strlen(CAST({q(c)} AS VARCHAR)) > {limit} THEN "
        f"{lit(f'field {c} is ')} || CAST(strlen(CAST({q(c)} AS VARCHAR)) AS VARCHAR) || "
        f"{lit(f' bytes, over the limit of {limit} bytes (ingest.max_field_bytes)')} END"
        for c in columns
    )
    return f"NULLIF(concat_ws('; ', {parts}), '')"


def id_length_rules(exprs: dict[str, str], cap: int) -> list[Rule]:
    """Rules quarantining ids longer than ``cap`` characters (the API's cap), without quoting them."""
    return [
        Rule(
            f"length({expr}) > {cap}",
            f"{lit(f'{name} is ')} || CAST(length({expr}) AS VARCHAR) || "
            f"{lit(f' characters long, over the limit of {cap} (ingest.max_id_length)')}",
        )
        for name, expr in exprs.items()
    ]


def event_value_rules(etype: str, value: str, settings: IngestSettings) -> list[Rule]:
    """What ``value`` means per event type, checked: a purchase's price paid or quantity is >= 0, a
    rating (and a review's stars, when given) lies within ``rating_min..rating_max``, an add_to_cart quantity
    is > 0, a view or click value is null or >= 0. ``etype`` is the canonical type expression."""
    v = f"CAST({value} AS VARCHAR)"
    lo, hi = settings.rating_min, settings.rating_max
    scale = f"{lo:g}..{hi:g}"
    return [
        Rule(
            f"{etype} = 'purchase' AND {value} < 0",
            f"'purchase value ' || {v} || ' is negative (price paid or quantity must be >= 0)'",
        ),
        Rule(f"{etype} = 'rating' AND {value} IS NULL", "'rating event without a value'"),
        Rule(
            f"{etype} IN ('rating', 'review') AND ({value} < {lo} OR {value} > {hi})",
            f"{etype} || ' value ' || {v} || "
            f"{lit(f' is outside the rating scale {scale} (ingest.rating_min / ingest.rating_max)')}",
        ),
        Rule(
            f"{etype} = 'add_to_cart' AND {value} <= 0",
            f"'add_to_cart quantity ' || {v} || ' must be > 0'",
        ),
        Rule(
            f"{etype} IN ('view', 'click') AND {value} < 0",
            f"{etype} || ' value ' || {v} || ' must be empty or >= 0'",
        ),
    ]


def reasons_sql(rules: list[Rule]) -> str:
    """SQL text joining every broken rule's reason with '; ' (NULL when the row is fine)."""
    parts = ", ".join(f"CASE WHEN coalesce({r.condition}, false) THEN {r.reason} END" for r in rules)
    return f"NULLIF(concat_ws('; ', {parts}), '')"
