"""Putting an assistant together for one store, and its artifact (review evidence, threshold, FAQ adapters).

The ``assistant`` artifact (written by ``shelfwise assistant-train``) holds what the store does not keep:

* ``reviews.json``: ``item_id -> review sentences`` read from a review file, scrubbed of personal data (the
  store keeps no review text);
* ``settings.json``: the abstention threshold chosen on held-out labelled questions (when given);
* ``faq-adapter/``: LoRA adapters of the text encoder tuned on the shop's past questions (when given).

Without the artifact the assistant still works: evidence from the catalogue only, the default threshold,
the frozen search encoder for shop questions.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from shelfwise.assistant.config import AssistantSettings
from shelfwise.assistant.evidence import DEFAULT_THRESHOLD, EvidenceIndex
from shelfwise.assistant.faq import StoreFaq
from shelfwise.assistant.generative import build_phraser
from shelfwise.assistant.service import Assistant, SearchFn, SimilarFn
from shelfwise.assistant.session import SessionStore

__all__ = ["ARTIFACT", "load_assistant", "read_artifact", "store_ratings", "write_artifact"]

log = logging.getLogger(__name__)

#: Artifact name.
ARTIFACT = "assistant"


def write_artifact(
    store: Any,
    *,
    reviews: Mapping[str, list[str]],
    threshold: float | None = None,
    tower: Any = None,
    report: Mapping[str, Any] | None = None,
) -> int:
    """Write a new version of the assistant artifact; returns its version."""
    config = {"threshold": threshold, "adapter": tower is not None}
    with store.artifacts.writer(ARTIFACT, config=config, report=dict(report or {})) as folder:
        (folder / "reviews.json").write_text(json.dumps(reviews), encoding="utf-8")
        (folder / "settings.json").write_text(json.dumps({"threshold": threshold}), encoding="utf-8")
        if tower is not None:
            tower.save_adapter(folder / "faq-adapter")
    return store.artifacts.latest(ARTIFACT).version


def read_artifact(store: Any) -> tuple[dict[str, list[str]], float | None, Path | None]:
    """``(reviews, threshold, adapter folder)`` of the latest artifact (empty ones without it)."""
    from shelfwise.storage.artifacts import ArtifactNotFoundError

    try:
        art = store.artifacts.latest(ARTIFACT)
    except ArtifactNotFoundError:
        return {}, None, None
    reviews = json.loads((art.path / "reviews.json").read_text(encoding="utf-8"))
    threshold = json.loads((art.path / "settings.json").read_text(encoding="utf-8")).get("threshold")
    adapter = art.path / "faq-adapter"
    return reviews, threshold, adapter if adapter.is_dir() else None


def store_ratings(store: Any) -> dict[str, tuple[float, int]]:
    """``item_id -> (mean, count)`` of the store's rating and review events with a value."""
    table = store.read_events(["item_id", "value"], types=["rating", "review"])
    sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for item, value in zip(table.column("item_id").to_pylist(), table.column("value").to_pylist(), strict=True):
        if value is not None:
            sums[item][0] += float(value)
            sums[item][1] += 1
    return {i: (s / n, int(n)) for i, (s, n) in sums.items() if n}


def _rows(store: Any) -> dict[str, dict[str, Any]]:
    table = store.read_items(["item_id", "title", "description", "attributes"])
    return {r["item_id"]: r for r in table.to_pylist()}


def faq_encoder(adapter: Path | None, fallback: Any) -> Any:
    """The LoRA-tuned question encoder when adapters exist (and torch is installed), else ``fallback``."""
    if adapter is None:
        return fallback
    try:
        from shelfwise.assistant.tune import TowerQuestions
        from shelfwise.models.finetune import FinetuneConfig, TextTower

        return TowerQuestions(TextTower(FinetuneConfig(train=False), adapter_dir=adapter))
    except Exception as exc:  # an optional extra missing must not stop the assistant
        log.warning("tuned question encoder not loaded (%s); using the search encoder", exc)
        return fallback


def load_assistant(
    store: Any,
    settings: AssistantSettings,
    pipeline: Any,
    sessions: SessionStore,
    search: SearchFn | None = None,
    personalise: Callable[[str | None], bool] | None = None,
    similar: SimilarFn | None = None,
) -> Assistant:
    """An :class:`Assistant` over ``store`` and a loaded search pipeline.

    Args:
        store: the shop's store (catalogue rows, ratings, Q&A, artifact).
        settings: ``[assistant]``.
        pipeline: a loaded :class:`~shelfwise.search.SearchPipeline`.
        sessions: where conversations live.
        search: how to run a search (default: ``pipeline.search``, no impression log).
        personalise: consent check for personalisation.
        similar: the recommender's similar items (for "more like #n"; None: search alone).
    """
    reviews, threshold, adapter = read_artifact(store)
    rows = _rows(store)
    encoder = pipeline.retriever.encoder
    chosen = settings.evidence_threshold if settings.evidence_threshold is not None else threshold
    evidence = EvidenceIndex(rows.get, reviews, encoder, chosen if chosen is not None else DEFAULT_THRESHOLD)
    faq = StoreFaq(store, faq_encoder(adapter, encoder), settings.faq_threshold)
    run = search or (lambda req: (pipeline.search(req), None))
    return Assistant(
        search=run,
        catalog=pipeline.catalog,
        parse=pipeline.parse,
        evidence=evidence,
        faq=faq,
        sessions=sessions,
        settings=settings,
        ratings=store_ratings(store),
        phraser=build_phraser(settings.generative),
        personalise=personalise,
        similar=similar,
    )
