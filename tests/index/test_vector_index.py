"""Contract tests every vector index passes (exact, FAISS HNSW, usearch), on clustered synthetic vectors
whose exact neighbours are computed independently with NumPy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from shelfwise.index import SearchFilter, VectorIndexConfig, build_vector_index, load_vector_index

N, DIM = 2000, 32
KINDS = ["exact", "faiss-hnsw", "usearch"]


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture(scope="module")
def data() -> tuple[list[str], np.ndarray, list[dict], np.ndarray]:
    rng = np.random.default_rng(7)
    centres = rng.normal(size=(40, DIM))
    vecs = _unit(centres[rng.integers(0, 40, N)] + 0.6 * rng.normal(size=(N, DIM)))
    ids = [f"sku-{i}" for i in range(N)]
    cats = ["Shoes > Running", "Shoes > Trail", "Kitchen > Coffee", "Kitchen"]
    meta = [
        {"category": cats[i % 4], "price": None if i % 50 == 0 else float(i % 200), "available": i % 7 != 0}
        for i in range(N)
    ]
    queries = _unit(centres[rng.integers(0, 40, 50)] + 0.6 * rng.normal(size=(50, DIM)))
    return ids, vecs, meta, queries


def _exact_top(
    vecs: np.ndarray, queries: np.ndarray, k: int, allowed: np.ndarray | None = None
) -> list[set[int]]:
    scores = queries @ vecs.T
    if allowed is not None:
        scores[:, ~allowed] = -np.inf
    return [set(np.argsort(-row)[:k][np.isfinite(np.sort(-row)[:k])].tolist()) for row in scores]


def _index(kind: str, data, **overrides):
    ids, vecs, meta, _ = data
    cfg = VectorIndexConfig(type=kind, exact_threshold=0, filter_exact_max=50, **overrides)
    index = build_vector_index(DIM, cfg)
    index.add(ids, vecs, meta)
    return index


@pytest.mark.parametrize("kind", KINDS)
def test_recall_against_numpy_exact(kind: str, data) -> None:
    _ids, vecs, _, queries = data
    index = _index(kind, data)
    res = index.search(queries, k=10)
    truth = _exact_top(vecs, queries, 10)
    got = [{int(x.split("-")[1]) for x in row} for row in res.item_ids]
    recall = np.mean([len(t & g) / 10 for t, g in zip(truth, got, strict=True)])
    assert recall >= (1.0 if kind == "exact" else 0.95)
    assert res.source == f"vector:{kind}"
    for row in res.scores:  # best first, true cosines (re-scored in fp32)
        assert np.all(np.diff(row) <= 1e-6)
    first = int(res.item_ids[0][0].split("-")[1])
    assert res.scores[0][0] == pytest.approx(float(queries[0] @ vecs[first]), abs=1e-5)


@pytest.mark.parametrize("kind", KINDS)
def test_each_vector_finds_itself(kind: str, data) -> None:
    ids, vecs, _, _ = data
    res = _index(kind, data).search(vecs[:100], k=1)
    assert [r[0] for r in res.item_ids] == ids[:100]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "flt",
    [
        SearchFilter(categories=("shoes",)),  # wide: ANN with a selector / over-fetch
        SearchFilter(
            categories=("Shoes > Trail",), price_min=10, price_max=20, in_stock=True
        ),  # narrow: exact
        SearchFilter(in_stock=False),
        SearchFilter(exclude_ids=frozenset({"sku-1", "sku-2", "sku-3"})),
    ],
)
def test_filters_hold_and_match_exact(kind: str, flt: SearchFilter, data) -> None:
    ids, vecs, meta, queries = data
    index = _index(kind, data)
    res = index.search(queries, k=10, filter=flt)

    def ok(i: int) -> bool:
        m = meta[i]
        if flt.categories and not m["category"].lower().startswith(flt.categories[0].lower()):
            return False
        if flt.price_min is not None and (m["price"] is None or m["price"] < flt.price_min):
            return False
        if flt.price_max is not None and (m["price"] is None or m["price"] > flt.price_max):
            return False
        if flt.in_stock is not None and m["available"] != flt.in_stock:
            return False
        return ids[i] not in flt.exclude_ids

    allowed = np.array([ok(i) for i in range(N)])
    truth = _exact_top(vecs, queries, 10, allowed)
    recall = []
    for row, t in zip(res.item_ids, truth, strict=True):
        got = {int(x.split("-")[1]) for x in row}
        assert all(allowed[i] for i in got)
        assert len(row) == min(10, int(allowed.sum()))
        recall.append(len(got & t) / max(len(t), 1))
    assert np.mean(recall) >= 0.9


@pytest.mark.parametrize("kind", KINDS)
def test_delete_and_replace(kind: str, data) -> None:
    _ids, vecs, _, _ = data
    index = _index(kind, data)
    assert index.delete(["sku-0", "sku-1", "nope"]) == 2
    assert len(index) == N - 2 and "sku-0" not in index
    res = index.search(vecs[:2], k=5)
    assert all("sku-0" not in r and "sku-1" not in r for r in res.item_ids)
    # replacing an id moves it: sku-5 now sits where sku-1000 is
    index.add(["sku-5"], vecs[1000:1001], [{"category": "Kitchen", "price": 1.0}])
    assert len(index) == N - 2
    top = index.search(vecs[1000:1001], k=2).item_ids[0]
    assert set(top) == {"sku-5", "sku-1000"}
    assert "sku-5" not in index.search(vecs[5:6], k=1).item_ids[0]
    np.testing.assert_allclose(index.get_vectors(["sku-5"]), vecs[1000:1001])


@pytest.mark.parametrize("kind", KINDS)
def test_many_deletes_compact_and_stay_correct(kind: str, data) -> None:
    ids, vecs, _, queries = data
    index = _index(kind, data)
    gone = ids[: N // 2]
    index.delete(gone)
    assert len(index) == N - N // 2
    res = index.search(queries, k=10)
    alive = np.zeros(N, dtype=bool)
    alive[N // 2 :] = True
    truth = _exact_top(vecs, queries, 10, alive)
    recall = np.mean(
        [len({int(x.split("-")[1]) for x in r} & t) / 10 for r, t in zip(res.item_ids, truth, strict=True)]
    )
    assert recall >= 0.95
    assert not any(x in set(gone) for r in res.item_ids for x in r)


@pytest.mark.parametrize("kind", KINDS)
def test_save_load_roundtrip_without_pickle(kind: str, data, tmp_path: Path) -> None:
    _, vecs, _, queries = data
    index = _index(kind, data)
    index.delete(["sku-3"])
    flt = SearchFilter(categories=("kitchen",), price_max=150)
    before = index.search(queries, k=10, filter=flt)
    index.save(tmp_path)
    for f in tmp_path.iterdir():
        assert f.suffix in {".json", ".npy", ".faiss", ".usearch"}, f
        if f.suffix == ".npy":
            np.load(f, allow_pickle=False)
    loaded = load_vector_index(tmp_path)
    assert type(loaded) is type(index) and len(loaded) == len(index)
    after = loaded.search(queries, k=10, filter=flt)
    assert after.item_ids == before.item_ids
    loaded.add(["new"], vecs[:1])  # still writable after load
    assert loaded.search(vecs[:1], k=2).item_ids[0][:2] in (["sku-0", "new"], ["new", "sku-0"])


@pytest.mark.parametrize("kind", KINDS)
def test_small_and_empty(kind: str) -> None:
    index = build_vector_index(4, VectorIndexConfig(type=kind))
    empty = index.search(np.ones((2, 4), np.float32), k=3)
    assert empty.item_ids == [[], []]
    index.add(["a", "b"], _unit(np.eye(4, dtype=np.float32)[:2]))
    res = index.search(np.eye(4, dtype=np.float32)[:1], k=5)
    assert res.item_ids[0] == ["a", "b"]
    with pytest.raises(ValueError):
        index.search(np.ones((1, 3), np.float32))
    with pytest.raises(ValueError):
        index.add(["c"], np.ones((1, 5), np.float32))


def test_exact_threshold_switches_to_the_graph(data) -> None:
    ids, vecs, meta, queries = data
    small = build_vector_index(DIM, VectorIndexConfig(type="faiss-hnsw", exact_threshold=N + 1))
    small.add(ids, vecs, meta)
    assert not small._ann_ready()  # below the threshold: no graph, exact answers
    big = build_vector_index(DIM, VectorIndexConfig(type="faiss-hnsw", exact_threshold=N))
    big.add(ids, vecs, meta)
    assert big._ann_ready()
    assert (
        small.search(queries, k=5).item_ids
        == build_vector_index(DIM, VectorIndexConfig(type="exact"))
        .__class__.search(small, queries, k=5)
        .item_ids
    )
