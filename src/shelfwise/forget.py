"""Forgetting a shopper everywhere, with a receipt: the store, its files on disk, trained artifacts, online state.

One function for the two ways a deletion arrives: ``DELETE /v1/users/{id}`` (the service forgets the shopper in
its live state too, and other processes learn it from the store's deletion log) and ``shelfwise forget USER_ID``
(no service needed; a running service learns it from the deletion log within ``api.follow_seconds``).

The receipt says what was removed from where and when:

* ``store``: rows removed per table (events, user, profile, impressions, split rows, quarantined rows), in one
  transaction, and the deletion log entry (a keyed digest, never the id);
* ``erasure``: whether the deleted bytes have already left the database files, or the latest time they will
  (the store's ``erase_delay``; a crash before then completes the erasure on the next open);
* ``artifacts``: per recommender artifact version, the files rewritten, the models updated without a retrain
  and those marked ``needs_retrain`` with the reason;
* ``online_state``: what the answering process dropped (live profile, histories, buffered impressions, cached
  responses); other processes drop theirs when they follow the deletion log;
* ``logs``: the access log records route templates only, never ids or query text.

A copy without the id (with the digest instead) is kept in the store's metadata (``deletion.receipts``), so a
shop can show an auditor every deletion without keeping whom it was about.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

log = logging.getLogger(__name__)

RECEIPTS_KEY = "deletion.receipts"
MAX_RECEIPTS = 10_000
ACCESS_LOG_NOTE = "the access log records route templates, status and timing only: no ids, no query text"


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


def forget_shopper(
    store: Any,
    user_key: str,
    *,
    raw_user_id: str | None = None,
    live: Callable[[str], dict[str, Any]] | None = None,
    erase_now: bool = False,
) -> dict[str, Any]:
    """Delete ``user_key`` (the id the store keeps) from the store and every artifact; returns the receipt.

    Args:
        store: the shop's store.
        user_key: the stored (possibly pseudonymous) user id.
        raw_user_id: the id as the shop knows it (matched in quarantined raw lines; echoed in the receipt
            returned to the caller, never stored).
        live: the serving process's "forget in live state" hook; returns what it dropped, with the
            pipelines' reports under ``"pipelines"`` (their artifact rewrites included).
        erase_now: rewrite the store's files before returning (``shelfwise forget`` does; the service leaves
            it to the store's bounded erasure delay so a burst of deletions costs one rewrite).
    """
    requested = time.time()
    raw_ids = [raw_user_id] if raw_user_id and raw_user_id != user_key else []
    report = store.delete_user(user_key, raw_ids=raw_ids)
    deletion_seq = int(store.deletion_seq())
    online: dict[str, Any] = live(user_key) if live is not None else {}
    artifacts: dict[str, Any] = dict(online.pop("pipelines", None) or {})
    if "recommender" not in artifacts:  # no live recommender here: rewrite its artifacts on disk
        artifacts.update(_forget_in_artifacts(store, user_key, deletion_seq))
    erasure: dict[str, Any]
    if erase_now:
        done = store.erase_deleted()
        erasure = {"status": "done", "at": _iso(time.time()), **_public(done)}
    else:
        delay = getattr(store, "erase_delay", None)
        if delay is None:  # a backend without a bounded delay (PostgreSQL): the next erase_deleted() does it
            erasure = {"status": "pending", "no_later_than": None, "when": "at the next erase_deleted()"}
        else:
            erasure = {
                "status": "pending",
                "no_later_than": _iso(requested + float(delay)),
                "delay_seconds": float(delay),
            }
    receipt = {
        "receipt_id": uuid.uuid4().hex,
        "user_digest": store.user_digest(user_key),
        "requested_at": _iso(requested),
        "completed_at": _iso(time.time()),
        "deleted": any(report.removed.values()) or _found_in_artifacts(artifacts) or any(online.values()),
        "store": {"removed": dict(report.removed), "deletion_seq": deletion_seq},
        "erasure": erasure,
        "artifacts": artifacts,
        "online_state": online,
        "logs": ACCESS_LOG_NOTE,
    }
    _keep(store, receipt)
    log.info("forgot a shopper: %s", {k: v for k, v in receipt["store"]["removed"].items() if v})
    return {**receipt, "user_id": raw_user_id or user_key}


def receipts(store: Any) -> list[dict[str, Any]]:
    """Every stored receipt (no ids), oldest first."""
    return list(store.get_meta(RECEIPTS_KEY, []) or [])


def _keep(store: Any, receipt: dict[str, Any]) -> None:
    kept = [*receipts(store), receipt][-MAX_RECEIPTS:]
    store.set_meta(RECEIPTS_KEY, kept)


def _public(report: Any) -> dict[str, Any]:
    fields = getattr(report, "__dataclass_fields__", None)
    return {f: getattr(report, f) for f in fields} if fields else {}


def _found_in_artifacts(artifacts: dict[str, Any]) -> bool:
    """Whether any recommender version, or a pipeline's live copy, held the shopper."""
    versions = artifacts.get("recommender", [])
    return (
        any(v.get("user_found") for v in versions if isinstance(v, dict))
        or bool(artifacts.get("recommender_live"))
        or bool(artifacts.get("search", {}).get("profile"))
    )


def _forget_in_artifacts(store: Any, user_key: str, deletion_seq: int) -> dict[str, Any]:
    try:
        from shelfwise.recommend.forget import forget_in_artifacts
    except ModuleNotFoundError:  # the recommend extra is not installed: nothing was trained
        return {}
    try:
        return {"recommender": forget_in_artifacts(store.artifacts, user_key, deletion_seq)}
    except FileNotFoundError:
        return {"recommender": []}
