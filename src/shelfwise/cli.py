"""The ``shelfwise`` command line: init, ingest, validate, stats, demo, config.

Every command takes ``--store DIR|URL`` (default ``./shelfwise-data`` or ``$SHELFWISE_STORE``; a folder, or a
URL such as ``postgresql://user@host:5432/db?artifacts=/folder``) and ``--json``,
which prints exactly one JSON object with the command's result on stdout; logs go to stderr.
Exit codes: 0 success, 1 rows quarantined under ``--strict``, 2 bad usage or unreadable input.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape
from rich.table import Table

from shelfwise import __version__
from shelfwise.config import Settings, SettingsError, describe_settings, load_settings
from shelfwise.data.ingest import KINDS, Ingestor, IngestReport, merge_reports
from shelfwise.data.sources import SourceError
from shelfwise.privacy.consent import personal_key
from shelfwise.storage import Store, StoreError, open_store

log = logging.getLogger("shelfwise")
err_console = Console(stderr=True, soft_wrap=True)  # an error is one line, however long
out_console = Console()

app = typer.Typer(
    name="shelfwise",
    help="Search and recommendations for online shops, built on pretrained language models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# A str, not a Path: a URL such as postgresql://u@h:5433/db must reach open_store intact (Path collapses //).
StoreOpt = Annotated[
    str,
    typer.Option(
        "--store",
        envvar="SHELFWISE_STORE",
        help="Store folder (a DuckDB file and artifacts live there) or URL, "
        "e.g. postgresql://user@host:5432/db?artifacts=/folder.",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object with the result on stdout.")]
ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", help="Settings TOML file (default: <store>/shelfwise.toml if present)."),
]
SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", help="Override a setting, e.g. --set ingest.strict=true (repeatable)."),
]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging on stderr.")]
ArtifactsOpt = Annotated[
    str | None,
    typer.Option(
        "--artifacts",
        help="Artifact location every replica shares: a folder or file:///DIR (default: <store>/artifacts, "
        "or the PostgreSQL URL's artifacts=).",
    ),
]
RayOpt = Annotated[
    str | None,
    typer.Option("--ray", help="Run the batch work on the Ray cluster at this address (default: in-process)."),
]

DEFAULT_STORE = "shelfwise-data"


class CliError(Exception):
    """A user-facing error: printed without a traceback, exit code 2."""


def _setup_logging(verbose: bool) -> None:
    level = logging.DEBUG if verbose else logging.INFO
    root = logging.getLogger()
    if not any(isinstance(h, RichHandler) for h in root.handlers):
        from shelfwise.logging_setup import log_handler

        root.addHandler(log_handler())  # written between tqdm's bars, never into them
    root.setLevel(logging.WARNING)
    logging.getLogger("shelfwise").setLevel(level)


def store_folder(store: str | Path) -> Path | None:
    """The folder of a folder store (a plain path or ``duckdb://PATH``); ``None`` for a server URL."""
    scheme, sep, location = str(store).partition("://")
    if not sep:
        return Path(store)
    return Path(location) if scheme == "duckdb" else None


def _needs_folder(store: str | Path, command: str) -> Path:
    folder = store_folder(store)
    if folder is None:
        raise CliError(f"`shelfwise {command}` needs a store folder, not the URL {store!r}")
    return folder


def _settings(store: str | Path, config: Path | None, overrides: list[str] | None) -> Settings:
    folder = store_folder(store)
    path = config if config is not None else (folder / "shelfwise.toml" if folder is not None else None)
    use = path if path is not None and (path.exists() or config is not None) else None
    return load_settings(use, overrides=overrides or [])


def _emit(result: dict[str, Any], as_json: bool, human: Any = None) -> None:
    if as_json:
        sys.stdout.write(json.dumps(result, default=str, ensure_ascii=False) + "\n")
        sys.stdout.flush()
    elif human is not None:
        out_console.print(human)


def _fail(exc: BaseException) -> typer.Exit:
    """Print ``exc`` as one line on stderr (no traceback, no wrapping) and return the exit-2 signal."""
    text = escape(" ".join(str(exc).split()) or type(exc).__name__)
    err_console.print(f"[bold red]error:[/] {text}", soft_wrap=True, highlight=False)
    return typer.Exit(2)


@contextmanager
def _errors() -> Iterator[None]:
    """Turn expected failures (bad input, and any store error: busy, full, missing) into one clear line on
    stderr and exit code 2."""
    try:
        yield
    except (CliError, SourceError, SettingsError, StoreError, FileNotFoundError, ValueError, ConnectionError) as exc:
        raise _fail(exc) from None


@contextmanager
def _runner(address: str | None) -> Iterator[Any]:
    """The batch job runner of ``--ray ADDRESS`` (in-process without one), closed after the command."""
    from shelfwise.distributed import open_runner

    runner = open_runner(address)
    try:
        yield runner
    finally:
        runner.close()


def _counts_table(counts: dict[str, int], title: str) -> Table:
    table = Table(title=title, show_header=True)
    table.add_column("what")
    table.add_column("count", justify="right")
    for key, value in counts.items():
        table.add_row(key, f"{value:,}")
    return table


def _report_table(reports: list[IngestReport]) -> Table:
    table = Table(title="ingestion", show_header=True)
    for col in ("kind", "source", "read", "accepted", "quarantined", "duplicates", "seconds"):
        table.add_column(col, justify="left" if col in ("kind", "source") else "right")
    for r in reports:
        table.add_row(
            r.kind,
            r.source,
            f"{r.read:,}",
            f"{r.accepted:,}",
            f"{r.quarantined:,}",
            f"{r.duplicates:,}",
            f"{r.seconds:.2f}",
        )
    return table


def _parse_mapping(items: list[str] | None) -> dict[str, str]:
    mapping = {}
    for item in items or []:
        canon, sep, column = item.partition("=")
        if not sep or not canon.strip() or not column.strip():
            raise CliError(
                f"--map {item!r} must look like CANONICAL=FILE_COLUMN, e.g. --map user_id=customer"
            )
        mapping[canon.strip()] = column.strip()
    return mapping


def _ingest_result(store: Store, reports: list[IngestReport]) -> dict[str, Any]:
    counts = store.counts()
    total = merge_reports(reports, kind="all", source="") if reports else None
    return {
        "store": store.url,
        "users": counts["users"],
        "items": counts["items"],
        "events": counts["events"],
        "judgements": counts["judgements"],
        "queries": counts["queries"],
        "read": total.read if total else 0,
        "accepted": total.accepted if total else 0,
        "quarantined": total.quarantined if total else 0,
        "duplicates": total.duplicates if total else 0,
        "conflicts": total.conflicts if total else 0,
        "quarantine_known": total.quarantine_known if total else 0,
        "unknown_items": total.unknown_items if total else 0,
        "runs": [r.to_dict() for r in reports],
    }


def _ingest_warnings(r: IngestReport, unknown_policy: str) -> None:
    """Warning lines of one ingest report: unknown items, conflicting duplicates, known quarantine."""
    if r.unknown_items:
        done = "quarantined" if unknown_policy == "quarantine" else "accepted"
        err_console.print(
            f"[yellow]warning[/] {r.source}: {r.unknown_item_events:,} events refer to {r.unknown_items:,} "
            f"item(s) not in the catalogue ({done}; setting ingest.unknown_items)"
        )
    if r.conflicts:
        err_console.print(
            f"[yellow]warning[/] {r.source}: {r.conflicts:,} events reuse a kept event_id with different "
            f"content (quarantined; `shelfwise quarantine list --run {r.run_id}`)"
        )
    if r.quarantine_known:
        err_console.print(
            f"{r.source}: {r.quarantine_known:,} of the quarantined rows were already in quarantine (not written again)"
        )


def _default_data_dir() -> Path | None:
    env = os.environ.get("SHELFWISE_DATA_DIR")
    if env:
        return Path(env)
    guess = Path("..") / "shared" / "data"
    return guess if guess.is_dir() else None


@app.command()
def init(
    store: StoreOpt = DEFAULT_STORE,
    pseudonymise: Annotated[
        bool,
        typer.Option(
            "--pseudonymise", help="Keep only keyed-hash pseudonyms of user ids (fixed for the store's life)."
        ),
    ] = False,
    config: ConfigOpt = None,
    set_: SetOpt = None,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Create an empty store (tables, artifact folder) and fix its pseudonymisation setting."""
    _setup_logging(verbose)
    with _errors():
        overrides = [*(set_ or []), *(["privacy.pseudonymise=true"] if pseudonymise else [])]
        settings = _settings(store, config, overrides)
        with open_store(store) as st, Ingestor(st, settings):
            result = {"store": st.url, "pseudonymise": st.get_meta("pseudonymise"), **st.counts()}
        _emit(
            result,
            as_json,
            f"store ready at {result['store']} (pseudonymised ids: {result['pseudonymise']['enabled']})",
        )


@app.command()
def ingest(
    files: Annotated[
        list[Path] | None,
        typer.Argument(help="Files to ingest (.csv, .tsv, .jsonl, .parquet, or sequences .txt)."),
    ] = None,
    kind: Annotated[
        str | None, typer.Option("--kind", help=f"What the files hold: {', '.join(KINDS)}.")
    ] = None,
    dataset: Annotated[
        str | None,
        typer.Option(
            "--dataset", help="A benchmark dataset folder name of ../shared/data, e.g. amazon-beauty."
        ),
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir", help="Where --dataset folders live (default ../shared/data or $SHELFWISE_DATA_DIR)."
        ),
    ] = None,
    map_: Annotated[
        list[str] | None,
        typer.Option("--map", help="Map a canonical column to a file column: --map user_id=customer."),
    ] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Exit 1 when any row was quarantined.")] = False,
    store: StoreOpt = DEFAULT_STORE,
    config: ConfigOpt = None,
    set_: SetOpt = None,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Validate and load files or a benchmark dataset; bad rows are quarantined with line and reason.

    Re-ingesting the same data changes nothing (events de-duplicate by event id, items and users by id).
    """
    _setup_logging(verbose)
    with _errors():
        if bool(files) == bool(dataset):
            raise CliError("give either FILE... with --kind, or --dataset NAME")
        if files and not kind:
            raise CliError(f"--kind is required with files; one of {', '.join(KINDS)}")
        if kind == "faq":  # the shop's Q&A for the assistant: kept in the store's metadata
            from shelfwise.cli_assistant import ingest_faq

            _emit(ingest_faq(store, files or []), as_json, "shop Q&A stored")
            return
        if kind and kind not in KINDS:
            raise CliError(f"unknown --kind {kind!r}; expected one of {', '.join(KINDS)}, faq")
        settings = _settings(store, config, set_)
        mapping = _parse_mapping(map_)
        reports: list[IngestReport] = []
        with open_store(store) as st, Ingestor(st, settings) as ingestor:
            if dataset:
                from shelfwise.data.datasets import load_dataset

                root = data_dir or _default_data_dir()
                with err_console.status(f"reading dataset {dataset}"):
                    ds = load_dataset(dataset, root)
                with err_console.status(f"ingesting dataset {dataset}"):
                    reports = ingestor.ingest_dataset(ds)
            else:
                for path in files or []:
                    with err_console.status(f"ingesting {path}"):
                        reports.append(ingestor.ingest_path(path, kind or "", mapping=mapping))
            result = _ingest_result(st, reports)
        _emit(result, as_json, _report_table(reports))
        if not as_json:
            out_console.print(
                _counts_table(
                    {k: result[k] for k in ("users", "items", "events", "judgements")}, "store now holds"
                )
            )
            for r in reports:
                for q in r.quarantine_sample:
                    err_console.print(f"[yellow]quarantined[/] {r.source}:{q['line']}: {q['reason']}")
                _ingest_warnings(r, settings.ingest.unknown_items)
        if (strict or settings.ingest.strict) and result["quarantined"]:
            raise typer.Exit(1)


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="Files to check.")],
    kind: Annotated[str, typer.Option("--kind", help=f"What the files hold: {', '.join(KINDS)}.")],
    map_: Annotated[
        list[str] | None, typer.Option("--map", help="Map a canonical column to a file column.")
    ] = None,
    store: StoreOpt = DEFAULT_STORE,
    config: ConfigOpt = None,
    set_: SetOpt = None,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Check files without writing anything: counts and every bad row with its line and reason.

    Exits 1 when any row would be quarantined, so it can gate a data pipeline.
    """
    _setup_logging(verbose)
    import tempfile

    with _errors():
        if kind not in KINDS:
            raise CliError(f"unknown --kind {kind!r}; expected one of {', '.join(KINDS)}")
        settings = _settings(store, config, set_)
        mapping = _parse_mapping(map_)
        with (
            tempfile.TemporaryDirectory(prefix="shelfwise-validate-") as tmp,
            open_store(Path(tmp)) as scratch,
            Ingestor(scratch, settings) as ingestor,
        ):
            reports = [ingestor.ingest_path(p, kind, mapping=mapping) for p in files]
            problems = scratch.read_quarantine().select(["source", "line", "reason"]).to_pylist()
        total = merge_reports(reports, kind=kind, source=",".join(map(str, files)))
        result = {
            "read": total.read,
            "valid": total.accepted,
            "quarantined": total.quarantined,
            "duplicates": total.duplicates,
            "problems": problems,
        }
        _emit(result, as_json, _report_table(reports))
        if not as_json:
            for p in problems[:50]:
                err_console.print(f"[yellow]bad row[/] {p['source']}:{p['line']}: {p['reason']}")
            if len(problems) > 50:
                err_console.print(f"... and {len(problems) - 50} more")
        if total.quarantined:
            raise typer.Exit(1)


@app.command()
def stats(
    store: StoreOpt = DEFAULT_STORE,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Counts of what the store holds: users, items, events (by type), judgements, quarantine."""
    _setup_logging(verbose)
    with _errors(), open_store(store, create=False) as st:
        counts = st.counts()
        result = {"store": st.url, **counts, "splits": st.list_splits(), "artifacts": st.artifacts.names()}
    _emit(result, as_json, _counts_table(counts, f"store {result['store']}"))


@app.command()
def demo(
    store: StoreOpt = DEFAULT_STORE,
    serve: Annotated[
        bool | None,
        typer.Option(
            "--serve/--no-serve",
            help="Then build / train what is missing and serve the shop, printing ready-to-paste requests "
            "(default: serve unless --json).",
        ),
    ] = None,
    port: Annotated[int, typer.Option("--port", help="Port to serve the demo on.")] = 8000,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Load the bundled sample shop into the store, show what was loaded, and serve it."""
    _setup_logging(verbose)
    from shelfwise.demo import run_demo

    with _errors():
        folder = _needs_folder(store, "demo")
        result = run_demo(folder)
    _emit(result, as_json, None)
    if not as_json:
        from shelfwise.demo import render_demo

        render_demo(result, out_console)
    if serve if serve is not None else not as_json:
        from shelfwise.cli_serving import serve_demo

        with _errors():
            serve_demo(folder, result, port)


@app.command()
def build(
    store: StoreOpt = DEFAULT_STORE,
    artifacts: ArtifactsOpt = None,
    ray: RayOpt = None,
    config: ConfigOpt = None,
    set_: SetOpt = None,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Encode the catalogue and build the vector index, the lexical index and the query vocabulary.

    Encodings are cached by content: rebuilding an unchanged catalogue encodes nothing.
    """
    _setup_logging(verbose)
    from shelfwise.build import build_item_artifacts

    with _errors():
        settings = _settings(store, config, set_)
        with open_store(store, create=False, artifacts=artifacts) as st, _runner(ray) as runner:
            report = build_item_artifacts(st, settings, runner=runner)
    _emit(
        report,
        as_json,
        f"built {', '.join(report['artifacts'])} for {report['items']:,} items "
        f"(encoding {report['encode_seconds']}s, vector index {report['vector_index_seconds']}s, "
        f"lexical index {report['lexical_index_seconds']}s)",
    )


@app.command()
def profile(
    user_id: Annotated[
        str, typer.Argument(help="The shopper's id (pseudonymised by the store when configured).")
    ],
    rebuild: Annotated[
        bool, typer.Option("--rebuild", help="Rebuild every profile from the events first.")
    ] = False,
    store: StoreOpt = DEFAULT_STORE,
    artifacts: ArtifactsOpt = None,
    config: ConfigOpt = None,
    set_: SetOpt = None,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """One shopper's profile: affinities, price band, funnel, segment and a plain-language explanation."""
    _setup_logging(verbose)
    from shelfwise.profiles.pipeline import build_profiles, open_profiles

    with _errors():
        settings = _settings(store, config, set_)
        with open_store(store, create=False, artifacts=artifacts) as st:
            if rebuild:
                build_profiles(st, settings)
            key = Ingestor(st, settings).user_key(user_id)
            if personal_key(st, key, settings.privacy.default_consent) is None:
                raise CliError(f"no profile for {user_id!r}: no consent to personalisation")
            svc = open_profiles(st, settings)
            if key not in svc.states:
                raise CliError(f"no shopper {user_id!r} in {store}; `shelfwise stats` shows the counts")
            result = svc.profile_json(key)
    _emit(
        result,
        as_json,
        f"{result['user_id']}: {result.get('summary')}\n"
        + "\n".join(f"  - {e}" for e in result.get("explanations", [])),
    )


@app.command()
def segments(
    rebuild: Annotated[
        bool, typer.Option("--rebuild", help="Rebuild profiles and refit segments first.")
    ] = False,
    store: StoreOpt = DEFAULT_STORE,
    artifacts: ArtifactsOpt = None,
    config: ConfigOpt = None,
    set_: SetOpt = None,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Shopper segments with their labels, sizes and statistics (the number of segments by silhouette)."""
    _setup_logging(verbose)
    from shelfwise.profiles.pipeline import build_profiles, open_profiles

    with _errors():
        settings = _settings(store, config, set_)
        with open_store(store, create=False, artifacts=artifacts) as st:
            if rebuild:
                build_profiles(st, settings)
            result = open_profiles(st, settings).segments_json()
    table = Table(title=f"{result['k']} segments ({result.get('criterion', '')})")
    for col in ("segment", "label", "users"):
        table.add_column(col)
    for seg in result["segments"]:
        table.add_row(
            str(seg.get("segment", seg.get("id", ""))),
            str(seg.get("label", "")),
            str(seg.get("size", seg.get("users", ""))),
        )
    _emit(result, as_json, table)


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What the shopper typed, e.g. 'red running shoes under 50'.")],
    user: Annotated[
        str | None, typer.Option("--user", help="Personalise for this shopper (profile must exist).")
    ] = None,
    k: Annotated[int, typer.Option("--k", help="Results to return.")] = 10,
    offset: Annotated[int, typer.Option("--offset", help="Results to skip (paging).")] = 0,
    sort: Annotated[
        str, typer.Option("--sort", help="relevance | price_asc | price_desc | rating | newest.")
    ] = "relevance",
    store: StoreOpt = DEFAULT_STORE,
    artifacts: ArtifactsOpt = None,
    config: ConfigOpt = None,
    set_: SetOpt = None,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Search the catalogue: the confident matches (id, title, price, brand, category, score, reason), the
    weaker ones under more_results, the parsed query with each constraint's confidence, and facets.

    Needs `shelfwise build` first; uses the trained search ranker when the store has one.
    """
    _setup_logging(verbose)
    from shelfwise.search import SearchPipeline, SearchRequest
    from shelfwise.search.types import SORTS

    with _errors():
        if sort not in SORTS:
            raise CliError(f"--sort must be one of {', '.join(SORTS)}, not {sort!r}")
        if k < 1 or offset < 0:
            raise CliError("--k must be >= 1 and --offset >= 0")
        settings = _settings(store, config, set_)
        with open_store(store, create=False, artifacts=artifacts) as st:
            try:
                pipe = SearchPipeline.load(st, settings)
            except LookupError as exc:
                raise CliError(str(exc)) from None
            key = Ingestor(st, settings).user_key(user) if user else None
            key = personal_key(st, key, settings.privacy.default_consent)  # none without consent
        resp = pipe.search(SearchRequest(query=query, user_id=key, k=k, offset=offset, sort=sort))
    result = {"query": query, **resp.to_dict()}
    table = Table(
        title=f"{resp.total} confident matches; {', '.join(resp.relaxed) or 'no constraint relaxed'}"
    )
    for col in ("#", "item", "title", "score", "reason"):
        table.add_column(col)
    for n, hit in enumerate(resp.results, start=offset + 1):
        table.add_row(str(n), hit.item_id, hit.title[:60], f"{hit.score:.4f}", hit.reason)
    _emit(result, as_json, table)


@app.command("train-search")
def train_search(
    cross_encoder: Annotated[
        bool | None,
        typer.Option(
            "--cross-encoder/--no-cross-encoder",
            help="Fine-tune the cross-encoder too (default: search.pipeline.cross_encoder.enabled).",
        ),
    ] = None,
    store: StoreOpt = DEFAULT_STORE,
    artifacts: ArtifactsOpt = None,
    config: ConfigOpt = None,
    set_: SetOpt = None,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Train the learned search re-ranker on the store's relevance judgements (after `shelfwise build`)."""
    _setup_logging(verbose)
    from shelfwise.search.training import train_search_ranker

    with _errors():
        settings = _settings(store, config, set_)
        with open_store(store, create=False, artifacts=artifacts) as st:
            try:
                report = train_search_ranker(st, settings, use_cross_encoder=cross_encoder)
            except LookupError as exc:
                raise CliError(str(exc)) from None
    _emit(
        report,
        as_json,
        f"trained {report['artifact']} on {report['queries']} queries in {report['seconds']}s",
    )


@app.command()
def evaluate(
    task: Annotated[str, typer.Option("--task", help="recommend | search")] = "recommend",
    models: Annotated[
        str, typer.Option("--models", help="Comma-separated model names, e.g. popularity,als,itemknn.")
    ] = "popularity,itemknn,als",
    split: Annotated[
        str | None, typer.Option("--split", help="leave-one-out | temporal | given | by-query.")
    ] = None,
    k: Annotated[str | None, typer.Option("--k", help="Cut-offs, e.g. 5,10,20.")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Tie-break (and fold) seed.")] = None,
    folds: Annotated[int | None, typer.Option("--folds", help="By-query folds (search).")] = None,
    report: Annotated[
        Path | None,
        typer.Option(
            "--report",
            help="Folder for report.json / .md / .html (default <store>/reports/<task>; "
            "./shelfwise-reports/<task> for a URL store).",
        ),
    ] = None,
    store: StoreOpt = DEFAULT_STORE,
    artifacts: ArtifactsOpt = None,
    ray: RayOpt = None,
    config: ConfigOpt = None,
    set_: SetOpt = None,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Compare models under a published protocol; writes JSON, Markdown and an HTML report with plots.

    Defaults: leave-one-out, full ranking, history items rankable, ties broken randomly (seed 0); each model
    is fitted on train + valid for the test evaluation. Every output states the protocol it used.
    """
    _setup_logging(verbose)
    with _errors():
        overrides = list(set_ or [])
        if split is not None and split != "by-query":
            overrides.append(f"evaluation.split={split}")
        if k is not None:
            overrides.append(f"evaluation.ks=[{k}]")
        if seed is not None:
            overrides.append(f"evaluation.tie_break_seed={seed}")
        if folds is not None:
            overrides.append(f"evaluation.folds={folds}")
        settings = _settings(store, config, overrides)
        names = [m.strip() for m in models.split(",") if m.strip()]
        if task not in ("recommend", "search"):
            raise CliError(f"unknown --task {task!r}; expected recommend or search")
        with open_store(store, create=False, artifacts=artifacts) as st, _runner(ray) as runner:
            if task == "recommend":  # models x parts as jobs (Ray tasks with --ray)
                from shelfwise.evaluation.runner import run_recommend

                result = run_recommend(st, names, settings, overrides=overrides, runner=runner)
            else:
                from shelfwise.evaluation.search_runner import run_search

                result = run_search(st, names, settings, overrides=overrides)
        from shelfwise.evaluation.report import markdown, write_reports

        folder = store_folder(store)
        default_report = (folder / "reports" if folder is not None else Path("shelfwise-reports")) / task
        paths = write_reports(result, report or default_report)
        payload = {**result.to_dict(), "reports": paths}
    _emit(payload, as_json, markdown(result))
    if not as_json:
        out_console.print(f"report: {paths['html']}")


@app.command()
def train(
    store: StoreOpt = DEFAULT_STORE,
    artifacts: ArtifactsOpt = None,
    ray: RayOpt = None,
    config: ConfigOpt = None,
    set_: SetOpt = None,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Train the recommendation pipeline (sources, ranker) on every event and save it as a new version.

    What is trained is set by `recommend.*` (sources) and `rerank.*` (applied when serving).
    """
    _setup_logging(verbose)
    from shelfwise.recommend import train_recommender

    with _errors():
        settings = _settings(store, config, set_)
        with open_store(store, create=False, artifacts=artifacts) as st, _runner(ray) as runner:
            report = train_recommender(st, settings, show_progress=not as_json, runner=runner)
    _emit(
        report,
        as_json,
        f"trained {report['artifact']} v{report['version']} ({', '.join(report['sources'])}) on "
        f"{report['events']:,} events in {report['total_seconds']}s",
    )


@app.command()
def recommend(
    user_id: Annotated[
        str | None, typer.Argument(help="The shopper (omit for an anonymous shopper).")
    ] = None,
    k: Annotated[int, typer.Option("--k", help="Items to return.")] = 10,
    slot: Annotated[str, typer.Option("--slot", help="home | similar | bought_together | cart")] = "home",
    item: Annotated[
        str | None, typer.Option("--item", help="Anchor item of the similar / bought_together slots.")
    ] = None,
    cart: Annotated[
        list[str] | None, typer.Option("--cart", help="An item in the cart (repeatable).")
    ] = None,
    store: StoreOpt = DEFAULT_STORE,
    artifacts: ArtifactsOpt = None,
    config: ConfigOpt = None,
    set_: SetOpt = None,
    as_json: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Recommend items for a shopper, each with its score, sources and reason (needs `shelfwise train`)."""
    _setup_logging(verbose)
    from shelfwise.recommend import NotTrainedError, Recommender, RecommendRequest

    with _errors():
        settings = _settings(store, config, set_)
        with open_store(store, create=False, artifacts=artifacts) as st:
            try:
                rec = Recommender.load(st, settings)
            except NotTrainedError as exc:
                raise CliError(str(exc)) from None
            key = Ingestor(st, settings).user_key(user_id) if user_id else None
            key = personal_key(st, key, settings.privacy.default_consent)  # none without consent
        request = RecommendRequest(user_id=key, slot=slot, k=k, item_id=item, cart=list(cart or []))
        resp = rec.recommend(request)
    result = resp.to_dict()
    table = Table(title=f"{resp.model} v{resp.version}, slot {resp.slot}, fallback {resp.fallback or '-'}")
    for col in ("#", "item", "title", "score", "reason"):
        table.add_column(col)
    for n, it in enumerate(resp.items, start=1):
        title = rec.catalog.name(rec.catalog.index[it.item_id])
        table.add_row(str(n), it.item_id, title[:60], f"{it.score:.3f}", it.reason)
    _emit(result, as_json, table)


@app.command("config")
def config_cmd(
    store: StoreOpt = DEFAULT_STORE,
    config: ConfigOpt = None,
    set_: SetOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show the effective settings, and every key with its default and meaning."""
    with _errors():
        settings = _settings(store, config, set_)
    result = {"settings": settings.model_dump(), "overrides": set_ or []}
    table = Table(title="settings", show_header=True)
    for col in ("key", "default", "meaning"):
        table.add_column(col)
    for key, default, meaning in describe_settings():
        table.add_row(key, json.dumps(default), meaning)
    _emit(result, as_json, table)


@app.command()
def version() -> None:
    """Print the version."""
    out_console.print(__version__)


from shelfwise.cli_serving import register as _register_serving  # noqa: E402  (commands need the options above)

_register_serving(app)
from shelfwise.cli_quarantine import register as _register_quarantine  # noqa: E402

_register_quarantine(app)

from shelfwise.cli_privacy import register as _register_privacy  # noqa: E402

_register_privacy(app)

from shelfwise.cli_forget import register as _register_forget  # noqa: E402

_register_forget(app)

from shelfwise.cli_consent import register as _register_consent  # noqa: E402

_register_consent(app)

from shelfwise.cli_assistant import register as _register_assistant  # noqa: E402

_register_assistant(app)


def main() -> None:
    """Console entry point: a store error escaping a command (busy, full, ...) is one line and exit 2."""
    try:
        app()
    except StoreError as exc:
        raise SystemExit(_fail(exc).exit_code) from None


if __name__ == "__main__":  # pragma: no cover
    main()
