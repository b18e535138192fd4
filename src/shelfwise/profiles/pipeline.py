"""Profiles of a stored shop: build them all (``shelfwise train``/``profile --rebuild``) or open them for serving.

The item vectors come from the ``item-vectors`` artifact of ``shelfwise build`` when it exists (interest
vectors need them); without it, profiles still hold affinities, price bands, funnel stats and segments.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import numpy as np

from shelfwise.config import Settings
from shelfwise.profiles.catalog import ItemCatalog
from shelfwise.profiles.service import ProfileService
from shelfwise.storage import ArtifactNotFoundError, Store

log = logging.getLogger(__name__)


def profile_catalog(store: Store) -> ItemCatalog:
    """Item facts for profiles, with the built item vectors when there are any."""
    items = store.read_items(["item_id", "title", "category", "brand", "price"])
    event_items = store.read_events(["item_id"]).column("item_id").unique().drop_null().to_pylist()
    known = set(items.column("item_id").to_pylist())
    extra = [i for i in event_items if i not in known]
    try:
        art = store.artifacts.latest("item-vectors")
        vectors = np.load(art.path / "vectors.npy")
        ids = json.loads((art.path / "ids.json").read_text())
        return ItemCatalog.from_items(items, vectors, ids, extra_item_ids=extra)
    except ArtifactNotFoundError:
        log.info("no item-vectors artifact (run `shelfwise build`): profiles will have no interest vectors")
        return ItemCatalog.from_items(items, extra_item_ids=extra)


def consent_gates(svc: ProfileService, store: Store, settings: Settings, book: Any = None) -> ProfileService:
    """Honour consent (:mod:`shelfwise.privacy.consent`): profiles only for shoppers who allow
    personalisation, segments learned only from those who allow training. ``book``: a live
    :class:`~shelfwise.privacy.consent.ConsentBook` (default: one read from the store now)."""
    from shelfwise.privacy.consent import ConsentBook

    book = book or ConsentBook.from_store(store, settings.privacy.default_consent)
    svc.personalise = book.gate("personalisation")
    svc.trainable = book.gate("training")
    return svc


def build_profiles(store: Store, settings: Settings) -> dict[str, Any]:
    """Rebuild every profile from the store's events, fit segments, persist both; returns a report."""
    t0 = time.perf_counter()
    svc = consent_gates(ProfileService(profile_catalog(store), settings.profiles), store, settings)
    n = svc.rebuild_from_store(store)
    build_s = time.perf_counter() - t0
    segments: dict[str, Any] = {"k": 0}
    if n >= 20:
        svc.fit_segments()
        segments = svc.segments_json()
    written = svc.flush(store, with_snapshot=True)
    models = svc.save_models(store)
    return {
        "users": n,
        "written": written,
        "models": models,
        "segments": segments.get("k", 0),
        "build_seconds": round(build_s, 2),
        "seconds": round(time.perf_counter() - t0, 2),
    }


def open_profiles(store: Store, settings: Settings, consent: Any = None) -> ProfileService:
    """The profile service of a store: persisted states and models, built first when there are none,
    caught up with the events stored after the last flush (``consent``: see :func:`consent_gates`)."""
    svc = consent_gates(ProfileService(profile_catalog(store), settings.profiles), store, settings, consent)
    if svc.load(store) == 0:
        build_profiles(store, settings)
        svc.load(store)
    svc.load_models(store)
    svc.catch_up(store)
    return svc


def load_profiles(store: Store, settings: Settings, *, until_seq: int | None = None) -> ProfileService:
    """Persisted profiles and models (nothing is built), caught up with the events stored after the last
    flush (up to ``until_seq`` when given): what search personalisation opens."""
    svc = consent_gates(ProfileService(profile_catalog(store), settings.profiles), store, settings)
    svc.load(store)
    svc.load_models(store)
    svc.catch_up(store, until_seq)
    return svc
