"""User profiles (issue #6): build cost, online update rate, segments, profile retriever, churn, reviews.

Sections, each measuring its baseline in the same run:

1. Amazon Beauty, all 22,363 users: ingest into a DuckDB store, batch build from the store (median of 3,
   tracemalloc peak and retained memory), persist / reload.
2. Online updates: events/s of ``ProfileUpdater.apply`` on one core (BLAS limited to 1 thread) on Beauty
   (384-d title vectors), Taobao (categories, funnel) and the synthetic shop (categories, brands, prices),
   against the naive alternative of rebuilding the user's profile from their history on every event.
3. Segments on Beauty: K-means, k by silhouette, labels and dashboard stats.
4. The profile vector as a retriever on Beauty: leave-one-out, full ranking, random ties (seed 0),
   ``short_weight`` chosen on validation; test with the ``train_valid`` convention (profiles from
   train + valid) against popularity; history rankable (default) and excluded.
5. Churn risk on Taobao UserBehavior: time split (train cuts Nov 26-30, test cut Dec 1, 1-day horizon,
   Beijing time), AUC of the model vs recency alone, paired bootstrap CI of the difference.
6. Review sentiment vs stars on amazon-reviews-2018; synthetic taste recovery.

Item vectors for Beauty are all-MiniLM-L6-v2 (shelfwise's ONNX int8 encoder) over titles, cached in
``benchmarks/results/cache/``. Run (about 10 minutes on 2 shared cores; ``--quick`` for a smoke run)::

    nohup .venv/bin/python benchmarks/bench_profiles.py > /tmp/bench_profiles.log 2>&1 &

Writes ``benchmarks/results/profiles.json`` and ``profiles.md``; prints the summary table.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # the machine is shared: one core for everything here

import argparse
import datetime as dt
import json
import logging
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from threadpoolctl import threadpool_limits

from shelfwise.config import load_settings
from shelfwise.data.datasets import load_dataset
from shelfwise.data.ingest import Ingestor
from shelfwise.data.synthetic import BAND_NAMES, make_shop
from shelfwise.encoded import LeaveOneOut, RankingData
from shelfwise.metrics import AUC, evaluate_ranking
from shelfwise.profiles import ItemCatalog, ProfileConfig, ProfileRetriever, ProfileService, ProfileUpdater
from shelfwise.profiles.builder import build_states, decode_events, iter_events, review_signals_from_dataset
from shelfwise.profiles.builder import seconds as builder_seconds
from shelfwise.profiles.churn import ChurnModel, training_data
from shelfwise.profiles.config import ChurnConfig, SegmentConfig
from shelfwise.retrieval.baselines import Popularity
from shelfwise.storage import open_store

log = logging.getLogger("bench_profiles")
DATA = Path(os.environ.get("SHELFWISE_DATA_DIR", Path(__file__).resolve().parents[2] / "shared" / "data"))
OUT = Path(__file__).resolve().parent / "results"
CACHE = OUT / "cache"
METRICS = [f"{m}@{k}" for k in (5, 10, 20) for m in ("ndcg", "hr")]
BEIJING = dt.timezone(dt.timedelta(hours=8))


def timed(fn: Any, repeat: int = 1) -> tuple[Any, list[float]]:
    out, times = None, []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return out, times


def beauty_vectors(items: pa.Table) -> tuple[np.ndarray, list[str], dict[str, Any]]:
    """Title vectors of the Beauty items (cached as .npy + .json)."""
    npy, meta = CACHE / "beauty_title_vectors.npy", CACHE / "beauty_title_vectors.json"
    if npy.exists() and meta.exists():
        info = json.loads(meta.read_text())
        return (
            np.load(npy),
            info["item_ids"],
            {"source": "cache", **{k: v for k, v in info.items() if k != "item_ids"}},
        )
    from shelfwise.encoders import EncoderConfig, build_encoder

    ids = items.column("item_id").to_pylist()
    titles = [t or "" for t in items.column("title").to_pylist()]
    t0 = time.perf_counter()
    enc = build_encoder(EncoderConfig(num_threads=1))
    vecs = enc.encode_documents(titles, show_progress=True)
    seconds = time.perf_counter() - t0
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(npy, vecs)
    info = {
        "model_version": enc.model_version,
        "encoder": "onnx int8 all-MiniLM-L6-v2, titles",
        "seconds": seconds,
    }
    meta.write_text(json.dumps({"item_ids": ids, **info}))
    return vecs, ids, {"source": "encoded", **info}


def section_build(
    ds: Any, catalog: ItemCatalog, quick: bool
) -> tuple[dict[str, Any], ProfileService, pa.Table]:
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp, open_store(Path(tmp) / "store") as store:
        _, t = timed(lambda: Ingestor(store, load_settings(environ={})).ingest_dataset(ds))
        out["ingest_seconds"] = t[0]
        events, t = timed(lambda: store.read_events())
        out["read_events_seconds"] = t[0]
        up = ProfileUpdater(catalog)
        states, times = timed(lambda: build_states(events, up), repeat=1 if quick else 3)
        out["batch_build_seconds_median"] = statistics.median(times)
        out["batch_build_seconds_all"] = times
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        states = build_states(events, up)
        current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        out["build_peak_mb"] = (peak - base) / 2**20
        out["retained_mb"] = (current - base) / 2**20
        out["users"], out["events"] = len(states), events.num_rows
        svc = ProfileService(catalog)
        svc.states = states
        svc._dirty = set(states)
        n, t = timed(lambda: svc.flush(store))
        out["persist_seconds"], out["persisted_rows"] = t[0], n
        n, t = timed(lambda: ProfileService(catalog).load(store))
        out["reload_seconds"] = t[0]
    sample = sorted(states)[:: max(len(states) // 500, 1)]
    _, t = timed(lambda: [svc.profile_json(u) for u in sample])
    out["profile_json_ms_per_user"] = 1000 * t[0] / len(sample)
    return out, svc, events


def update_rate(events: pa.Table, catalog: ItemCatalog, naive_sample: int) -> dict[str, Any]:
    """events/s on one core: the updater on decoded events, the service path from external ids, and the
    naive alternative (rebuild the user's profile from their history on every event, timed on a seeded
    random sample of events of the stream, each rebuilt from the user's events up to it)."""
    up = ProfileUpdater(catalog)
    pairs = iter_events(decode_events(events, catalog))
    rates = []
    for _ in range(3):
        states: dict[str, Any] = {}
        t0 = time.perf_counter()
        for user, ev in pairs:
            st = states.get(user)
            if st is None:
                st = states[user] = up.new_state()
            up.apply(st, ev)
        rates.append(len(pairs) / (time.perf_counter() - t0))
    rows = events.select(
        [
            c
            for c in ("user_id", "item_id", "type", "timestamp", "value", "session_id")
            if c in events.column_names
        ]
    )
    seconds = builder_seconds(rows.column("timestamp"))
    order = np.lexsort((np.arange(rows.num_rows), seconds))
    raw = rows.take(pa.array(order)).to_pylist()
    ts = seconds[order].tolist()
    svc = ProfileService(catalog)
    t0 = time.perf_counter()
    for r, t in zip(raw, ts, strict=True):
        svc.apply_event(
            r["user_id"], r["item_id"], r["type"], t, value=r.get("value"), session_id=r.get("session_id")
        )
    service_rate = len(raw) / (time.perf_counter() - t0)
    history: dict[str, list[Any]] = {}
    position = []
    for user, ev in pairs:
        h = history.setdefault(user, [])
        h.append(ev)
        position.append((user, len(h)))
    sample = np.random.default_rng(0).choice(len(pairs), size=min(naive_sample, len(pairs)), replace=False)
    t0 = time.perf_counter()
    for k in sample.tolist():
        user, upto = position[k]
        st = up.new_state()
        for e in history[user][:upto]:
            up.apply(st, e)
    naive = sample.size / (time.perf_counter() - t0)
    med = statistics.median(rates)
    return {
        "events": len(pairs),
        "incremental_events_per_s_median": med,
        "incremental_runs": rates,
        "service_apply_event_per_s": service_rate,
        "rebuild_per_event_events_per_s": naive,
        "rebuild_sample_events": int(sample.size),
        "speedup": med / naive,
    }


def section_segments(svc: ProfileService, quick: bool) -> dict[str, Any]:
    cfg = SegmentConfig(k_min=4, k_max=6, n_init=1) if quick else None
    _, t = timed(lambda: svc.fit_segments(config=cfg))
    out = svc.segments_json()
    out["fit_seconds"] = t[0]
    sample = sorted(svc.states)[:: max(len(svc.states) // 500, 1)]
    _, t = timed(lambda: [svc.profile_json(u) for u in sample])
    out["profile_json_ms_per_user_with_segment"] = 1000 * t[0] / len(sample)
    return out


def section_retriever(ds: Any, catalog: ItemCatalog, quick: bool) -> dict[str, Any]:
    split = LeaveOneOut().split(ds.events)
    data = RankingData.from_split(split)
    users, items = data.users.ids.tolist(), data.items.ids.tolist()
    train = split.table.take(split.train)
    train_valid = split.table.take(np.concatenate([split.train, split.valid]))
    grid = (
        [(0.0, 3.0), (1.0, 3.0)]
        if quick
        else [(0.0, 3.0)] + [(w, h) for w in (0.5, 0.75, 1.0) for h in (0.5, 1.0, 3.0)]
    )
    up = ProfileUpdater(catalog)
    states_train = build_states(train, up)
    validation = []
    for sw, h in grid:  # both knobs act at read time: one build serves the whole grid
        cfg = ProfileConfig(short_half_life_events=h)
        model = ProfileRetriever.from_states(states_train, users, items, catalog, cfg, short_weight=sw)
        res = evaluate_ranking(
            model,
            data.valid_users,
            data.valid_targets,
            data.train[data.valid_users],
            ["ndcg@10", "hr@10"],
            split="valid",
        )
        validation.append({"short_weight": sw, "short_half_life_events": h, **res.metrics})
        log.info("valid short_weight=%.2f half-life=%g ndcg@10=%.4f", sw, h, res.metrics["ndcg@10"])
    chosen = max(validation, key=lambda r: r["ndcg@10"])
    best, best_cfg = (
        chosen["short_weight"],
        ProfileConfig(short_half_life_events=chosen["short_half_life_events"]),
    )
    (states_tv, fit_t) = timed(lambda: build_states(train_valid, up))
    ours = ProfileRetriever.from_states(states_tv, users, items, catalog, best_cfg, short_weight=best)
    pop = Popularity().fit(data.train_valid)
    hist = data.train_valid[data.test_users]
    results = []
    for history in ("rankable", "excluded"):
        for model, fit_s in ((ours, fit_t[0]), (pop, None)):
            res = evaluate_ranking(
                model,
                data.test_users,
                data.test_targets,
                hist,
                METRICS,
                exclude_history=history == "excluded",
                fit_seconds=fit_s,
                params=model.params(),
            )
            results.append(res.to_dict())
            log.info(
                "test %s %s ndcg@10=%.4f hr@10=%.4f",
                model.name,
                history,
                res.metrics["ndcg@10"],
                res.metrics["hr@10"],
            )
    return {
        "protocol": "leave-one-out, full ranking, random ties (seed 0), train_valid convention",
        "split": split.sizes(),
        "validation": validation,
        "selected_short_weight": best,
        "selected_short_half_life_events": best_cfg.short_half_life_events,
        "results": results,
    }


def section_churn(quick: bool) -> dict[str, Any]:
    ds = load_dataset("taobao-userbehavior", DATA)
    assert ds.events is not None and ds.items is not None
    up = ProfileUpdater(ItemCatalog.from_items(ds.items), ProfileConfig(churn=ChurnConfig(horizon_days=1.0)))

    def cut(month: int, day: int) -> float:
        return dt.datetime(2017, month, day, tzinfo=BEIJING).timestamp()

    train_cuts = [cut(11, d) for d in (26, 27, 28, 29, 30)]
    test_cut = cut(12, 1)
    X, y, _, _ = training_data(ds.events, up, train_cuts, 1.0)
    Xt, yt, rec_t, _ = training_data(ds.events, up, [test_cut], 1.0)
    model = ChurnModel.fit(
        X, y, horizon_days=1.0, config=up.config.churn, meta={"train_cuts": train_cuts, "test_cut": test_cut}
    )
    p = model.predict_proba(Xt)
    auc = AUC()
    m_auc, r_auc = auc.compute(yt, p), auc.compute(yt, rec_t)
    rng = np.random.default_rng(0)
    diffs = []
    for _ in range(200 if quick else 1000):
        idx = rng.integers(0, yt.size, yt.size)
        if 0 < yt[idx].sum() < yt.size:
            diffs.append(auc.compute(yt[idx], p[idx]) - auc.compute(yt[idx], rec_t[idx]))
    lo, hi = np.percentile(diffs, [2.5, 97.5])
    daily = []
    ts = ds.events.column("timestamp").to_numpy()
    users = np.asarray(ds.events.column("user_id").to_pylist())
    for d in [(11, 25), (11, 26), (11, 27), (11, 28), (11, 29), (11, 30), (12, 1), (12, 2), (12, 3)]:
        c = cut(*d)
        daily.append(
            {"day": f"{d[0]}-{d[1]}", "active_users": len(set(users[(ts >= c) & (ts < c + 86_400)]))}
        )
    return {
        "train_rows": int(y.size),
        "train_churn_rate": float(y.mean()),
        "test_users": int(yt.size),
        "test_churn_rate": float(yt.mean()),
        "auc_model": m_auc,
        "auc_recency_only": r_auc,
        "auc_diff_ci95": [float(lo), float(hi)],
        "coefficients": dict(zip(model.feature_names, np.round(model.coef, 3).tolist(), strict=True)),
        "daily_active_users": daily,
        "note": "labels from Dec 2-3 are unusable: daily active users jump from ~600 to ~800 (sampling artefact), churn ~0",
    }


def section_small(quick: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"synthetic": []}
    for seed in (7,) if quick else (7, 1, 2):
        shop = make_shop(n_users=120, n_items=400, n_events=6_000, seed=seed)
        svc = ProfileService(ItemCatalog.from_items(shop.dataset.items))
        svc.rebuild(shop.dataset.events)
        hits = np.zeros(4)
        for u, truth in shop.truth.items():
            p = svc.profile(u)
            names = [n for n, _ in p.categories]
            hits += [
                names[0] in truth.categories,
                set(names[: len(truth.categories)]) == set(truth.categories),
                p.price_tier == BAND_NAMES[truth.price_band],
                p.brands[0][0] == truth.brand,
            ]
        out["synthetic"].append(
            dict(
                zip(
                    ["seed", "top1_category", "topn_categories", "price_tier", "top_brand"],
                    [seed, *(hits / len(shop.truth)).tolist()],
                    strict=True,
                )
            )
        )
    out["synthetic_example"] = svc.profile_json("u3")
    ds = load_dataset("amazon-reviews-2018", DATA)
    assert ds.events is not None and ds.items is not None
    signals, t = timed(lambda: review_signals_from_dataset(ds))
    ids = ds.events.column("event_id").to_pylist()
    stars = np.asarray(ds.events.column("value").to_pylist(), dtype=float)
    keep = [k for k, e in enumerate(ids) if e in signals and stars[k] != 3]
    out["reviews"] = {
        "reviews": len(signals),
        "analyse_seconds": t[0],
        "pairs_4_5_vs_1_2": len(keep),
        "auc_sentiment_vs_stars": AUC().compute(
            (stars[keep] >= 4).astype(int), np.array([signals[ids[k]].sentiment for k in keep])
        ),
    }
    svc = ProfileService(ItemCatalog.from_items(ds.items))
    svc.rebuild(ds.events, signals)
    best = max(svc.states, key=lambda u: svc.states[u].reviews.n)
    out["reviews_example"] = svc.profile_json(best)
    return out


COVERAGE = [
    "| part | amazon-beauty | taobao-userbehavior | synthetic shop | amazon-reviews-2018 |",
    "|---|---|---|---|---|",
    "| long / short interest vectors | yes (title vectors) | no (ids only, no text) | yes (test vectors) | no (no titles) |",
    "| category affinity | no (unnamed attribute ids only) | yes (category ids) | yes | 2 source categories |",
    "| brand affinity | no | no | yes | no |",
    "| price band | no | no | yes | no |",
    "| funnel | purchases only | view / cart / fav / buy | view / cart / buy | reviews only |",
    "| sessions, recency, churn | order only (synthetic times) | yes (real times; churn measured) | yes | day resolution |",
    "| review sentiment / aspects | no | no | no | yes (text from the loader) |",
    "| segments | yes (interest + activity; labels from title words) | yes | yes (tests) | - |",
]


def markdown(r: dict[str, Any]) -> str:
    b, u, s, ret, c, sm = r["build"], r["updates"], r["segments"], r["retriever"], r["churn"], r["small"]
    L = [
        "# User profiles (issue #6)",
        "",
        f"`{r['command']}` — {r['seconds']:.0f} s, load avg {r['load_avg']:.1f} on {os.cpu_count()} shared cores",
        "",
    ]
    L += [
        "## Beauty: batch build of every profile from the store",
        "",
        "| users | events | build s (median of runs) | peak MB | retained MB | persist s | reload s | profile_json ms/user (no segments / with) |",
        "|---|---|---|---|---|---|---|---|",
        f"| {b['users']:,} | {b['events']:,} | {b['batch_build_seconds_median']:.2f} | {b['build_peak_mb']:.0f} | {b['retained_mb']:.0f} | {b['persist_seconds']:.1f} | {b['reload_seconds']:.1f} | {b['profile_json_ms_per_user']:.2f} / {s['profile_json_ms_per_user_with_segment']:.2f} |",
        "",
        f"Ingest into the DuckDB store {b['ingest_seconds']:.1f} s and read_events {b['read_events_seconds']:.1f} s, not included. "
        "Peak / retained = tracemalloc (Python + numpy allocations) during / after one extra build.",
        "",
    ]
    L += [
        "## Online update, one core (goal >= 5,000 events/s)",
        "",
        "| data | events | incremental events/s (median of 3) | service path events/s | baseline: rebuild per event, events/s | speedup |",
        "|---|---|---|---|---|---|",
    ]
    for name, x in u.items():
        L.append(
            f"| {name} | {x['events']:,} | {x['incremental_events_per_s_median']:,.0f} | {x['service_apply_event_per_s']:,.0f} | {x['rebuild_per_event_events_per_s']:,.0f} | {x['speedup']:.1f}x |"
        )
    L += [
        "",
        "incremental = `ProfileUpdater.apply` on decoded events; service path = `ProfileService.apply_event` from external "
        "ids (id lookup and event object included); baseline = a fresh state replayed from the user's history up to the "
        "event, on a seeded random sample of the stream's events (the cheapest possible rebuild: no store read).",
    ]
    L += [
        "",
        f"## Segments on Beauty ({s['criterion']}; fit {s['fit_seconds']:.0f} s)",
        "",
        "silhouette by k: " + ", ".join(f"{k}: {v}" for k, v in s["silhouettes"].items()),
        "",
        "| segment | label | users | share | events/user | top title terms |",
        "|---|---|---|---|---|---|",
    ]
    for seg in s["segments"]:
        terms = ", ".join(f"{t['term']} ({t['share']:.1%})" for t in seg["top_terms"])
        L.append(
            f"| {seg['segment']} | {seg['label']} | {seg['size']:,} | {seg['share']:.1%} | {seg['events_mean']:.1f} | {terms} |"
        )
    L += [
        "",
        f"## Profile vector as a retriever, Beauty ({ret['protocol']}; short_weight={ret['selected_short_weight']} chosen on valid)",
        "",
        "| model | history | NDCG@10 | HR@10 | NDCG@20 | HR@20 |",
        "|---|---|---|---|---|---|",
    ]
    for x in ret["results"]:
        m = x["metrics"]
        L.append(
            f"| {x['model']} | {x['protocol']['history']} | {m['ndcg@10']:.4f} | {m['hr@10']:.4f} | {m['ndcg@20']:.4f} | {m['hr@20']:.4f} |"
        )
    L += [
        "",
        "validation NDCG@10 by (short_weight, short_half_life_events): "
        + ", ".join(
            f"({v['short_weight']}, {v['short_half_life_events']:g}): {v['ndcg@10']:.4f}"
            for v in ret["validation"]
        )
        + f"; chosen short_half_life_events={ret['selected_short_half_life_events']:g}.",
        "",
    ]
    L += [
        "## Churn risk, Taobao UserBehavior (time split, 1-day horizon)",
        "",
        "| model | test AUC |",
        "|---|---|",
        f"| logistic on profile features | {c['auc_model']:.4f} |",
        f"| recency only | {c['auc_recency_only']:.4f} |",
        "",
        f"difference 95% CI (paired bootstrap): [{c['auc_diff_ci95'][0]:.4f}, {c['auc_diff_ci95'][1]:.4f}]; train rows {c['train_rows']:,} (churn {c['train_churn_rate']:.1%}), test users {c['test_users']} (churn {c['test_churn_rate']:.1%}). {c['note']}.",
        "",
    ]
    L += [
        "## Synthetic shop (known tastes) and reviews",
        "",
        "| seed | top-1 category | top-n categories | price tier | top brand |",
        "|---|---|---|---|---|",
    ]
    for x in sm["synthetic"]:
        L.append(
            f"| {x['seed']} | {x['top1_category']:.3f} | {x['topn_categories']:.3f} | {x['price_tier']:.3f} | {x['top_brand']:.3f} |"
        )
    rv = sm["reviews"]
    L += [
        "",
        f"Review lexicon sentiment vs stars (amazon-reviews-2018, 4-5 vs 1-2 stars, n={rv['pairs_4_5_vs_1_2']:,}): AUC {rv['auc_sentiment_vs_stars']:.4f}.",
        "",
        "## Example explanations",
        "",
    ]
    for name, ex in r["examples"].items():
        L.append(f"- **{name}**: " + "; ".join(ex["explanations"]))
    L += ["", "## Which profile parts each dataset exercises", "", *COVERAGE]
    return "\n".join(L) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small grids, one repeat (smoke run)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    t_start = time.perf_counter()
    report: dict[str, Any] = {"command": " ".join(["python", *sys.argv])}
    with threadpool_limits(1):
        beauty = load_dataset("amazon-beauty", DATA)
        assert beauty.items is not None and beauty.events is not None
        vecs, vec_ids, report["item_vectors"] = beauty_vectors(beauty.items)
        catalog = ItemCatalog.from_items(beauty.items, vecs, vec_ids)
        report["build"], svc, events = section_build(beauty, catalog, args.quick)
        log.info("build: %s", report["build"])
        taobao = load_dataset("taobao-userbehavior", DATA)
        shop = make_shop(n_users=2_000, n_items=5_000, n_events=100_000, seed=0)
        shop_vecs = np.random.default_rng(0).normal(size=(5_000, 384)).astype(np.float32)
        assert taobao.items is not None and taobao.events is not None
        n_naive = 2_000 if args.quick else 10_000
        report["updates"] = {
            "beauty (384-d vectors)": update_rate(events, catalog, n_naive),
            "taobao (categories, funnel)": update_rate(
                taobao.events, ItemCatalog.from_items(taobao.items), n_naive
            ),
            "synthetic (384-d, cat, brand, price)": update_rate(
                shop.dataset.events,
                ItemCatalog.from_items(
                    shop.dataset.items, shop_vecs, shop.dataset.items.column("item_id").to_pylist()
                ),
                n_naive,
            ),
        }
        log.info("updates: %s", report["updates"])
        report["segments"] = section_segments(svc, args.quick)
        examples = {"beauty": svc.profile_json(sorted(svc.states)[0])}
        report["retriever"] = section_retriever(beauty, catalog, args.quick)
        report["churn"] = section_churn(args.quick)
        tb = ProfileService(ItemCatalog.from_items(taobao.items))
        tb.rebuild(taobao.events)
        examples["taobao"] = tb.profile_json("1")
        report["small"] = section_small(args.quick)
        examples["synthetic"] = report["small"].pop("synthetic_example")
        examples["reviews"] = report["small"].pop("reviews_example")
        report["examples"] = examples
    report["seconds"] = time.perf_counter() - t_start
    report["load_avg"] = os.getloadavg()[0]
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "profiles.json").write_text(json.dumps(report, indent=1, default=float))
    md = markdown(report)
    (OUT / "profiles.md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
