"""Vector index: FAISS HNSW vs usearch HNSW vs exact, on 100,000 x 384 unit vectors, through shelfwise's
index classes (so the numbers include id mapping, filtering and the exact fp32 re-scoring).

Data: synthetic vectors with the hierarchy of a catalogue (200 categories > 50 product lines > items;
Gaussian offsets at each level) or ``--vectors file.npy`` (e.g. real embeddings); 1,000 held-out queries; ground truth = exact inner product. Reported
per system: build time, memory (RSS growth and bytes on disk after ``save``), recall@10 vs exact, queries/s
one query per call (the serving pattern) and in one batch of 1,000, and the same with a category filter that
keeps ~10% of the items.

Run::

    .venv/bin/python benchmarks/bench_vector_index.py            # ~10 min on 2 busy cores
    .venv/bin/python benchmarks/bench_vector_index.py --n 20000  # quicker
"""

from __future__ import annotations

import argparse
import gc
import logging
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import numpy as np
import psutil
from threadpoolctl import threadpool_limits

from _common import write_results
from shelfwise.index import SearchFilter, VectorIndexConfig, build_vector_index

logger = logging.getLogger("bench_vector_index")


def make_data(n: int, dim: int, n_queries: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, list[dict]]:
    """Hierarchically clustered unit vectors (200 categories > 50 product lines each > items), held-out
    queries drawn the same way, and metadata with 10 categories."""
    rng = np.random.default_rng(seed)
    cats = rng.normal(size=(200, dim)).astype(np.float32)
    lines = cats[np.repeat(np.arange(200), 50)] + 0.8 * rng.normal(size=(200 * 50, dim)).astype(np.float32)

    def draw(m: int) -> np.ndarray:
        x = lines[rng.integers(0, len(lines), m)] + 1.0 * rng.normal(size=(m, dim)).astype(np.float32)
        return x / np.linalg.norm(x, axis=1, keepdims=True)

    vecs, queries = draw(n), draw(n_queries)
    meta = [{"category": f"cat{i % 10}", "price": float(i % 100), "available": True} for i in range(n)]
    return vecs, queries, meta


def exact_truth(
    vecs: np.ndarray, queries: np.ndarray, k: int, allowed: np.ndarray | None = None
) -> np.ndarray:
    out = np.empty((len(queries), k), dtype=np.int64)
    for s in range(0, len(queries), 100):
        sc = queries[s : s + 100] @ vecs.T
        if allowed is not None:
            sc[:, ~allowed] = -np.inf
        part = np.argpartition(-sc, k - 1, axis=1)[:, :k]
        out[s : s + 100] = np.take_along_axis(part, np.argsort(-np.take_along_axis(sc, part, 1), 1), 1)
    return out


def recall(result_ids: list[list[str]], truth: np.ndarray) -> float:
    return float(
        np.mean(
            [
                len({int(x) for x in r} & set(t.tolist())) / len(t)
                for r, t in zip(result_ids, truth, strict=True)
            ]
        )
    )


def qps_single(
    index, queries: np.ndarray, k: int, flt: SearchFilter | None, limit: int
) -> tuple[float, list[list[str]]]:
    """Median-latency queries/s, one query per call on one thread (BLAS / OpenMP pools limited to 1)."""
    ids, times = [], []
    with threadpool_limits(1):
        for q in queries[:limit]:
            t0 = time.perf_counter()
            ids.append(index.search(q[None, :], k, flt).item_ids[0])
            times.append(time.perf_counter() - t0)
    return 1.0 / float(np.median(times)), ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument(
        "--vectors", type=Path, help="an (n, dim) .npy of unit vectors instead of synthetic data"
    )
    parser.add_argument(
        "--only", default="", help="comma-separated substrings: run only matching systems (+ exact)"
    )
    parser.add_argument("--out", default="vector_index")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    vecs, queries, meta = make_data(args.n, args.dim, args.queries)
    if args.vectors is not None:
        real = np.load(args.vectors, allow_pickle=False).astype(np.float32)
        rng = np.random.default_rng(0)
        order = rng.permutation(len(real))
        queries, vecs = real[order[: args.queries]], real[order[args.queries :]]
        args.n, args.dim = len(vecs), vecs.shape[1]
        meta = (
            meta[: args.n] if len(meta) >= args.n else [{"category": f"cat{i % 10}"} for i in range(args.n)]
        )
    ids = [str(i) for i in range(args.n)]
    truth = exact_truth(vecs, queries, args.k)
    flt = SearchFilter(categories=("cat3",))
    allowed = np.array([m["category"] == "cat3" for m in meta])
    truth_f = exact_truth(vecs, queries, args.k, allowed)
    base = dict(exact_threshold=0, filter_exact_max=0, hnsw_m=32, ef_construction=128)
    systems = {
        "exact (numpy)": VectorIndexConfig(type="exact"),
        "faiss HNSW f32, ef 128": VectorIndexConfig(type="faiss-hnsw", ef_search=128, **base),
        "faiss HNSW f32, ef 64": VectorIndexConfig(type="faiss-hnsw", ef_search=64, **base),
        "faiss HNSW f32, ef 32": VectorIndexConfig(type="faiss-hnsw", ef_search=32, **base),
        "faiss HNSW SQ8, ef 64": VectorIndexConfig(type="faiss-hnsw", ef_search=64, storage="i8", **base),
        "usearch f32, ef 128": VectorIndexConfig(type="usearch", ef_search=128, **base),
        "usearch f32, ef 64": VectorIndexConfig(type="usearch", ef_search=64, **base),
        "usearch f32, ef 32": VectorIndexConfig(type="usearch", ef_search=32, **base),
        "usearch i8, ef 64": VectorIndexConfig(type="usearch", ef_search=64, storage="i8", **base),
    }
    if args.only:
        keep = [x.strip() for x in args.only.split(",")]
        systems = {n: c for n, c in systems.items() if c.type == "exact" or any(k in n for k in keep)}
    table, built = [], {}
    proc = psutil.Process()
    exact_single = exact_batch = None
    for name, cfg in systems.items():
        key = (cfg.type, cfg.storage)
        if key not in built:  # the ef variants reuse one build
            built.clear()
            gc.collect()
            rss0 = proc.memory_info().rss
            index = build_vector_index(args.dim, cfg)
            t0 = time.perf_counter()
            index.add(ids, vecs, meta)
            build_s = time.perf_counter() - t0
            rss = proc.memory_info().rss - rss0
            with tempfile.TemporaryDirectory() as tmp:
                index.save(tmp)
                disk = sum(f.stat().st_size for f in Path(tmp).iterdir())
            built[key] = (index, build_s, rss, disk)
        index, build_s, rss, disk = built[key]
        index.config = cfg
        single, _single_ids = qps_single(index, queries, args.k, None, 300)
        t0 = time.perf_counter()
        batch_ids = index.search(queries, args.k).item_ids
        batch = len(queries) / (time.perf_counter() - t0)
        single_f, ids_f = qps_single(index, queries, args.k, flt, 300)
        if cfg.type == "exact":
            exact_single, exact_batch = single, batch
        row = {
            "system": name,
            "build s": build_s,
            "RSS growth MB": rss / 2**20,
            "on disk MB": disk / 2**20,
            "recall@10": recall(batch_ids, truth),
            "QPS (1 query/call)": single,
            "x exact (1/call)": single / exact_single,
            "QPS (batch 1000)": batch,
            "x exact (batch)": batch / exact_batch,
            "filtered recall@10": recall(ids_f, truth_f[:300]),
            "filtered QPS (1/call)": single_f,
        }
        table.append(row)
        print(row, flush=True)
    notes = (
        f"{args.n:,} x {args.dim} {'vectors from ' + str(args.vectors) if args.vectors else 'hierarchical synthetic unit vectors'}, {args.queries} held-out queries, k={args.k}. "
        "Every ANN row re-scores its candidates (max(2k, 20)) with the fp32 vectors. 1/call QPS over 300 queries "
        "(median latency, one thread); batch uses all threads; filter = one of 10 categories (~10% of items); build with 2 threads. "
        "Memory: RSS growth includes the fp32 copy the index keeps for exact re-scoring / fallback."
    )
    print(write_results(args.out, {"n": args.n, "dim": args.dim}, table, notes).read_text())


if __name__ == "__main__":
    main()
