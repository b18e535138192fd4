"""Bulk moves between Arrow tables and PostgreSQL, both ways through ``COPY`` in CSV.

Arrow writes and parses CSV in C (:mod:`pyarrow.csv`), and PostgreSQL's CSV ``COPY`` is its fastest text
path, so neither direction builds a Python object per row. CSV keeps NULL and the empty string apart:
PostgreSQL writes NULL as an unquoted empty field and ``''`` as ``""``, and Arrow reads them back that way
(``quoted_strings_can_be_null=False``). Timestamps travel both ways as integer microseconds since the
epoch: exact, and several times cheaper than formatting and parsing timestamp text (a temporary table holds
them as ``bigint``; :func:`from_wire` turns them back into ``timestamptz`` inside the INSERT).

Only scalar columns go through here; list columns (impression item ids, profile vectors) are small tables
written and read through psycopg's own adaptation (see :mod:`shelfwise.storage.postgres_store`).
"""

from __future__ import annotations

import io
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.csv as pacsv

if TYPE_CHECKING:
    import psycopg

#: rows per CSV chunk handed to COPY (bounded memory for large batches)
CHUNK_ROWS = 65_536


def ident(name: str) -> str:
    """A double-quoted SQL identifier (names here come from code, never from users)."""
    return '"' + name.replace('"', '""') + '"'


def pg_type(dtype: pa.DataType) -> str:
    """The PostgreSQL type that holds an Arrow scalar type without loss, as it travels (timestamps: ``bigint``
    microseconds)."""
    if pa.types.is_string(dtype) or pa.types.is_large_string(dtype):
        return 'text COLLATE "C"'  # as the store's tables (postgres_schema.T)
    if pa.types.is_boolean(dtype):
        return "boolean"
    if pa.types.is_integer(dtype):
        return "bigint"
    if pa.types.is_floating(dtype):
        return "double precision" if dtype.bit_width == 64 else "real"
    if pa.types.is_timestamp(dtype):
        return "bigint"
    raise TypeError(f"no CSV COPY mapping for Arrow type {dtype}")


def create_temp_table(conn: psycopg.Connection, name: str, schema: pa.Schema) -> None:
    """A temporary table with ``schema``'s columns, dropped at the end of the current transaction."""
    cols = ", ".join(f"{ident(f.name)} {pg_type(f.type)}" for f in schema)
    conn.execute(f"CREATE TEMP TABLE {ident(name)} ({cols}) ON COMMIT DROP")


def from_wire(field: pa.Field, prefix: str = "", *, micros: Collection[str] = ()) -> str:
    """The select expression turning a column of a :func:`create_temp_table` table into its stored type
    (``timestamptz``, unless the column is named in ``micros``: stored as microseconds too)."""
    col = prefix + ident(field.name)
    if pa.types.is_timestamp(field.type) and field.name not in micros:
        return f"(timestamptz 'epoch' + {col} * interval '1 microsecond')"
    return col


def to_wire(table: pa.Table) -> pa.Table:
    """``table`` with timestamp columns as int64 microseconds since the epoch (a zero-copy cast)."""
    for i, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type):
            micros = table.column(i).cast(pa.timestamp("us", tz="UTC")).cast(pa.int64())
            table = table.set_column(i, field.name, micros)
    return table


def copy_in(conn: psycopg.Connection, name: str, table: pa.Table) -> int:
    """Append ``table`` to the existing table ``name`` with ``COPY FROM STDIN (FORMAT csv)``; returns rows.

    Timestamp columns are sent as microseconds (:func:`to_wire`): ``name`` must be a :func:`create_temp_table`
    table, or have no timestamp columns.
    """
    table = to_wire(table)
    cols = ", ".join(ident(c) for c in table.column_names)
    options = pacsv.WriteOptions(include_header=False, batch_size=CHUNK_ROWS)
    with conn.cursor() as cur, cur.copy(f"COPY {ident(name)} ({cols}) FROM STDIN (FORMAT csv)") as copy:
        for batch in table.to_batches(max_chunksize=CHUNK_ROWS):
            buf = io.BytesIO()
            pacsv.write_csv(batch, buf, options)
            copy.write(buf.getbuffer())
    return table.num_rows


def select_list(schema: pa.Schema, prefix: str = "", *, micros: Collection[str] = ()) -> str:
    """Select expressions for :func:`copy_out`: timestamps become integer microseconds since the epoch
    (columns named in ``micros`` are stored that way already)."""
    out = []
    for f in schema:
        col = prefix + ident(f.name)
        if pa.types.is_timestamp(f.type) and f.name not in micros:
            out.append(f"(extract(epoch FROM {col}) * 1000000)::bigint AS {ident(f.name)}")
        else:
            out.append(f"{col} AS {ident(f.name)}")
    return ", ".join(out)


def copy_out(conn: psycopg.Connection, query: str, schema: pa.Schema) -> pa.Table:
    """Run ``query`` (whose select list came from :func:`select_list` with ``schema``) into an Arrow table.

    ``query`` must be complete SQL (values inlined with :mod:`psycopg.sql` literals): ``COPY`` takes no
    server-side parameters.
    """
    buf = io.BytesIO()
    with conn.cursor() as cur, cur.copy(f"COPY ({query}) TO STDOUT (FORMAT csv)") as copy:
        for data in copy:
            buf.write(data)
    if buf.tell() == 0:
        return schema.empty_table()
    wire = pa.schema(
        [pa.field(f.name, pa.int64() if pa.types.is_timestamp(f.type) else f.type) for f in schema]
    )
    buf.seek(0)
    raw = pacsv.read_csv(
        buf,
        read_options=pacsv.ReadOptions(column_names=wire.names, block_size=1 << 24),
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types=wire,
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
            true_values=["t"],
            false_values=["f"],
        ),
    )
    return pa.Table.from_arrays([raw.column(f.name).cast(f.type) for f in schema], schema=nullable(schema))


def nullable(schema: pa.Schema) -> pa.Schema:
    """``schema`` with every field nullable (what a query result has, as the embedded store returns)."""
    return pa.schema([pa.field(f.name, f.type) for f in schema])


def subset(schema: pa.Schema, columns: Sequence[str] | None) -> pa.Schema:
    """The fields of ``schema`` named by ``columns`` (all when ``None``), in that order.

    Raises:
        ValueError: naming an unknown column.
    """
    if columns is None:
        return schema
    unknown = [c for c in columns if c not in schema.names]
    if unknown:
        raise ValueError(f"unknown column(s) {', '.join(unknown)}; known: {', '.join(schema.names)}")
    return pa.schema([schema.field(c) for c in columns])
