"""Shared helpers of the benchmark scripts: a small CrowdFlower reader, NDCG / recall, timing, result files.

Results go to ``benchmarks/results/<name>.json`` (machine-readable, with the command and environment)
and ``benchmarks/results/<name>.md`` (a table a person can read).
"""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
import sys
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
CROWDFLOWER = (
    Path(os.environ.get("SHELFWISE_DATA", ROOT.parent / "shared" / "data"))
    / "crowdflower-search"
    / "train.csv.zip"
)


@dataclass(frozen=True)
class CrowdFlower:
    """The CrowdFlower catalogue and judgements, under the protocol of BENCHMARKS.md section 3.

    Attributes:
        titles: per product (dense id = position), the title.
        descriptions: per product, the raw description (HTML-ish, often empty).
        queries: the 261 distinct queries, sorted.
        qrels: per query, ``{product id: gain}`` with gain = mean relevance - 1 (duplicates merged).
    """

    titles: list[str]
    descriptions: list[str]
    queries: list[str]
    qrels: dict[str, dict[int, float]]

    def items(self) -> list[dict[str, Any]]:
        """The catalogue as item dicts (``item_id`` = product position as a string)."""
        return [
            {"item_id": str(i), "title": t, "description": d, "available": True}
            for i, (t, d) in enumerate(zip(self.titles, self.descriptions, strict=True))
        ]


def load_crowdflower(path: Path = CROWDFLOWER) -> CrowdFlower:
    """Read ``train.csv.zip``: catalogue = every distinct (title, description), duplicates merged by mean."""
    import pandas as pd

    with zipfile.ZipFile(path) as zf, zf.open("train.csv") as fh:
        df = pd.read_csv(fh, keep_default_na=False)
    key = list(zip(df["product_title"], df["product_description"], strict=True))
    ids: dict[tuple[str, str], int] = {}
    for k in key:
        ids.setdefault(k, len(ids))
    df["pid"] = [ids[k] for k in key]
    merged = df.groupby(["query", "pid"])["median_relevance"].mean().reset_index()
    qrels: dict[str, dict[int, float]] = {}
    for q, pid, rel in merged.itertuples(index=False):
        qrels.setdefault(q, {})[int(pid)] = float(rel) - 1.0
    titles = [k[0] for k in ids]
    descriptions = [k[1] for k in ids]
    return CrowdFlower(titles, descriptions, sorted(qrels), qrels)


def ndcg_at_k(ranked: Sequence[int], gains: dict[int, float], k: int = 10) -> float:
    """NDCG@k with linear gain (gain / log2(rank + 1)); unjudged items have gain 0."""
    dcg = sum(gains.get(pid, 0.0) / math.log2(r + 2) for r, pid in enumerate(ranked[:k]))
    ideal = sorted(gains.values(), reverse=True)[:k]
    idcg = sum(g / math.log2(r + 2) for r, g in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def recall_at_k(ranked: Sequence[int], gains: dict[int, float], k: int = 50) -> float:
    """Share of the judged products with gain > 0 found in the top ``k``."""
    relevant = {pid for pid, g in gains.items() if g > 0}
    return len(relevant & set(ranked[:k])) / len(relevant) if relevant else 0.0


def retrieval_metrics(cf: CrowdFlower, ranked: dict[str, Sequence[int]]) -> dict[str, float]:
    """Mean NDCG@10 and Recall@50 over all queries."""
    return {
        "ndcg@10": float(np.mean([ndcg_at_k(ranked[q], cf.qrels[q], 10) for q in cf.queries])),
        "recall@50": float(np.mean([recall_at_k(ranked[q], cf.qrels[q], 50) for q in cf.queries])),
    }


def timed(fn: Callable[[], Any], repeat: int = 1) -> tuple[Any, list[float]]:
    """Run ``fn`` ``repeat`` times; return the last result and the wall times in seconds."""
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return out, times


def median_ms(times: Sequence[float]) -> float:
    """Median of ``times`` (seconds) in milliseconds."""
    return 1000.0 * statistics.median(times)


def environment() -> dict[str, Any]:
    """Facts that move the numbers: CPU count, load, Python, library versions."""
    versions = {}
    for mod in (
        "numpy",
        "torch",
        "onnxruntime",
        "sentence_transformers",
        "faiss",
        "usearch",
        "bm25s",
        "tantivy",
    ):
        m = sys.modules.get(mod)
        if m is not None:
            versions[mod] = getattr(m, "__version__", "?")
    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_avg_1m": os.getloadavg()[0],
        "machine": platform.machine(),
        "versions": versions,
    }


def write_results(name: str, payload: dict[str, Any], table: list[dict[str, Any]], notes: str = "") -> Path:
    """Write ``results/<name>.json`` (payload + table + command + environment) and ``results/<name>.md``."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    full = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "environment": environment(),
        **payload,
        "table": table,
    }
    (RESULTS / f"{name}.json").write_text(json.dumps(full, indent=2, default=float))
    lines = [f"# {name}", "", f"`{full['command']}`", ""]
    if table:
        cols = list(table[0])
        lines += ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        for row in table:
            lines.append("| " + " | ".join(_fmt(row.get(c)) for c in cols) + " |")
    if notes:
        lines += ["", notes]
    path = RESULTS / f"{name}.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    return "" if value is None else str(value)
