"""Where rows come from: CSV, JSON Lines, Parquet files and in-process tables, staged into DuckDB.

A source stages its rows into a DuckDB table with the file's own columns renamed to canonical names, plus
``_rec`` (the row's 1-based position among the rows parsed); :attr:`Staged.line_of` maps ``_rec`` to the
physical line in a text file, or the 1-based row number in Parquet and in-process tables. Rows the parser itself rejects (wrong column count,
bytes that are not UTF-8, JSON that does not parse) are returned as structural rejects with their line.

A CSV line longer than DuckDB's 2 MiB reader limit does not fail the file: the reader is sized to the
longest line, and validation quarantines the row whose field is over ``ingest.max_field_bytes``. In JSON
Lines, id columns (:data:`ID_COLUMNS`) must hold strings; an integer is taken as its decimal text (the text a
CSV file would hold), any other JSON type is reported in :data:`TYPE_PROBLEM` and quarantined, never
stringified.

Column names are matched case-insensitively; common aliases (``userId``, ``product_id``, ``behavior``...)
map to canonical names, and a caller's explicit mapping (canonical name -> file column) wins over both.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

#: Other names seen for canonical columns, lower-case.
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "event_id": ("eventid", "id", "event"),
    "user_id": ("userid", "user", "customer_id", "customerid", "visitorid", "visitor_id", "reviewerid"),
    "item_id": ("itemid", "item", "product_id", "productid", "sku", "asin", "product"),
    "type": ("event_type", "eventtype", "behavior", "behaviour", "action", "event_name"),
    "timestamp": ("ts", "time", "event_time", "datetime", "date", "created_at", "unixreviewtime"),
    "session_id": ("sessionid", "session"),
    "request_id": ("requestid", "request", "ranking_id"),
    "value": ("rating", "amount", "quantity"),
    "query": ("search_query", "search_term", "q"),
    "title": ("name", "product_title", "product_name", "productdisplayname"),
    "description": ("product_description", "desc"),
    "category": ("category_path", "categories", "category_id"),
    "price": ("unit_price", "list_price"),
    "image": ("image_url", "image_path", "img"),
    "available": ("in_stock", "availability", "instock"),
    "relevance": ("median_relevance", "label", "grade", "score"),
}


class SourceError(ValueError):
    """The source as a whole cannot be read (missing file, unknown format, missing required columns)."""


@dataclass(frozen=True)
class Reject:
    """A row the parser could not read: its line, why, and the raw text."""

    line: int
    reason: str
    raw: str


@dataclass
class Staged:
    """A staged source: the DuckDB table holding its rows and what the parser rejected."""

    table: str
    columns: list[str]  # canonical or original names, as staged (without _rec / _line)
    read: int  # rows parsed + rows rejected by the parser
    rejects: list[Reject] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    line_based: bool = True  # whether lines are physical lines of a text file (else row numbers)
    line_of: Callable[[np.ndarray], np.ndarray] = field(default=lambda recs: np.asarray(recs, dtype=np.int64))


def resolve_columns(
    found: list[str], mapping: Mapping[str, str] | None, canonical: tuple[str, ...]
) -> dict[str, str]:
    """Map file columns to canonical names: explicit mapping, then exact (case-insensitive), then aliases.

    Returns:
        ``{file_column: canonical_name}`` for every file column that maps; others keep their names.

    Raises:
        SourceError: an explicit mapping names a column the file does not have.
    """
    lower = {c.lower(): c for c in found}
    out: dict[str, str] = {}
    for canon, file_col in (mapping or {}).items():
        if file_col.lower() not in lower:
            raise SourceError(
                f"column mapping {canon}={file_col}: the file has no column {file_col!r}; found {', '.join(found)}"
            )
        out[lower[file_col.lower()]] = canon
    taken = set(out.values())
    for canon in canonical:
        if canon in taken:
            continue
        if canon in lower and lower[canon] not in out:
            out[lower[canon]] = canon
            taken.add(canon)
            continue
        for alias in COLUMN_ALIASES.get(canon, ()):
            if alias in lower and lower[alias] not in out and alias not in canonical:
                out[lower[alias]] = canon
                taken.add(canon)
                break
    return out


def detect_format(path: Path) -> str:
    """``csv``, ``jsonl`` or ``parquet`` from the file name (``.csv``, ``.tsv``, ``.jsonl``, ``.json``, ``.parquet``)."""
    name = path.name.lower()
    for suffix, fmt in (
        (".parquet", "parquet"),
        (".pq", "parquet"),
        (".jsonl", "jsonl"),
        (".ndjson", "jsonl"),
        (".json", "jsonl"),
        (".csv", "csv"),
        (".tsv", "csv"),
        (".txt", "csv"),
    ):
        if name.endswith(suffix) or name.endswith(suffix + ".gz"):
            return fmt
    raise SourceError(f"cannot tell the format of {path}: use a .csv, .tsv, .jsonl or .parquet file")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _rename_select(columns: list[str], rename: dict[str, str]) -> str:
    return ", ".join(f"{_quote(c)} AS {_quote(rename.get(c, c))}" for c in columns)


def _scan_lines(path: Path) -> tuple[int, int]:
    """(physical lines, bytes of the longest line) of a (possibly gzipped) text file, in one pass."""
    import gzip

    opener: Any = gzip.open if path.name.endswith(".gz") else open
    count, longest, run = 0, 0, 0  # run: bytes of the line still open at the end of the previous chunk
    last = b"\n"
    with opener(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 22), b""):
            ends = np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8) == 10)
            if ends.size:
                longest = max(longest, run + int(ends[0]))
                if ends.size > 1:
                    longest = max(longest, int(np.diff(ends).max()) - 1)
                run = len(chunk) - int(ends[-1]) - 1
            else:
                run += len(chunk)
            count += int(ends.size)
            last = chunk[-1:]
    return count + (last != b"\n"), max(longest, run)


#: DuckDB's default ``max_line_size``; longer lines get a reader sized to the file (see :func:`_stage_csv`).
CSV_LINE_LIMIT = 2_097_152


def _stage_csv(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    table: str,
    mapping: Mapping[str, str] | None,
    canonical: tuple[str, ...],
) -> Staged:
    delim = "\t" if path.name.lower().endswith((".tsv", ".tsv.gz")) else ","
    rej_t, rej_s = f"{table}_rejects", f"{table}_scans"
    n_lines, longest = _scan_lines(path)
    # A field over DuckDB's line limit would fail the whole file: size the reader to the longest line (a
    # record spanning lines inside quotes can be longer still: then to the whole file), and leave the
    # verdict on oversized fields to validation (``ingest.max_field_bytes``), which quarantines that row only.
    limits = [CSV_LINE_LIMIT] if longest < CSV_LINE_LIMIT // 2 else [2 * longest + 1024]
    limits.append(max(limits[0], path.stat().st_size + 1024))
    for attempt, limit in enumerate(limits):
        reader = (
            f"read_csv(?, all_varchar=true, header=true, delim='{delim}', store_rejects=true, "
            f"rejects_table='{rej_t}', rejects_scan='{rej_s}', strict_mode=true, max_line_size={limit})"
        )
        try:
            found = [d[0] for d in con.execute(f"DESCRIBE SELECT * FROM {reader}", [str(path)]).fetchall()]
            rename = resolve_columns(found, mapping, canonical)
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT {_rename_select(found, rename)}, "
                f"row_number() OVER () AS _rec FROM {reader}",
                [str(path)],
            )
            break
        except duckdb.Error as exc:
            if attempt + 1 < len(limits) and "line size" in str(exc).lower():
                continue
            message = str(exc).split("\n", 1)[0]  # the first line: later ones quote the row's content
            raise SourceError(f"cannot read {path} as CSV: {message}") from exc
    rows = con.execute(
        f"SELECT line, first(error_type), first(error_message), first(csv_line) FROM {rej_t} GROUP BY line ORDER BY line"
    ).fetchall()
    rejects = [Reject(int(r[0]), f"unreadable row ({str(r[1]).lower()}): {r[2]}", str(r[3])) for r in rows]
    n = int(con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])
    # A parsed row's physical line is its "virtual" line (header + records before it + newlines embedded in
    # quoted fields before it), shifted past the rejected lines that precede it (a merge of sorted lists).
    rejected = np.array([r.line for r in rejects], dtype=np.int64)
    shift = rejected - np.arange(len(rejected))
    multiline = n_lines != 1 + n + len(rejects)
    embedded: np.ndarray | None = None
    if multiline:
        nl = " + ".join(
            f"coalesce(length({_quote(c)}) - length(replace({_quote(c)}, chr(10), '')), 0)"
            for c in (rename.get(c, c) for c in found)
        )
        embedded = (
            con.execute(
                f"SELECT coalesce(sum({nl}) OVER (ORDER BY _rec ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) "
                f"AS e FROM {table} ORDER BY _rec"
            )
            .fetchnumpy()["e"]
            .astype(np.int64)
        )

    def line_of(recs: np.ndarray) -> np.ndarray:
        recs = np.asarray(recs, dtype=np.int64)
        virtual = 1 + recs + (embedded[recs - 1] if embedded is not None else 0)
        return virtual + np.searchsorted(shift, virtual, side="right")

    return Staged(table, [rename.get(c, c) for c in found], n + len(rejects), rejects, line_of=line_of)


def _stage_arrow(
    con: duckdb.DuckDBPyConnection,
    data: pa.Table,
    table: str,
    mapping: Mapping[str, str] | None,
    canonical: tuple[str, ...],
    lines: np.ndarray | None = None,
) -> Staged:
    found = list(data.column_names)
    rename = resolve_columns(found, mapping, canonical)
    view = f"{table}_src"
    con.register(view, data)
    try:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT {_rename_select(found, rename)}, "
            f"row_number() OVER () AS _rec FROM {view}"
        )
    finally:
        con.unregister(view)
    staged = Staged(table, [rename.get(c, c) for c in found], data.num_rows, [], line_based=lines is not None)
    if lines is not None:
        staged.line_of = lambda recs: lines[np.asarray(recs, dtype=np.int64) - 1]
    return staged


#: Canonical columns holding ids: in JSON Lines they must be strings (integers are taken as their decimal text).
ID_COLUMNS: frozenset[str] = frozenset(
    {"event_id", "user_id", "item_id", "session_id", "request_id", "judgement_id"}
)

#: Column of a staged JSON Lines table naming the ids of the row that have a wrong JSON type (else NULL).
TYPE_PROBLEM = "_type_problem"


def _json_text(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, (dict, list)):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _id_type_problem(name: str, v: Any) -> str | None:
    """Why a JSON value cannot be an id, or None. Strings pass; integers pass as their decimal text (the
    same text a CSV file would carry); floats, booleans, objects and arrays are refused, never stringified."""
    if v is None or isinstance(v, str) or (isinstance(v, int) and not isinstance(v, bool)):
        return None
    if isinstance(v, bool):
        return f"{name} must be a string, got boolean {'true' if v else 'false'}"
    if isinstance(v, float):
        return f"{name} must be a string, got number {v!r}"[:120]
    if isinstance(v, dict):
        return f"{name} must be a string, got an object"
    if isinstance(v, list):
        return f"{name} must be a string, got an array"
    return f"{name} must be a string, got {type(v).__name__}"


def _read_jsonl(path: Path) -> tuple[list[dict[str, Any]], list[str], np.ndarray, list[Reject]]:
    """Parse JSON Lines in Python: (objects, their keys in first-seen order, their lines, bad lines)."""
    import gzip

    opener: Any = gzip.open if path.name.endswith(".gz") else open
    rows: list[dict[str, Any]] = []
    lines: list[int] = []
    rejects: list[Reject] = []
    keys: dict[str, None] = {}
    with opener(path, "rb") as fh:
        for number, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                rejects.append(
                    Reject(
                        number,
                        f"unreadable row (invalid encoding): {exc}",
                        raw.decode("utf-8", "replace").rstrip(),
                    )
                )
                continue
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as exc:
                rejects.append(
                    Reject(
                        number,
                        f"unreadable row (malformed JSON): {exc.msg} at column {exc.colno}",
                        text.rstrip(),
                    )
                )
                continue
            if not isinstance(obj, dict):
                rejects.append(
                    Reject(number, "unreadable row: a JSON Lines row must be an object", text.rstrip())
                )
                continue
            rows.append(obj)
            lines.append(number)
            keys.update(dict.fromkeys(obj))
    return rows, list(keys), np.array(lines, dtype=np.int64), rejects


def _jsonl_table(
    rows: list[dict[str, Any]], keys: list[str], mapping: Mapping[str, str] | None, canonical: tuple[str, ...]
) -> pa.Table:
    """Rows as a table of strings, plus :data:`TYPE_PROBLEM` when an id column holds a non-string value."""
    columns = {k: pa.array([_json_text(r.get(k)) for r in rows], pa.string()) for k in keys}
    rename = resolve_columns(keys, mapping, canonical)
    id_keys = [(k, rename[k]) for k in keys if rename.get(k) in ID_COLUMNS]
    problems: list[str | None] = []
    for r in rows:
        found = [p for k, name in id_keys if (p := _id_type_problem(name, r.get(k))) is not None]
        problems.append("; ".join(found) if found else None)
    if any(p is not None for p in problems):
        columns[TYPE_PROBLEM] = pa.array(problems, pa.string())
    return pa.table(columns) if columns else pa.table({"_empty": pa.nulls(len(rows))})


def stage_path(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    table: str,
    *,
    mapping: Mapping[str, str] | None,
    canonical: tuple[str, ...],
    fmt: str | None = None,
) -> Staged:
    """Stage a file into ``table`` (see module docstring)."""
    path = Path(path)
    if not path.exists():
        raise SourceError(f"no such file: {path}")
    fmt = fmt or detect_format(path)
    if fmt == "csv":
        return _stage_csv(con, path, table, mapping, canonical)
    if fmt == "parquet":
        try:
            found = [
                d[0] for d in con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]).fetchall()
            ]
            rename = resolve_columns(found, mapping, canonical)
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT {_rename_select(found, rename)}, "
                "file_row_number + 1 AS _rec FROM read_parquet(?, file_row_number=true)",
                [str(path)],
            )
        except duckdb.Error as exc:
            raise SourceError(f"cannot read {path} as Parquet: {exc}") from exc
        n = int(con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])
        return Staged(table, [rename.get(c, c) for c in found], n, [], line_based=False)
    if fmt == "jsonl":
        rows, keys, lines, rejects = _read_jsonl(path)
        data = _jsonl_table(rows, keys, mapping, canonical)
        staged = _stage_arrow(con, data, table, mapping, canonical, lines=lines)
        staged.rejects = rejects
        staged.read += len(rejects)
        return staged
    raise SourceError(f"unknown format {fmt!r}; expected csv, jsonl or parquet")


def stage_table(
    con: duckdb.DuckDBPyConnection,
    data: Any,
    table: str,
    *,
    mapping: Mapping[str, str] | None,
    canonical: tuple[str, ...],
) -> Staged:
    """Stage an in-process table: ``pyarrow.Table``, ``pandas.DataFrame`` or a list of dicts."""
    if isinstance(data, pa.Table):
        arrow = data
    elif isinstance(data, list):
        arrow = pa.Table.from_pylist(data)
    elif hasattr(data, "to_dict") and hasattr(data, "columns"):  # pandas.DataFrame
        arrow = pa.Table.from_pandas(data, preserve_index=False)
    else:
        raise SourceError(
            f"cannot ingest a {type(data).__name__}; pass a pyarrow.Table, pandas.DataFrame or list of dicts"
        )
    return _stage_arrow(con, arrow, table, mapping, canonical)


_SAFE = re.compile(r"[^a-z0-9_]")


def table_name(prefix: str, counter: itertools.count = itertools.count()) -> str:  # noqa: B008
    """A fresh staging table name."""
    return f"_stg_{_SAFE.sub('_', prefix.lower())}_{next(counter)}"
