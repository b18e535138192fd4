"""Amazon Review Data 2018 (Ni, Li, McAuley): two small 5-core categories with review text.

Files (read in place): ``All_Beauty_5.json.gz`` (gzip JSON lines) and ``AMAZON_FASHION_5.jsonl``.
Each review becomes an event of type ``review`` with ``value`` = star rating (1-5) and ``timestamp`` =
``unixReviewTime`` (day resolution). Extra event columns, ignored by ingestion unless mapped:

- ``text``: the review body (``reviewText``), ``summary``: its headline,
- ``verified``: verified purchase, ``style``: JSON of the variant reviewed (``{"Size": "Small"}``; the
  source's ``"Size:": " Small"`` with colon and padding removed).

``reviewerName`` (a real person-name field) is dropped here and stored nowhere; review text may still
name people (PII scrubbing is later work). Items are ASINs with no title (none exists) and
``category`` = the source category ("All Beauty" / "Amazon Fashion"). The 2018 data repeats a review
once per product variant, so identical (user, item, time, text) rows exist; all rows are kept.
Event ids are ``f"amazon-reviews-2018:{user}:{position}"`` over the files in the order above.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from pathlib import Path
from typing import Any, Final

from shelfwise.data.schema import Dataset
from shelfwise.data.tables import events_table, items_table, to_json, users_table
from shelfwise.data.textio import open_text

log = logging.getLogger(__name__)

NAME = "amazon-reviews-2018"
#: (file, source category) in the fixed order event positions follow.
FILES: Final[tuple[tuple[str, str], ...]] = (
    ("All_Beauty_5.json.gz", "All Beauty"),
    ("AMAZON_FASHION_5.jsonl", "Amazon Fashion"),
)
_EVENT_KEYS: Final[tuple[str, ...]] = (
    "event_id",
    "user_id",
    "item_id",
    "type",
    "value",
    "timestamp",
    "text",
    "summary",
    "verified",
    "style",
)


def _none_if_blank(text: Any) -> str | None:
    return text if isinstance(text, str) and text.strip() else None


def _style(style: Any) -> str | None:
    """``{"Size:": " Small"}`` -> ``'{"Size":"Small"}'`` (trailing colon and padding removed)."""
    if not isinstance(style, dict):
        return None
    return to_json({str(k).strip().rstrip(":").strip(): str(v).strip() for k, v in style.items()})


def load(data_dir: Path) -> Dataset:
    """Load both files from the dataset's folder (e.g. ``../shared/data/amazon-reviews-2018``).

    Returns:
        Events (8,445 ``review`` events), users (reviewer ids) and items (ASIN, source category).

    Raises:
        ValueError: on a line that is not a JSON object with reviewerID, asin, overall, unixReviewTime.
    """
    data_dir = Path(data_dir)
    cols: dict[str, list[Any]] = {k: [] for k in _EVENT_KEYS}
    next_pos: Counter[str] = Counter()
    item_category: dict[str, str] = {}
    per_file: dict[str, int] = {}
    for fname, category in FILES:
        path = data_dir / fname
        n = 0
        with open_text(path) as fh:
            for lineno, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                    user, item = str(rec["reviewerID"]), str(rec["asin"])
                    rating, ts = float(rec["overall"]), int(rec["unixReviewTime"])
                except (ValueError, KeyError, TypeError) as exc:
                    raise ValueError(f"{path}:{lineno}: bad review record ({exc})") from None
                pos = next_pos[user]
                next_pos[user] += 1
                cols["event_id"].append(f"{NAME}:{user}:{pos}")
                cols["user_id"].append(user)
                cols["item_id"].append(item)
                cols["type"].append("review")
                cols["value"].append(rating)
                cols["timestamp"].append(ts)
                cols["text"].append(_none_if_blank(rec.get("reviewText")))
                cols["summary"].append(_none_if_blank(rec.get("summary")))
                cols["verified"].append(rec.get("verified"))
                style = rec.get("style")
                cols["style"].append(_style(style))
                if item_category.setdefault(item, category) != category:
                    log.warning("%s: item %s occurs in several files", NAME, item)
                n += 1
        per_file[fname] = n
    items = items_table({"item_id": list(item_category), "category": list(item_category.values())})
    return Dataset(
        name=NAME,
        items=items,
        users=users_table(next_pos),
        events=events_table(cols),
        metadata={
            "source": str(data_dir),
            "synthetic_timestamps": False,
            "rows_per_file": per_file,
            "extra_event_columns": {
                "text": "review body (reviewText)",
                "summary": "review headline",
                "verified": "verified purchase",
                "style": "JSON of the product variant reviewed",
            },
            "pii_note": "reviewerName dropped; review text may still contain names",
        },
    )
