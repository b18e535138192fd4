"""Fashion Product Images (Myntra, Kaggle), a 150-item subset with one photo per item.

Files (read in place): ``styles_subset.csv`` (id, gender, masterCategory, subCategory, articleType,
baseColour, season, year, usage, productDisplayName) and ``images/<id>.jpg``. Items: title =
productDisplayName, category = ``masterCategory > subCategory > articleType``, attributes = gender,
baseColour, season, year, usage and ``colour`` (the same value as baseColour, under the shop-neutral
key query understanding and facets use), image = absolute path of the photo. Names often begin with
the brand, but no brand field exists and none is guessed. No events.
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path
from typing import Any

from shelfwise.data.schema import CATEGORY_SEPARATOR, Dataset
from shelfwise.data.tables import items_table, to_json
from shelfwise.data.textio import clean_text, open_text

log = logging.getLogger(__name__)

NAME = "fashion-images"


def _blank_none(value: str | None) -> str | None:
    return value.strip() if value and value.strip() else None


def load(data_dir: Path) -> Dataset:
    """Load the dataset from its folder (e.g. ``../shared/data/fashion-images``).

    Returns:
        150 items with title, category path, attributes and image path (``None`` if the photo is missing).
    """
    data_dir = Path(data_dir).resolve()
    cols: dict[str, list[Any]] = {k: [] for k in ("item_id", "title", "category", "attributes", "image")}
    missing = 0
    with open_text(data_dir / "styles_subset.csv") as fh:
        for row in csv.DictReader(fh):
            item = row["id"].strip()
            levels = [_blank_none(row.get(k)) for k in ("masterCategory", "subCategory", "articleType")]
            year = _blank_none(row.get("year"))
            attrs = {
                "gender": _blank_none(row.get("gender")),
                "baseColour": _blank_none(row.get("baseColour")),
                "season": _blank_none(row.get("season")),
                "year": int(float(year)) if year else None,
                "usage": _blank_none(row.get("usage")),
                "colour": _blank_none(row.get("baseColour")),
            }
            image = data_dir / "images" / f"{item}.jpg"
            if not image.exists():
                missing += 1
            cols["item_id"].append(item)
            cols["title"].append(clean_text(row.get("productDisplayName")))
            cols["category"].append(CATEGORY_SEPARATOR.join(lv for lv in levels if lv) or None)
            cols["attributes"].append(to_json({k: v for k, v in attrs.items() if v is not None}))
            cols["image"].append(str(image) if image.exists() else None)
    if missing:
        log.warning("%s: %d items have no photo in %s", NAME, missing, data_dir / "images")
    return Dataset(
        name=NAME,
        items=items_table(cols),
        metadata={"source": str(data_dir), "missing_images": missing},
    )
