"""The demo: load the bundled sample shop into a store and summarise what was loaded.

It runs with nothing but the installed package (the sample ships inside it), so a new user sees a real
catalogue and real shopper sequences within seconds. Later stages of the pipeline extend this summary.
"""

from __future__ import annotations

import shutil
import time
from collections import Counter
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from shelfwise.config import load_settings
from shelfwise.data.ingest import Ingestor
from shelfwise.data.sample import sample_paths
from shelfwise.storage import open_store

SAMPLE_DIR = Path(__file__).resolve().parent / "sample"


def seed_demo_settings(store_path: Path) -> list[str]:
    """Give a new demo store the sample's settings and its shipped embeddings; returns what was copied.

    Nothing is overwritten: a store that already has a ``shelfwise.toml`` keeps it, and cache files already
    present stay. The shipped vectors are an ordinary content-hash cache (:mod:`shelfwise.encoders.cache`),
    so they are only used when the encoder, its settings and the item text are exactly what produced them;
    otherwise ``shelfwise build`` encodes as usual.
    """
    copied = []
    settings = store_path / "shelfwise.toml"
    if not settings.exists():
        store_path.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SAMPLE_DIR / "shelfwise.toml", settings)
        copied.append(str(settings))
    cache = store_path / "cache" / "encoder" / "embeddings"
    shipped = SAMPLE_DIR / "embeddings"
    for version in sorted(shipped.iterdir()) if shipped.is_dir() else []:
        if version.is_dir() and not (cache / version.name).exists():
            shutil.copytree(version, cache / version.name)
            copied.append(str(cache / version.name))
    return copied


def run_demo(store_path: Path) -> dict[str, Any]:
    """Ingest the sample shop into ``store_path`` (idempotent) and return a JSON-ready summary.

    A new store also gets the demo settings and the sample's precomputed item vectors
    (:func:`seed_demo_settings`).
    """
    started = time.perf_counter()
    paths = sample_paths()
    seed_demo_settings(store_path)
    with open_store(store_path) as store, Ingestor(store, load_settings()) as ingestor:
        reports = [
            ingestor.ingest_path(paths["items"], "items"),
            ingestor.ingest_path(paths["events"], "events"),
        ]
        counts = store.counts()
        items = store.read_items(["item_id", "title", "category", "brand", "price", "available"]).to_pylist()
        events = store.read_events(["user_id", "item_id", "type", "timestamp"]).to_pylist()
    by_id = {i["item_id"]: i for i in items}
    categories = Counter((i["category"] or "(none)").split(" > ")[-1] for i in items)
    brands = Counter(i["brand"] for i in items if i["brand"])
    popular = Counter(e["item_id"] for e in events)
    per_user: dict[str, list[dict[str, Any]]] = {}
    for e in events:
        per_user.setdefault(e["user_id"], []).append(e)
    example_user, history = (
        max(per_user.items(), key=lambda kv: (len(kv[1]), kv[0])) if per_user else ("", [])
    )
    return {
        "store": str(store_path),
        "counts": {k: counts[k] for k in ("users", "items", "events")},
        "events_by_type": {k[len("events_") :]: v for k, v in counts.items() if k.startswith("events_")},
        "ingestion": [r.to_dict() for r in reports],
        "top_categories": categories.most_common(8),
        "top_brands": brands.most_common(8),
        "most_interacted": [
            {"item_id": i, "title": by_id.get(i, {}).get("title"), "events": n}
            for i, n in popular.most_common(5)
        ],
        "example_user": {
            "user_id": example_user,
            "recent": [
                {
                    "item_id": e["item_id"],
                    "type": e["type"],
                    "title": by_id.get(e["item_id"], {}).get("title"),
                }
                for e in history[-5:]
            ],
        },
        "seconds": round(time.perf_counter() - started, 2),
    }


def render_demo(result: dict[str, Any], console: Console) -> None:
    """Print the demo summary for a person."""
    counts = result["counts"]
    console.print(
        f"[bold]shelfwise demo[/] — sample shop loaded into [cyan]{result['store']}[/] in {result['seconds']}s: "
        f"{counts['items']:,} items, {counts['users']:,} shoppers, {counts['events']:,} events"
    )
    ing = Table(title="ingestion (re-running it changes nothing)")
    for col in ("kind", "read", "accepted", "quarantined", "duplicates"):
        ing.add_column(col, justify="right" if col != "kind" else "left")
    for r in result["ingestion"]:
        ing.add_row(
            r["kind"], f"{r['read']:,}", f"{r['accepted']:,}", f"{r['quarantined']:,}", f"{r['duplicates']:,}"
        )
    console.print(ing)
    cats = Table(title="top categories")
    cats.add_column("category")
    cats.add_column("items", justify="right")
    for name, n in result["top_categories"]:
        cats.add_row(name, str(n))
    console.print(cats)
    pop = Table(title="most interacted items")
    pop.add_column("item")
    pop.add_column("title")
    pop.add_column("events", justify="right")
    for row in result["most_interacted"]:
        pop.add_row(row["item_id"], (row["title"] or "")[:70], str(row["events"]))
    console.print(pop)
    user = result["example_user"]
    console.print(f"[bold]shopper {user['user_id']}[/], latest events:")
    for e in user["recent"]:
        console.print(f"  {e['type']:<12} {(e['title'] or e['item_id'])[:80]}")
    console.print(
        "Next: `shelfwise stats`, `shelfwise ingest --dataset amazon-beauty` (with ../shared/data)."
    )
