"""The privacy-budget page (``/admin/privacy``): the shop's differential-privacy ledger, read as
``shelfwise privacy budget`` reads it (:func:`shelfwise.privacy.releases.ledger_of`): the budget, what is spent
and left, and every release with its epsilon, delta, what was released and when. Read-only; admin only.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from shelfwise.web.charts import Bar, bar_chart
from shelfwise.web.pages import render
from shelfwise.web.session import require_admin
from shelfwise.web.shoppers import current_shopper

__all__ = ["privacy_view", "router"]

router = APIRouter(include_in_schema=False, dependencies=[Depends(require_admin)])


def privacy_view(store: Any, settings: Any) -> dict[str, Any]:
    """Template values: the ledger's summary, its releases newest first, the share of epsilon spent."""
    from shelfwise.privacy.releases import ledger_of

    ledger = ledger_of(store, settings.privacy.dp).to_dict()
    budget = float(ledger["budget"]["epsilon"])
    spent = float(ledger["spent"]["epsilon"])
    releases = [
        {
            **r,
            "when": datetime.fromtimestamp(float(r["at"]), UTC).strftime("%Y-%m-%d %H:%M"),
            "params": ", ".join(f"{k}={v}" for k, v in sorted((r.get("params") or {}).items())),
        }
        for r in reversed(ledger["releases"])
    ]
    by_what: dict[str, float] = {}
    for r in ledger["releases"]:
        by_what[r["what"]] = by_what.get(r["what"], 0.0) + float(r["epsilon"])
    bars = [Bar(w[:28], e) for w, e in sorted(by_what.items(), key=lambda kv: -kv[1])[:10]]
    return {
        **ledger,
        "releases": releases,
        "used_share": min(1.0, spent / budget) if budget > 0 else 1.0,
        "exhausted": ledger["remaining"]["epsilon"] <= 0,
        "chart": bar_chart("Epsilon spent by release", bars) if bars else None,
    }


@router.get("/admin/privacy", name="web_privacy", response_class=HTMLResponse)
def privacy_page(request: Request) -> HTMLResponse:
    """The privacy budget and every DP release."""
    state = request.app.state
    return render(
        request,
        "privacy.html",
        current_shopper(request),
        section="admin",
        page="web_privacy",
        privacy=privacy_view(state.store, state.settings),
        store_path=getattr(state.store, "folder", "DIR"),
    )
