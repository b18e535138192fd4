"""Forgetting a shopper in the recommender artifact on disk (``artifacts/recommender/vNNNN/``).

What each file holds about a shopper and what forgetting does to it:

==========================  =====================================================================
file / model                what happens
==========================  =====================================================================
``user_ids.npy``            the shopper's id becomes ``""`` (a tombstone: every per-user array
                            keeps its row order, so nothing else has to be re-indexed)
``history_offsets.npy`` /   the shopper's item rows are removed (their offsets span nothing)
``history_items.npy``
``state/state.npz``         their funnel rows are removed, totals / last item cleared; their
                            per-item and per-category counts and item-to-next-item transitions
                            are subtracted (first / last times, ratings and the decayed trend
                            cannot be: ``needs_retrain``)
``item2item`` source        their co-occurring pairs and occurrences are subtracted from the raw
                            counts and the neighbours re-derived (exact; artifacts trained before
                            raw counts were kept: ``needs_retrain``)
``popular`` source          their weighted events are subtracted from the item scores (exact)
``als`` source              their user-factor row is zeroed; the item factors learned from them
                            cannot be unlearned: ``needs_retrain``
anything else, the ranker   cannot be unlearned: ``needs_retrain`` with the reason
==========================  =====================================================================

Every changed file is written beside its target and moved into place with ``os.replace``; the manifest
(checksums, ``needs_retrain``, reasons, ``deletion_seq``) is replaced last. No user id is ever written
into a report or a manifest.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from shelfwise.data.schema import EVENT_WEIGHTS
from shelfwise.ranking.events import TYPES
from shelfwise.retrieval.cf import ALSSource
from shelfwise.retrieval.item2item import CoOccurrenceSource
from shelfwise.retrieval.popular import PopularSource
from shelfwise.storage import Artifact, ArtifactStore
from shelfwise.storage.artifacts import file_sha256

__all__ = [
    "digest_function",
    "forget_in_artifacts",
    "forget_in_version",
    "record_deletion_cursor",
    "stored_user_ids",
]

log = logging.getLogger(__name__)

ARTIFACT_NAME = "recommender"  # = artifact.ARTIFACT_NAME (not imported: artifact imports the sources)


def _atomic(path: Path, write: Callable[[Path], None]) -> None:
    """Write ``path`` through ``write(tmp)`` into a sibling temporary file, then ``os.replace`` it."""
    fd, name = tempfile.mkstemp(prefix=".tmp-", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _save_npy(path: Path, array: np.ndarray) -> None:
    def write(tmp: Path) -> None:
        with tmp.open("wb") as fh:
            np.save(fh, array, allow_pickle=False)

    _atomic(path, write)


def _write_manifest(art: Artifact, update: dict[str, Any]) -> None:
    manifest = dict(art.manifest)
    files = {rel: file_sha256(art.path / rel) for rel in manifest.get("files", {}) if (art.path / rel).exists()}
    manifest.update(update, files=files)
    text = json.dumps(manifest, indent=2, default=str)

    def write(tmp: Path) -> None:
        tmp.write_text(text)

    _atomic(art.path / "manifest.json", write)


def digest_function(store: Any) -> Callable[[str], str]:
    """``store.user_digest`` for many ids: the salt is read once (checked against the store on a probe id);
    the store's own method is returned when the check fails."""
    salt = store.get_meta("deletion_salt")
    if salt is None:
        return store.user_digest

    def digest(user_id: str) -> str:
        return hashlib.sha256(f"{salt}:{user_id}".encode()).hexdigest()

    probe = "shelfwise-digest-probe"
    return digest if digest(probe) == store.user_digest(probe) else store.user_digest


def stored_user_ids(artifacts: ArtifactStore) -> list[str]:
    """User ids held by any version of the recommender artifact (tombstones left out)."""
    out: dict[str, None] = {}
    for version in artifacts.versions(ARTIFACT_NAME):
        path = artifacts.get(ARTIFACT_NAME, version).path / "user_ids.npy"
        if path.exists():
            out.update(dict.fromkeys(u for u in np.load(path, allow_pickle=False).tolist() if u))
    return list(out)


def record_deletion_cursor(artifacts: ArtifactStore, deletion_seq: int) -> None:
    """Record in every version's manifest that deletions up to ``deletion_seq`` are applied to it."""
    for version in artifacts.versions(ARTIFACT_NAME):
        art = artifacts.get(ARTIFACT_NAME, version)
        if int(art.manifest.get("deletion_seq", 0)) < deletion_seq:
            _write_manifest(art, {"deletion_seq": int(deletion_seq)})


def forget_in_artifacts(
    artifacts: ArtifactStore, user_id: str, deletion_seq: int | None = None
) -> list[dict[str, Any]]:
    """:func:`forget_in_version` on every version of the recommender artifact (newest first)."""
    out = []
    for version in reversed(artifacts.versions(ARTIFACT_NAME)):
        out.append(forget_in_version(artifacts.get(ARTIFACT_NAME, version), user_id, deletion_seq))
    return out


def forget_in_version(art: Artifact, user_id: str, deletion_seq: int | None = None) -> dict[str, Any]:
    """Remove one shopper from one artifact version (see the module table).

    Returns:
        ``{"version", "user_found", "files", "sources_updated", "needs_retrain", "reasons"}``.
    """
    folder = art.path
    ids = np.load(folder / "user_ids.npy", allow_pickle=False)
    hits = np.flatnonzero(ids == user_id)
    report: dict[str, Any] = {
        "version": art.version,
        "user_found": bool(hits.size),
        "files": [],
        "sources_updated": [],
        "needs_retrain": bool(art.manifest.get("needs_retrain", False)),
        "reasons": list(art.manifest.get("needs_retrain_reasons", [])),
    }
    if not hits.size:
        if deletion_seq is not None and int(art.manifest.get("deletion_seq", 0)) < deletion_seq:
            _write_manifest(art, {"deletion_seq": int(deletion_seq)})
        return report
    u = int(hits[0])
    reasons: list[str] = []
    changed: list[str] = []
    offsets = np.load(folder / "history_offsets.npy", allow_pickle=False)
    flat = np.load(folder / "history_items.npy", allow_pickle=False)
    lo, hi = int(offsets[u]), int(offsets[u + 1])
    history = flat[lo:hi].astype(np.int32)
    funnel_items, funnel_counts = _forget_state(folder / "state", u, history, reasons, changed)
    for source_dir in sorted((folder / "sources").iterdir()):
        _forget_source(source_dir, u, history, funnel_items, funnel_counts, reasons, report, changed)
    reasons.append("ranker: its trees were fitted on requests that may include the shopper's")
    new_ids = ids.astype(object)
    new_ids[u] = ""
    _save_npy(folder / "user_ids.npy", np.asarray(new_ids.tolist(), dtype=str))
    new_offsets = offsets.copy()
    new_offsets[u + 1 :] -= hi - lo
    _save_npy(folder / "history_items.npy", np.concatenate([flat[:lo], flat[hi:]]).astype(flat.dtype))
    _save_npy(folder / "history_offsets.npy", new_offsets)
    changed += ["user_ids.npy", "history_items.npy", "history_offsets.npy"]
    all_reasons = list(dict.fromkeys(report["reasons"] + reasons))
    update: dict[str, Any] = {
        "needs_retrain": bool(all_reasons),
        "needs_retrain_reasons": all_reasons,
        "forgotten_users": int(art.manifest.get("forgotten_users", 0)) + 1,
    }
    if deletion_seq is not None:
        update["deletion_seq"] = max(int(deletion_seq), int(art.manifest.get("deletion_seq", 0)))
    _write_manifest(art, update)
    report.update(files=sorted(set(changed)), needs_retrain=bool(all_reasons), reasons=all_reasons)
    log.info("forgot a shopper in recommender v%d: %d files rewritten", art.version, len(set(changed)))
    return report


def _forget_state(
    folder: Path, u: int, history: np.ndarray, reasons: list[str], changed: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Remove user ``u`` from ``state.npz``; returns their funnel rows (items, counts by type)."""
    path = folder / "state.npz"
    with np.load(path, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    ptr = arrays["funnel_indptr"].astype(np.int64)
    lo, hi = int(ptr[u]), int(ptr[u + 1])
    items = arrays["funnel_items"][lo:hi].astype(np.int64)
    counts = arrays["funnel_counts"][lo:hi].astype(np.float32)
    for key in ("funnel_items", "funnel_counts", "funnel_first", "funnel_last"):
        arrays[key] = np.concatenate([arrays[key][:lo], arrays[key][hi:]])
    ptr[u + 1 :] -= hi - lo
    arrays["funnel_indptr"] = ptr
    arrays["funnel_user_counts"] = arrays["funnel_user_counts"].copy()
    arrays["funnel_user_counts"][u] = 0.0
    arrays["funnel_user_last"] = arrays["funnel_user_last"].copy()
    arrays["funnel_user_last"][u] = np.nan
    if u < arrays["trans_last_item"].size:
        arrays["trans_last_item"] = arrays["trans_last_item"].copy()
        arrays["trans_last_item"][u] = -1
    if items.size:  # per-item and per-category event counts
        arrays["items_counts"] = arrays["items_counts"].copy()
        np.subtract.at(arrays["items_counts"], items, counts)
        arrays["items_totals"] = arrays["items_totals"] - counts.sum(axis=0)
        cat = arrays["attr_category"][items]
        has = cat >= 0
        arrays["items_category_counts"] = arrays["items_category_counts"].copy()
        np.subtract.at(arrays["items_category_counts"], cat[has].astype(np.int64), counts[has])
        for key in ("items_counts", "items_totals", "items_category_counts"):
            arrays[key] = np.maximum(arrays[key], 0)
    _forget_transitions(arrays, history)
    reasons.append("feature state: item first/last times, ratings and the decayed trend still include them")

    def write(tmp: Path) -> None:
        with tmp.open("wb") as fh:
            np.savez(fh, allow_pickle=False, **arrays)

    _atomic(path, write)
    changed.append("state/state.npz")
    return items, counts


def _forget_transitions(arrays: dict[str, np.ndarray], history: np.ndarray) -> None:
    """Subtract the shopper's item-to-next-item steps (their event stream is their history)."""
    n = int(arrays["trans_out_degree"].size)
    prev, nxt = history[:-1].astype(np.int64), history[1:].astype(np.int64)
    step = (prev != nxt) & (prev >= 0) & (nxt >= 0) & (prev < n) & (nxt < n)
    if not step.any():
        return
    prev, nxt = prev[step], nxt[step]
    m = sp.csr_matrix(
        (arrays["trans_data"], arrays["trans_indices"], arrays["trans_indptr"]),
        shape=(n, n),
        dtype=np.float32,
    )
    mine = sp.csr_matrix((np.ones(prev.size, np.float32), (prev, nxt)), shape=(n, n))
    m = sp.csr_matrix(m - mine, dtype=np.float32)
    m.data = np.maximum(m.data, 0.0)
    m.eliminate_zeros()
    m.sort_indices()
    arrays["trans_indptr"], arrays["trans_indices"], arrays["trans_data"] = m.indptr, m.indices, m.data
    arrays["trans_out_degree"] = np.maximum(
        arrays["trans_out_degree"] - np.bincount(prev, minlength=n).astype(np.float32), 0
    )
    arrays["trans_in_degree"] = np.maximum(
        arrays["trans_in_degree"] - np.bincount(nxt, minlength=n).astype(np.float32), 0
    )


def _forget_source(
    folder: Path,
    u: int,
    history: np.ndarray,
    funnel_items: np.ndarray,
    funnel_counts: np.ndarray,
    reasons: list[str],
    report: dict[str, Any],
    changed: list[str],
) -> None:
    meta = json.loads((folder / "source.json").read_text())
    name, kind = meta["name"], meta["class"]
    source: Any
    if kind == "CoOccurrenceSource":
        source = CoOccurrenceSource.load(folder)
        if not source.can_forget():
            reasons.append(f"{name}: keeps no raw co-occurrence counts to subtract from")
            return
        source.forget_sequence(history)
    elif kind == "PopularSource":
        source = PopularSource.load(folder)
        weights = np.array(
            [EVENT_WEIGHTS.get(t, 1.0) if source.config.event_weights else 1.0 for t in TYPES], np.float32
        )
        scores = source.scores.copy()
        inside = funnel_items < scores.size
        np.subtract.at(scores, funnel_items[inside], funnel_counts[inside] @ weights)
        source.scores = np.maximum(scores, 0.0).astype(np.float32)
    elif kind == "ALSSource":
        source = ALSSource.load(folder)
        if source.user_factors is not None and u < source.user_factors.shape[0]:
            factors = np.array(source.user_factors, copy=True)
            factors[u] = 0.0
            source.set_factors(factors, source.item_factors)
        reasons.append(f"{name}: item factors were learned from the shopper's events")
    else:
        reasons.append(f"{name}: a {kind} cannot unlearn one shopper")
        return
    with tempfile.TemporaryDirectory(prefix=".tmp-", dir=folder.parent) as tmp:
        source.save(Path(tmp))
        for path in sorted(Path(tmp).iterdir()):
            os.replace(path, folder / path.name)
            changed.append(f"sources/{name}/{path.name}")
    report["sources_updated"].append(name)
