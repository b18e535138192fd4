"""Ingestion: read a source, validate and normalise every row, quarantine bad ones, write in one transaction.

The one entry point for files, in-process tables and benchmark datasets::

    >>> ingestor = Ingestor(store, settings)                           # doctest: +SKIP
    >>> report = ingestor.ingest_path(Path("events.csv"), "events")    # doctest: +SKIP
    >>> report.read == report.accepted + report.quarantined + report.duplicates   # doctest: +SKIP
    True

Validation runs as SQL in an in-memory DuckDB (see :mod:`shelfwise.data.rules`), whatever the store backend;
the accepted rows are handed to :meth:`Store.write_batch` in batches of ``ingest.batch_rows`` rows in source
order, each batch writing its rows (the first also the quarantine) and a run record atomically: a crash
keeps whole batches, and re-running the ingest completes it. Re-ingesting the same source changes nothing:
events de-duplicate by ``event_id`` (derived from the row's content when the source has none), items and
users by id, quarantine rows by their content (:mod:`shelfwise.data.ingest_checks`). An event repeating a
stored or earlier ``event_id`` with other content is a conflict: quarantined, the kept event stays.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from shelfwise.config import Settings
from shelfwise.data.ingest_checks import (
    drop_known_quarantine,
    mark_conflicts,
    mark_unknown_items,
    scrub_free_text,
)
from shelfwise.data.ingest_report import IngestReport, merge_reports
from shelfwise.data.ingest_write import write_in_batches
from shelfwise.data.rules import CANONICAL, KindPlan, missing_required, plan_for
from shelfwise.data.schema import EVENT_SCHEMA, ITEM_SCHEMA, JUDGEMENT_SCHEMA, USER_SCHEMA, Dataset
from shelfwise.data.sources import (
    ID_COLUMNS,
    TYPE_PROBLEM,
    SourceError,
    Staged,
    stage_path,
    stage_table,
    table_name,
)
from shelfwise.data.validation import (
    ColumnSet,
    Rule,
    event_value_rules,
    id_length_rules,
    lit,
    oversize_sql,
    q,
    reasons_sql,
)
from shelfwise.privacy.pseudonymise import Pseudonymiser, load_key
from shelfwise.storage.base import QUARANTINE_SCHEMA, Store

log = logging.getLogger(__name__)

KINDS: tuple[str, ...] = ("events", "items", "users", "judgements", "sequences")

_STAGING_COLUMNS = frozenset({"_rec", "_line", TYPE_PROBLEM})

_STORE_SCHEMAS: dict[str, pa.Schema] = {
    "events": pa.schema([f for f in EVENT_SCHEMA if f.name != "seq"]),
    "items": ITEM_SCHEMA,
    "users": USER_SCHEMA,
    "judgements": pa.schema([pa.field("judgement_id", pa.string(), nullable=False), *JUDGEMENT_SCHEMA]),
}


class Ingestor:
    """Validates and writes sources into one store.

    Args:
        store: where accepted rows go.
        settings: the settings tree (``ingest`` and ``privacy`` sections are used).
    """

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self._con = duckdb.connect()
        self._con.execute("SET TimeZone='UTC'")
        self._pseudonymiser = self._setup_pseudonymiser()

    def close(self) -> None:
        """Release the staging engine."""
        self._con.close()

    def __enter__(self) -> Ingestor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- configuration -----------------------------------------------------------------------------
    def _setup_pseudonymiser(self) -> Pseudonymiser | None:
        """The store fixes pseudonymisation when created; later settings cannot silently change it."""
        stored = self.store.get_meta("pseudonymise")
        wanted = self.settings.privacy.pseudonymise
        if stored is None:
            stored = {"enabled": wanted}
            if wanted:
                key = load_key(getattr(self.store, "folder", None), self.settings.privacy.key_env)
                stored["key_fingerprint"] = Pseudonymiser(key).fingerprint
            self.store.set_meta("pseudonymise", stored)
        if not stored.get("enabled"):
            return None
        key = load_key(getattr(self.store, "folder", None), self.settings.privacy.key_env)
        pseudonymiser = Pseudonymiser(key)
        if pseudonymiser.fingerprint != stored.get("key_fingerprint"):
            raise ValueError(
                "the pseudonymisation key differs from the one this store was created with; "
                f"set {self.settings.privacy.key_env} to the original key"
            )
        return pseudonymiser

    def user_key(self, raw_user_id: str) -> str:
        """The id under which the store keeps a shopper (the pseudonym when pseudonymisation is on)."""
        return self._pseudonymiser(raw_user_id) if self._pseudonymiser else raw_user_id

    # -- entry points ------------------------------------------------------------------------------
    def ingest_path(
        self, path: Path, kind: str, *, mapping: Mapping[str, str] | None = None, fmt: str | None = None
    ) -> IngestReport:
        """Ingest one file of ``kind`` (events, items, users, judgements or sequences)."""
        if kind == "sequences":
            from shelfwise.data.sequences import read_sequences

            dataset = read_sequences(Path(path))
            reports = self.ingest_dataset(dataset, source=str(path))
            return merge_reports(reports, kind="sequences", source=str(path))
        self._check_kind(kind)
        started = time.perf_counter()
        name = table_name(kind)
        staged = stage_path(self._con, Path(path), name, mapping=mapping, canonical=CANONICAL[kind], fmt=fmt)
        return self._finish(staged, kind, str(path), started, True)

    def ingest_table(
        self,
        data: Any,
        kind: str,
        *,
        mapping: Mapping[str, str] | None = None,
        source: str | None = None,
        stored_conflicts: bool = False,
    ) -> IngestReport:
        """Ingest an in-process ``pyarrow.Table``, ``pandas.DataFrame`` or list of dicts.

        Events repeating an ``event_id`` of the same table with other content are always conflicts; with
        ``stored_conflicts`` so are those differing from the stored event of that id (files always check).
        Off by default here because a caller that fills in fields itself (the HTTP API stamps a missing
        timestamp with the time of receipt) would turn every retry into a conflict.
        """
        self._check_kind(kind)
        started = time.perf_counter()
        name = table_name(kind)
        staged = stage_table(self._con, data, name, mapping=mapping, canonical=CANONICAL[kind])
        return self._finish(staged, kind, source or type(data).__name__, started, stored_conflicts)

    def ingest_dataset(self, dataset: Dataset, *, source: str | None = None) -> list[IngestReport]:
        """Ingest every table of a :class:`Dataset` (items, users, events, judgements), then its splits."""
        label = source or f"dataset:{dataset.name}"
        reports = []
        for kind in ("items", "users", "events", "judgements"):
            data = getattr(dataset, kind)
            if data is not None and data.num_rows:
                log.info("ingesting %s rows of %s from %s", f"{data.num_rows:,}", kind, label)
                reports.append(self.ingest_table(data, kind, source=label))
        for split_name, table in dataset.splits.items():
            self.store.write_split(split_name, table)
        if dataset.metadata:
            self.store.set_meta(f"dataset:{dataset.name}", dataset.metadata)
        return reports

    @staticmethod
    def _check_kind(kind: str) -> None:
        if kind not in CANONICAL:
            raise SourceError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")

    # -- the pipeline ------------------------------------------------------------------------------
    def _finish(
        self, staged: Staged, kind: str, source: str, started: float, stored_conflicts: bool
    ) -> IngestReport:
        con = self._con
        settings = self.settings.ingest
        conflicts = unknown_items = unknown_events = pii = 0
        try:
            types = {
                r[0]: r[1]
                for r in con.execute(f"DESCRIBE {staged.table}").fetchall()
                if r[0] not in _STAGING_COLUMNS
            }
            missing = missing_required(kind, set(types))
            if missing:
                raise SourceError(
                    f"{source}: {kind} need the column(s) {', '.join(missing)}; the source has "
                    f"{', '.join(types) or 'no columns'}. Rename them, or map them (CLI: --map {missing[0].split()[0]}=COLUMN)"
                )
            plan = plan_for(kind, ColumnSet(types), settings)
            run_id = uuid.uuid4().hex[:16]
            valid = self._validate(staged, plan, types)
            if kind == "events":
                conflicts = mark_conflicts(con, valid, self.store if stored_conflicts else None)
                if "item_id" in types:
                    unknown_items, unknown_events = mark_unknown_items(
                        con, valid, self.store, quarantine=settings.unknown_items == "quarantine"
                    )
            accepted, n_valid = self._accepted(valid, plan)
            quarantine = self._quarantine(staged, valid, types, run_id, kind, source)
            if self.settings.privacy.scrub_pii:
                accepted, quarantine, pii = scrub_free_text(kind, accepted, quarantine)
            fresh_quarantine, known = drop_known_quarantine(con, quarantine, self.store)
            extra_items = self._judged_items(valid) if kind == "judgements" and "title" in types else None
            result, batches = write_in_batches(
                self.store,
                accepted,
                fresh_quarantine,
                kind=kind,
                source=source,
                run_id=run_id,
                read=staged.read - known,
                batch_duplicates=n_valid - accepted.num_rows,
                conflicts=conflicts,
                extra_items=extra_items,
                batch_rows=settings.batch_rows,
            )
        finally:
            for table in (staged.table, f"{staged.table}_v", f"{staged.table}_map"):
                con.execute(f"DROP TABLE IF EXISTS {table}")
        report = IngestReport(
            run_id=run_id,
            kind=kind,
            source=source,
            read=staged.read,
            accepted=result.inserted + result.updated,
            inserted=result.inserted,
            updated=result.updated,
            quarantined=quarantine.num_rows,
            duplicates=result.duplicates,
            new_users=result.new_users,
            new_items=result.new_items,
            unknown_items=unknown_items if kind == "events" else result.unknown_items,
            ignored_columns=plan.ignored,
            quarantine_sample=quarantine.slice(0, 5).select(["line", "reason"]).to_pylist(),
            seconds=round(time.perf_counter() - started, 3),
            conflicts=conflicts,
            quarantine_known=known,
            unknown_item_events=unknown_events,
            batches=batches,
            pii_scrubbed=pii,
        )
        if (
            report.read != report.accepted + report.quarantined + report.duplicates
        ):  # pragma: no cover - invariant
            raise AssertionError(f"ingest totals do not reconcile: {report}")
        log.info(
            "%s from %s: read %s, accepted %s, quarantined %s (%s known before, %s conflicts), "
            "duplicates %s (%.2fs)",
            kind,
            source,
            f"{report.read:,}",
            f"{report.accepted:,}",
            f"{report.quarantined:,}",
            f"{report.quarantine_known:,}",
            f"{report.conflicts:,}",
            f"{report.duplicates:,}",
            report.seconds,
        )
        return report

    def _extra_rules(self, plan: KindPlan, staged: Staged) -> list[Rule]:
        """Checks beyond the per-kind plan, over the normalised columns of ``<staged>_v``: id types (JSON
        Lines), id lengths, event values per type."""
        settings = self.settings.ingest
        rules = id_length_rules({c: q(c) for c in plan.columns if c in ID_COLUMNS}, settings.max_id_length)
        if TYPE_PROBLEM in staged.columns:
            rules.insert(0, Rule(f"{q(TYPE_PROBLEM)} IS NOT NULL", q(TYPE_PROBLEM)))
        if plan.kind == "events":
            rules += event_value_rules(q("type"), q("value"), settings)
        return rules

    def _validate(self, staged: Staged, plan: KindPlan, types: dict[str, str]) -> str:
        """Create ``<staged>_v``: normalised columns + ``_reason`` (NULL when valid) + ``_conflict``,
        pseudonymised ids. A row with an oversized field gets only that reason: the others may quote it.
        The extra rules run as a second pass over the normalised columns (cheaper than re-normalising)."""
        con = self._con
        out = f"{staged.table}_v"
        select = ", ".join(f"{expr} AS {q(name)}" for name, expr in plan.columns.items())
        oversize = oversize_sql(list(types), self.settings.ingest.max_field_bytes)
        carried = f", {q(TYPE_PROBLEM)}" if TYPE_PROBLEM in staged.columns else ""
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {out} AS SELECT _rec, {select}, {oversize} AS _oversize, "
            f"{reasons_sql(plan.rules)} AS _reason, false AS _conflict{carried} FROM {staged.table}"
        )
        extra = self._extra_rules(plan, staged)
        if extra:
            broken = " OR ".join(f"coalesce({r.condition}, false)" for r in extra)
            con.execute(
                f"UPDATE {out} SET _reason = NULLIF(concat_ws('; ', _reason, {reasons_sql(extra)}), '') "
                f"WHERE {broken}"
            )
        con.execute(f"UPDATE {out} SET _reason = _oversize WHERE _oversize IS NOT NULL")
        if self._pseudonymiser is not None and "user_id" in plan.columns:
            raw = [
                r[0]
                for r in con.execute(
                    f"SELECT DISTINCT user_id FROM {out} WHERE user_id IS NOT NULL"
                ).fetchall()
            ]
            mapping = pa.table(
                {
                    "raw": pa.array(raw, pa.string()),
                    "pseudo": pa.array(self._pseudonymiser.many(raw), pa.string()),
                }
            )
            con.register(f"{staged.table}_mapsrc", mapping)
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE {staged.table}_map AS SELECT * FROM {staged.table}_mapsrc"
            )
            con.unregister(f"{staged.table}_mapsrc")
            con.execute(
                f"UPDATE {out} SET user_id = m.pseudo FROM {staged.table}_map m WHERE {out}.user_id = m.raw"
            )
        return out

    def _accepted(self, valid: str, plan: KindPlan) -> tuple[pa.Table, int]:
        """The valid rows, de-duplicated within the batch, in the store schema plus ``_ord`` (source order);
        and the count of valid rows before de-duplication."""
        con = self._con
        schema = _STORE_SCHEMAS[plan.kind]
        id_expr = q(plan.id_column)
        if plan.kind == "events":
            id_expr = (
                "coalesce(event_id, md5(concat_ws(chr(31), user_id, coalesce(item_id, ''), type, "
                "CAST(epoch_us(timestamp) AS VARCHAR), coalesce(CAST(value AS VARCHAR), ''), coalesce(query, ''), "
                "coalesce(session_id, ''))))"
            )
        elif plan.kind == "judgements":
            id_expr = (
                "coalesce(judgement_id, md5(concat_ws(chr(31), query, item_id, CAST(row_number() OVER "
                "(PARTITION BY query, item_id ORDER BY _rec) AS VARCHAR))))"
            )
        select = ", ".join("_id AS " + q(c) if c == plan.id_column else q(c) for c in schema.names)
        inner = f"SELECT *, {id_expr} AS _id FROM {valid} WHERE _reason IS NULL"
        con.execute(f"CREATE OR REPLACE TEMP TABLE {valid}_ok AS {inner}")
        n_valid, n_ids = con.execute(f"SELECT count(*), count(DISTINCT _id) FROM {valid}_ok").fetchall()[0]
        if n_valid == n_ids:  # the common case: no repeated ids, no window needed
            query = f"SELECT {select}, _rec AS _ord FROM {valid}_ok"
        else:
            order = "DESC" if plan.keep_last else "ASC"
            query = (
                f"SELECT {select}, _rec AS _ord FROM {valid}_ok "
                f"QUALIFY row_number() OVER (PARTITION BY _id ORDER BY _rec {order}) = 1 ORDER BY _rec"
            )
        table = con.sql(query).to_arrow_table()
        con.execute(f"DROP TABLE {valid}_ok")
        ordered = table.select(schema.names).cast(schema)
        return ordered.append_column("_ord", table.column("_ord").cast(pa.int64())), int(n_valid)

    def _quarantine(
        self, staged: Staged, valid: str, types: dict[str, str], run_id: str, kind: str, source: str
    ) -> pa.Table:
        """Rows that broke a rule or could not be parsed: line, every reason, the raw row as JSON."""
        con = self._con
        limit, text = self.settings.ingest.max_field_bytes, ColumnSet(types)
        raw_cols = ", ".join(
            f"{q(c)} := CASE WHEN strlen(s.{q(c)}) > {limit} THEN "
            f"'<' || CAST(strlen(s.{q(c)}) AS VARCHAR) || ' bytes left out>' ELSE s.{q(c)} END"
            if text.is_text(c)
            else f"{q(c)} := s.{q(c)}"
            for c in types
        )
        raw = f"to_json(struct_pack({raw_cols}))" if types else "'{}'"
        if self._pseudonymiser is not None and "user_id" in types:
            raw = f"json_merge_patch({raw}, json_object('user_id', v.user_id))"
        rule_rows = con.sql(
            f"SELECT v._rec AS rec, v._reason AS reason, CAST({raw} AS VARCHAR) AS raw "
            f"FROM {valid} v JOIN {staged.table} s ON v._rec = s._rec WHERE v._reason IS NOT NULL ORDER BY v._rec"
        ).to_arrow_table()
        rule_lines = staged.line_of(rule_rows.column("rec").to_numpy()).tolist() if rule_rows.num_rows else []
        lines = [r.line for r in staged.rejects] + rule_lines
        reasons = [r.reason for r in staged.rejects] + rule_rows.column("reason").to_pylist()
        raws = [
            json.dumps({"text": r.raw[:2000]}, ensure_ascii=False) for r in staged.rejects
        ] + rule_rows.column("raw").to_pylist()
        n = len(lines)
        table = pa.table(
            {
                "run_id": pa.array([run_id] * n, pa.string()),
                "kind": pa.array([kind] * n, pa.string()),
                "source": pa.array([source] * n, pa.string()),
                "line": pa.array(lines, pa.int64()),
                "reason": pa.array(reasons, pa.string()),
                "raw": pa.array(raws, pa.string()),
            },
            schema=QUARANTINE_SCHEMA,
        )
        return table.sort_by("line")

    def _judged_items(self, valid: str) -> pa.Table:
        """Catalogue rows for judged products given by title (insert-only: never overwrite a richer row)."""
        cols = ", ".join(
            {
                "item_id": "item_id",
                "title": "title",
                "description": "description",
                "available": "true",
                "updated_at": "now()",
            }.get(f.name, f"NULL::{_duck_type(f.type)}")
            + f" AS {q(f.name)}"
            for f in ITEM_SCHEMA
        )
        table = self._con.sql(
            f"SELECT {cols} FROM {valid} WHERE _reason IS NULL AND title IS NOT NULL "
            "QUALIFY row_number() OVER (PARTITION BY item_id ORDER BY _rec) = 1 ORDER BY _rec"
        ).to_arrow_table()
        # ``_ord`` orders the store's catalogue change log, as it does for item batches
        ordered = table.cast(ITEM_SCHEMA)
        return ordered.append_column("_ord", pa.array(range(1, ordered.num_rows + 1), pa.int64()))


def _duck_type(arrow_type: pa.DataType) -> str:
    if pa.types.is_floating(arrow_type):
        return "DOUBLE"
    if pa.types.is_boolean(arrow_type):
        return "BOOLEAN"
    if pa.types.is_timestamp(arrow_type):
        return "TIMESTAMPTZ"
    return "VARCHAR"


__all__ = ["KINDS", "IngestReport", "Ingestor", "SourceError", "lit", "merge_reports"]
