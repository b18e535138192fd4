"""``shelfwise assistant MESSAGE`` (one turn of a conversation) and ``shelfwise assistant-train`` (review
evidence, the abstention threshold and LoRA tuning of shop questions into the ``assistant`` artifact)."""


import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer


def _records(path: Path) -> Iterator[dict[str, Any]]:
    """JSON lines (``.jsonl`` / ``.json`` / ``.gz``) or CSV records."""
    if path.suffix == ".csv":
        import csv

        with path.open(encoding="utf-8", newline="") as f:
            yield from csv.DictReader(f)
        return
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def _human(reply: dict[str, Any]) -> str:
    lines = [reply["reply"]]
    for c in reply["citations"]:
        lines.append(f"  [{c['id']}] {c['source']} {c.get('ref') or ''}: {c['text'][:120]}")
    lines.append(f"constraints: {json.dumps(reply['constraints'])}")
    if reply["handoff"]:
        lines.append(f"HAND-OFF: {reply['summary']}")
    return "\n".join(lines)


def register(app: typer.Typer) -> None:
    """Add ``assistant`` and ``assistant-train`` to the main CLI."""
    from shelfwise import cli

    @app.command()
    def assistant(
        message: Annotated[str, typer.Argument(help="What the shopper writes.")],
        session: Annotated[
            str, typer.Option("--session", help="Conversation id: the same id refines the last turn.")
        ] = "cli",
        user_id: Annotated[str | None, typer.Option("--user", help="The shop's id of the shopper.")] = None,
        store: cli.StoreOpt = cli.DEFAULT_STORE,
        config: cli.ConfigOpt = None,
        set_: cli.SetOpt = None,
        as_json: cli.JsonOpt = False,
    ) -> None:
        """One turn of the shopping assistant: find and refine products, answer questions from evidence,
        shop questions from the Q&A, hand off complaints. The conversation is kept in the store for
        assistant.session_ttl seconds."""
        from shelfwise.assistant.build import load_assistant
        from shelfwise.assistant.session import MetaSessions
        from shelfwise.search import SearchPipeline
        from shelfwise.storage import open_store

        with cli._errors():
            if not message.strip() or len(message) > 1000:
                raise cli.CliError("MESSAGE must be 1-1000 characters")
            if not session.strip() or len(session) > 128:
                raise cli.CliError("--session must be 1-128 characters")
            settings = cli._settings(store, config, set_)
            with open_store(store, create=False) as st:
                try:
                    pipeline = SearchPipeline.load(st, settings)
                except LookupError as exc:
                    raise cli.CliError(f"search is not built ({exc}); run `shelfwise build --store DIR`") from None
                bot = load_assistant(st, settings.assistant, pipeline, MetaSessions(st, settings.assistant.session_ttl))
                result = bot.turn(session, message, user_id).to_dict()
        cli._emit(result, as_json, _human(result))

    @app.command("assistant-train")
    def assistant_train(
        reviews: Annotated[
            Path | None,
            typer.Option("--reviews", help="Review records (JSON lines, .gz ok, or CSV): asin/item_id, summary, "
                         "reviewText/text. Kept as evidence sentences, scrubbed of personal data."),
        ] = None,
        questions: Annotated[
            Path | None,
            typer.Option("--questions", help="Past shop questions (CSV or JSON lines: question, faq_id) to tune "
                         "the encoder on with LoRA."),
        ] = None,
        labels: Annotated[
            Path | None,
            typer.Option("--labels", help="Labelled product questions (JSON lines: item_id, question, "
                         "answerable) to choose the abstention threshold on."),
        ] = None,
        store: cli.StoreOpt = cli.DEFAULT_STORE,
        config: cli.ConfigOpt = None,
        set_: cli.SetOpt = None,
        as_json: cli.JsonOpt = False,
    ) -> None:
        """Build the assistant artifact: review evidence, the abstention threshold chosen on labelled
        questions, and LoRA adapters tuned on past shop questions (with frozen vs tuned top-1)."""
        from shelfwise.assistant.build import read_artifact, write_artifact
        from shelfwise.assistant.evidence import EvidenceIndex, choose_threshold, review_sentences
        from shelfwise.assistant.faq import META_KEY
        from shelfwise.privacy.pii import scrub
        from shelfwise.search import SearchPipeline
        from shelfwise.storage import open_store

        with cli._errors():
            settings = cli._settings(store, config, set_)
            report: dict[str, Any] = {}
            with open_store(store, create=False) as st:
                old_reviews, threshold, _ = read_artifact(st)
                kept = review_sentences(_records(reviews), lambda t: scrub(t).text) if reviews else old_reviews
                report["review_items"] = len(kept)
                report["review_sentences"] = sum(len(v) for v in kept.values())
                if labels:
                    pipeline = SearchPipeline.load(st, settings)
                    rows = {r["item_id"]: r for r in st.read_items(["item_id", "title", "description",
                                                                    "attributes"]).to_pylist()}
                    index = EvidenceIndex(rows.get, kept, pipeline.retriever.encoder)
                    labelled = list(_records(labels))
                    scores = [index.answer(str(r["item_id"]), str(r["question"]), 1).score for r in labelled]
                    threshold = choose_threshold(scores, [bool(r["answerable"]) for r in labelled])
                    report["threshold"] = threshold
                    report["labelled_questions"] = len(labelled)
                tower = None
                if questions:
                    from shelfwise.assistant.tune import train_faq_tower

                    entries = st.get_meta(META_KEY) or []
                    if not entries:
                        raise cli.CliError("no shop Q&A in the store: `shelfwise ingest FILE --kind faq` first")
                    pairs = [(str(r["question"]), str(r["faq_id"])) for r in _records(questions)]
                    tower, tuned = train_faq_tower(entries, pairs)
                    report["tuning"] = tuned.as_dict()
                version = write_artifact(st, reviews=kept, threshold=threshold, tower=tower, report=report)
            report["version"] = version
        cli._emit(report, as_json, f"assistant artifact v{version}: {json.dumps(report)[:400]}")


def ingest_faq(store: str, files: list[Path]) -> dict[str, Any]:
    """``shelfwise ingest FILE --kind faq``: validate the Q&A files and store them as the shop's Q&A list."""
    from shelfwise.assistant.faq import load_faq_file, save_faq
    from shelfwise.storage import open_store

    entries = [e for path in files for e in load_faq_file(path)]
    with open_store(store) as st:
        n = save_faq(st, entries)
    return {"kind": "faq", "entries": n, "files": [str(p) for p in files]}
