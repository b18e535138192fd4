"""CLI commands to review quarantined rows later: ``quarantine list`` and ``quarantine export``.

Registered on the main app by :func:`register` (``shelfwise quarantine ...``). Quarantine lives in the store
(the source of truth); these commands only read it, so they are safe beside a running ingest or service.

No ``from __future__ import annotations`` here: typer reads the option annotations at registration time.
"""

import json
from pathlib import Path
from typing import Annotated, Any

import pyarrow as pa
import pyarrow.compute as pc
import typer
from rich.table import Table

from shelfwise.data.ingest_checks import CONFLICT_PREFIX

quarantine_app = typer.Typer(
    help="Review quarantined rows: list them, or export them to CSV / JSON Lines.", no_args_is_help=True
)

FORMATS = ("csv", "jsonl")


def select_rows(table: pa.Table, kind: str | None) -> pa.Table:
    """Quarantine rows of one kind (all when ``kind`` is None), ordered by run, then line."""
    if kind is not None:
        table = table.filter(pc.equal(table.column("kind"), kind))
    return table


def summarise(table: pa.Table) -> list[dict[str, Any]]:
    """Per run: kind, source, rows and how many were conflicting duplicates."""
    runs: dict[str, dict[str, Any]] = {}
    for row in table.select(["run_id", "kind", "source", "reason"]).to_pylist():
        run = runs.setdefault(
            row["run_id"],
            {
                "run_id": row["run_id"],
                "kind": row["kind"],
                "source": row["source"],
                "rows": 0,
                "conflicts": 0,
            },
        )
        run["rows"] += 1
        run["conflicts"] += row["reason"].startswith(CONFLICT_PREFIX)
    return list(runs.values())


def write_export(table: pa.Table, path: Path, fmt: str) -> None:
    """Write quarantine rows to ``path`` as CSV (header + one row per line) or JSON Lines."""
    if fmt == "csv":
        import pyarrow.csv as pacsv

        pacsv.write_csv(table, path)
        return
    with path.open("w", encoding="utf-8") as fh:
        for row in table.to_pylist():
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def register(app: typer.Typer) -> None:
    """Add the ``quarantine`` group to the main CLI."""
    from shelfwise import cli
    from shelfwise.storage import open_store

    RunOpt = Annotated[str | None, typer.Option("--run", help="Only rows of this ingestion run id.")]
    KindOpt = Annotated[
        str | None, typer.Option("--kind", help="Only rows of this kind (events, items, users, judgements).")
    ]

    def _read(store: str | Path, run: str | None, kind: str | None) -> pa.Table:
        if kind is not None and kind not in ("events", "items", "users", "judgements"):
            raise cli.CliError(f"unknown --kind {kind!r}; expected one of events, items, users, judgements")
        with open_store(store, create=False) as st:
            table = st.read_quarantine(run)
            if (
                run is not None
                and not table.num_rows
                and run not in st.read_runs().column("run_id").to_pylist()
            ):
                raise cli.CliError(
                    f"no ingestion run {run!r} in {store}; `shelfwise quarantine list` shows them"
                )
        return select_rows(table, kind)

    @quarantine_app.command("list")
    def list_(
        run: RunOpt = None,
        kind: KindOpt = None,
        limit: Annotated[int, typer.Option("--limit", min=0, help="Rows to show (0 = all).")] = 50,
        store: cli.StoreOpt = cli.DEFAULT_STORE,
        as_json: cli.JsonOpt = False,
        verbose: cli.VerboseOpt = False,
    ) -> None:
        """List quarantined rows with run, source, line and reason (newest runs last)."""
        cli._setup_logging(verbose)
        with cli._errors():
            table = _read(store, run, kind)
            shown = table if limit == 0 else table.slice(0, limit)
            result = {"count": table.num_rows, "runs": summarise(table), "rows": shown.to_pylist()}
            human = Table(title=f"quarantine ({table.num_rows:,} rows)", show_header=True)
            for col in ("run_id", "kind", "source", "line", "reason"):
                human.add_column(col, justify="right" if col == "line" else "left", overflow="fold")
            for row in shown.to_pylist():
                human.add_row(
                    row["run_id"], row["kind"], row["source"], str(row["line"]), row["reason"][:300]
                )
            cli._emit(result, as_json, human)
            if not as_json and shown.num_rows < table.num_rows:
                cli.err_console.print(f"... {table.num_rows - shown.num_rows:,} more (--limit 0 shows all)")

    @quarantine_app.command("export")
    def export(
        file: Annotated[Path, typer.Argument(help="Where to write the rows (.csv or .jsonl).")],
        fmt: Annotated[
            str | None, typer.Option("--format", help="csv | jsonl (default: from the file name, else csv).")
        ] = None,
        run: RunOpt = None,
        kind: KindOpt = None,
        store: cli.StoreOpt = cli.DEFAULT_STORE,
        as_json: cli.JsonOpt = False,
        verbose: cli.VerboseOpt = False,
    ) -> None:
        """Export quarantined rows (run, kind, source, line, reason, raw row as JSON) for review or repair."""
        cli._setup_logging(verbose)
        with cli._errors():
            chosen = fmt or ("jsonl" if file.name.lower().endswith((".jsonl", ".ndjson", ".json")) else "csv")
            if chosen not in FORMATS:
                raise cli.CliError(f"unknown --format {chosen!r}; expected csv or jsonl")
            if not file.parent.is_dir():
                raise cli.CliError(f"cannot write {file}: the folder {file.parent} does not exist")
            table = _read(store, run, kind)
            write_export(table, file, chosen)
            result = {"file": str(file), "format": chosen, "rows": table.num_rows}
            cli._emit(result, as_json, f"wrote {table.num_rows:,} quarantined rows to {file} ({chosen})")

    app.add_typer(quarantine_app, name="quarantine")
