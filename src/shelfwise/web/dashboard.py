"""The admin dashboard: catalogue and event stats, service latency, segments, one shopper's profile,
experiments with per-arm confidence-interval charts, and the latest evaluation report.

Read-only: every figure comes from the app's own objects (store, profiles, experiments, metrics). Every page
here needs an admin sign-in (:func:`~shelfwise.web.session.require_admin` on the router): without one, a 303
to ``/admin/sign-in`` and no shopper data.
"""

from __future__ import annotations

import logging
import statistics
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from shelfwise.privacy.consent import consented_counts
from shelfwise.web.backend import user_key
from shelfwise.web.charts import Bar, bar_chart
from shelfwise.web.experiments_view import experiments_view
from shelfwise.web.pages import catalog, render
from shelfwise.web.reports import latest_report, latest_report_html
from shelfwise.web.service_stats import service_rows
from shelfwise.web.session import require_admin
from shelfwise.web.shoppers import current_shopper

__all__ = ["router"]

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False, dependencies=[Depends(require_admin)])

#: The evaluation report is a page of its own making (inline styles, embedded figures): no scripts, no
#: network, no framing.
REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox; frame-ancestors 'none'"

RECENT_EVENTS = 8


def _stats(request: Request) -> list[dict[str, str]]:
    settings = request.app.state.settings  # shoppers without analytics or training consent are not counted
    counts = consented_counts(request.app.state.store, default=settings.privacy.default_consent)
    items = list(catalog(request).items().values())
    prices = [i.price for i in items if i.price is not None]
    out = [
        ("products", counts.get("items", 0)),
        ("in stock", sum(1 for i in items if i.available)),
        ("brands", len({i.brand for i in items if i.brand})),
        ("categories", len({i.category for i in items if i.category})),
        ("shoppers", counts.get("users", 0)),
        ("events", counts.get("events", 0)),
    ]
    out += [
        (f"{k[len('events_') :]} events", v) for k, v in sorted(counts.items()) if k.startswith("events_")
    ]
    out += [
        ("impressions logged", counts.get("impressions", 0)),
        ("quarantined rows", counts.get("quarantined", 0)),
    ]
    rows = [{"label": label, "value": f"{value:,}"} for label, value in out]
    if prices:
        rows.insert(4, {"label": "median price", "value": f"${statistics.median(prices):,.2f}"})
    return rows


def _service(request: Request) -> dict[str, Any]:
    metrics = getattr(request.app.state, "metrics", None)
    if metrics is None:
        return {"rows": [], "note": "This app has no metrics registry (app.state.metrics)."}
    rows, uptime = service_rows(metrics)
    note = (
        f"Since the process started {uptime / 60:.1f} minutes ago; req/s = requests / uptime."
        if uptime
        else None
    )
    if not rows:
        note = "No requests measured yet."
    bars = [Bar(r["route"], r["p95_ms"]) for r in rows[:8] if r["p95_ms"] is not None]
    chart = bar_chart("p95 latency by route", bars, unit="ms") if bars else None
    return {"rows": rows, "note": note, "chart": chart}


def _when(ts: Any) -> str:
    if isinstance(ts, datetime):
        return ts.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
    if isinstance(ts, int | float):
        return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M")
    return str(ts or "")


def _profile(request: Request, user_id: str) -> dict[str, Any] | None:
    state = request.app.state
    profiles = getattr(state, "profiles", None)
    if profiles is None or not user_id:
        return None
    key = user_key(state, user_id)
    data = {**profiles.profile_json(key), "user_id": user_id}
    events = state.store.read_events(["item_id", "type", "timestamp"], user_ids=[key]).to_pylist()
    cat = catalog(request)
    recent = []
    for e in reversed(events[-RECENT_EVENTS:]):
        item = cat.get(e["item_id"]) if e["item_id"] else None
        recent.append(
            {
                "when": _when(e["timestamp"]),
                "type": e["type"],
                "item_id": e["item_id"] or "",
                "title": item.title
                if item
                else (f"{e['item_id']} (not in the catalogue)" if e["item_id"] else "(search)"),
                # an item the catalogue does not hold has no page: plain text, not a link to nowhere
                "url": request.url_for("web_product", item_id=e["item_id"]).path if item else None,
            }
        )
    interests = data.get("interests") or {}
    return {
        **data,
        "categories": [
            {"name": c["name"].split(" > ")[-1], "share": c["share"]}
            for c in interests.get("categories", [])[:6]
        ],
        "brands": interests.get("brands", [])[:6],
        "recent": recent,
    }


@router.get("/admin", name="web_dashboard", response_class=HTMLResponse)
def dashboard(request: Request, user: Annotated[str | None, Query(max_length=100)] = None) -> HTMLResponse:
    """The dashboard; ``?user=ID`` shows that shopper's profile (default: the shopper this browser shops as,
    a picked demo shopper or an anonymous visitor once they have events)."""
    shopper = current_shopper(request)
    state = request.app.state
    profiles = getattr(state, "profiles", None)
    own = shopper.known or (profiles is not None and user_key(state, shopper.user_id) in profiles.states)
    user_id = (user or "").strip() or (shopper.user_id if own else "")
    notices = []
    if profiles is not None and user_id and user_key(state, user_id) not in profiles.states:
        notices.append(f"No events from shopper {user_id!r} yet: showing a cold-start profile.")
    segments = (
        profiles.segments_json() if profiles is not None else {"segments": [], "note": "No profile service."}
    )
    return render(
        request,
        "dashboard.html",
        shopper,
        section="admin",
        notices=notices,
        stats=_stats(request),
        service=_service(request),
        segments=segments,
        profile=_profile(request, user_id),
        experiments=experiments_view(state),
        report=latest_report(state.store),
        store_path=getattr(state.store, "folder", "DIR"),
        page="web_dashboard",
    )


@router.get("/admin/report", name="web_report", response_class=HTMLResponse)
def report(request: Request) -> HTMLResponse:
    """The latest evaluation report's own self-contained HTML page."""
    page = latest_report_html(request.app.state.store)
    if page is None:
        return HTMLResponse(
            "<!doctype html><title>No report</title><p>No evaluation report yet.</p>", status_code=404
        )
    return HTMLResponse(page, headers={"Content-Security-Policy": REPORT_CSP})
