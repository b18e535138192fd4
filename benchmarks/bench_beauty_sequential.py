"""The sequential recommender (SASRec family with text-initialised items) on Amazon Beauty and Scientific.

Parts (``--parts``), each merged row by row into ``benchmarks/results/beauty_sequential.json`` and
re-rendered to ``.md`` (``--only LABEL ...`` runs some rows of a part, so rows can be measured by
separate processes; every row keeps the command that measured it):

* ``main``: Beauty, leave-one-out, full ranking, random ties (seed 0); NDCG@10 / HR@10 with history
  rankable (the default, published protocol: the headline) and history excluded (labelled). The
  SASRec-CE baseline is the same network with ID embeddings, no repeat bias and no text, trained the
  same way; the other rows add one ingredient at a time.
* ``augment``: the default model with crop / mask / reorder augmentation, against none.
* ``cold``: a seeded 5% of Beauty items lose every train / valid event; the test users whose test item
  is one of them are ranked against all items.
* ``scientific``: Amazon Scientific, the given split, full ranking; NDCG@10/50, Recall@10/50 against
  an ID-only SASRec-CE and text-only baselines.

Convention (SASRec / RecBole): train on the train part, stop early on the valid item (valid NDCG@10,
history rankable), test with train + valid as the input sequence, no refit. Item text vectors:
all-MiniLM-L6-v2 (shelfwise's default ONNX int8 encoder) of title (+ brand, category when present),
encoded once and pinned in ``--cache-dir`` (the encoder code may change; the vectors used are kept).
Ratios come with a 95% paired bootstrap interval over users. Times are wall and CPU seconds on a
shared 2-core machine, with the load average at start and end; one seed per row.

Run (hours on a loaded machine; run in the background)::

    nohup .venv/bin/python benchmarks/bench_beauty_sequential.py --parts main cold scientific augment &

``--quick`` trains 2 epochs per model (a smoke run of the script; numbers meaningless; separate files).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import platform
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from shelfwise.data.datasets import load_dataset
from shelfwise.encoded import GivenSplit, LeaveOneOut, RankingData, Split
from shelfwise.encoders import EncoderConfig, build_encoder
from shelfwise.metrics import get_metric, rank_targets
from shelfwise.models.sequential import (
    SequentialConfig,
    fit_on_split,
    item_texts,
    items_in_order,
    sequences_from_split,
)

log = logging.getLogger("bench_beauty_sequential")

DATA = Path(os.environ.get("SHELFWISE_DATA_DIR", Path(__file__).resolve().parents[2] / "shared" / "data"))
OUT = Path(__file__).resolve().parent / "results"
NAME = "beauty_sequential"
K_METRICS = ("ndcg@10", "hr@10", "ndcg@20", "hr@20")
SCI_METRICS = ("ndcg@10", "recall@10", "ndcg@50", "recall@50")

#: Published / measured references (BENCHMARKS.md sections 1 and 6), NDCG@10 / HR@10, history rankable.
REFERENCE = {
    "SASRec-CE, RecBole, measured here (BENCHMARKS.md 6)": (0.0412, 0.0816),
    "SASRec-CE, published (genrec zoo)": (0.0421, 0.0851),
    "RPG, best published": (0.0464, 0.0809),
}

#: Classic SASRec-CE: ID embeddings, no repeat bias, no text.
BASELINE = {"item_embedding": "id", "repeat_bias": False, "text_neighbours": 0}
MAIN_RUNS: dict[str, dict[str, Any]] = {
    "sasrec-ce (id, baseline)": BASELINE,
    "id + repeat bias": {"item_embedding": "id", "text_neighbours": 0},
    "text+id, no repeat bias": {"repeat_bias": False, "text_neighbours": 0},
    "text+id + repeat bias": {"text_neighbours": 0},
    "text only + repeat bias": {"item_embedding": "text", "text_neighbours": 0},
    "id + repeat + text neighbours": {"item_embedding": "id"},
    "text+id + repeat + text neighbours (default)": {},
    "text+id + repeat + text neighbours, up to 60 epochs, valid every epoch": {
        "epochs": 60,
        "eval_every": 1,
        "valid_max_users": None,
    },
    "text+id + repeat + text neighbours, 18 epochs, linear lr decay": {"epochs": 18, "lr_schedule": "linear"},
}
AUG_RUNS: dict[str, dict[str, Any]] = {
    "no augmentation (default)": {},
    "crop 0.3": {"augment": {"crop": 0.3}},
    "mask 0.3": {"augment": {"mask": 0.3}},
    "reorder 0.3": {"augment": {"reorder": 0.3}},
}
COLD_RUNS: dict[str, dict[str, Any]] = {
    # 8-epoch rows: what fitted the time left on a machine loaded ~20 (24 epochs took > 2 h per model there)
    "sasrec-ce (id, baseline), 8 epochs": {**BASELINE, "epochs": 8},
    "text+id + repeat + text neighbours (default), 8 epochs": {"epochs": 8},
    "sasrec-ce (id, baseline)": BASELINE,
    "text+id + repeat bias": {"text_neighbours": 0},
    "text+id + repeat + text neighbours (default)": {},
    "text+id + repeat + text neighbours, up to 60 epochs, valid every epoch": {
        "epochs": 60,
        "eval_every": 1,
        "valid_max_users": None,
    },
    "last-item text cosine (no training)": {"reference": True},
    "frozen_text (two-tower, frozen MiniLM; warm: 2000-user sample)": {"source": "frozen_text"},
    "lora_text (two-tower, MiniLM + LoRA; warm: 2000-user sample)": {"source": "lora_text"},
    "lora_text, in-batch negatives only (the default since; warm: 2000-user sample)": {"source": "lora_text"},
}
#: Two-tower text sources score a seeded sample of the warm-target users (a MiniLM pass per history).
WARM_SAMPLE = 2000
SCI_RUNS: dict[str, dict[str, Any]] = {
    "sasrec-ce (id, baseline)": BASELINE,
    "text+id + repeat bias": {"text_neighbours": 0},
    "text+id + repeat + text neighbours (default)": {},
    "text+id + repeat + text neighbours, up to 60 epochs, valid every epoch": {
        "epochs": 60,
        "eval_every": 1,
        "valid_max_users": None,
    },
    "last-item text cosine": {},
    "mean of last 5 items' text, cosine": {},
}
PARTS = {"main": MAIN_RUNS, "augment": AUG_RUNS, "cold": COLD_RUNS, "scientific": SCI_RUNS}


def cached_vectors(name: str, texts: list[str], cache_dir: Path) -> tuple[np.ndarray, dict[str, Any]]:
    """Item text vectors, encoded once per (dataset, texts) and reused from ``cache_dir``."""
    digest = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:12]
    path = cache_dir / f"{name}-{digest}.npy"
    meta_path = path.with_suffix(".json")
    if path.exists() and meta_path.exists():
        return np.load(path, allow_pickle=False), json.loads(meta_path.read_text())
    cfg = EncoderConfig(cache_dir=cache_dir, show_progress=False)
    encoder = build_encoder(cfg)
    t0 = time.perf_counter()
    vectors = encoder.encode_documents(texts)
    meta = {
        "encoder": cfg.model_dump(mode="json"),
        "model_version": encoder.model_version,
        "items": len(texts),
        "seconds": time.perf_counter() - t0,
    }
    cache_dir.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors, allow_pickle=False)
    meta_path.write_text(json.dumps(meta, indent=2))
    return vectors, meta


def load(
    name: str, split_kind: str, cache_dir: Path
) -> tuple[Split, RankingData, np.ndarray, dict[str, Any]]:
    ds = load_dataset(name, DATA)
    assert ds.events is not None and ds.items is not None
    split = (
        LeaveOneOut().split(ds.events)
        if split_kind == "loo"
        else GivenSplit(ds.splits["given"]).split(ds.events)
    )
    data = RankingData.from_split(split)
    texts = item_texts(items_in_order(ds.items, [str(i) for i in data.items.ids]))
    vectors, meta = cached_vectors(name, texts, cache_dir)
    info = {
        "dataset": name,
        "users": len(data.users),
        "items": len(data.items),
        "events": ds.events.num_rows,
        "split": split.sizes(),
        "text_example": texts[0],
        "vectors": meta,
    }
    return split, data, vectors, info


def measure(
    scorer: Any, users: np.ndarray, targets: np.ndarray, history: Any, metrics: tuple[str, ...], exclude: bool
) -> tuple[dict[str, float], np.ndarray]:
    """Metrics and per-user NDCG@10 under the harness's ranking (full, random ties seed 0)."""
    fn = scorer.score if hasattr(scorer, "score") else scorer
    res = rank_targets(fn, users, targets, history=history, exclude_history=exclude)
    objs = [get_metric(m) for m in metrics]
    return {m.name: float(m.compute(res.ranks)) for m in objs}, get_metric("ndcg@10").per_user(res.ranks)  # type: ignore[attr-defined]


def own_history_top1(scorer: Any, users: np.ndarray, history: Any) -> float:
    """Share of users whose top-ranked item is one of their own history items (history rankable)."""
    from shelfwise.metrics import top_k_items

    top = top_k_items(scorer.score, users, 1, history=history)[:, 0]
    return float(np.mean([history[r, int(t)] > 0 for r, t in enumerate(top)]))


def paired_ratio_ci(ours: np.ndarray, base: np.ndarray, n: int = 1000, seed: int = 0) -> list[float]:
    """95% bootstrap interval (users resampled, paired) of mean(ours) / mean(base)."""
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, ours.size, (n, ours.size))
    ratios = ours[idx].mean(axis=1) / np.maximum(base[idx].mean(axis=1), 1e-12)
    return [float(np.percentile(ratios, 2.5)), float(np.percentile(ratios, 97.5))]


def train(
    label: str, overrides: dict[str, Any], split: Split, data: RankingData, vectors: np.ndarray, quick: bool
) -> tuple[Any, dict[str, Any]]:
    cfg = SequentialConfig.model_validate({**overrides, **({"epochs": 2} if quick else {})})
    load0, wall0, cpu0 = os.getloadavg()[0], time.perf_counter(), time.process_time()
    model = fit_on_split(
        cfg, split, data, item_vectors=vectors if cfg.uses_text else None, show_progress=False
    )
    rep = model.report
    fit = {
        "label": label,
        "config": cfg.model_dump(mode="json"),
        "fit_wall_s": time.perf_counter() - wall0,
        "fit_cpu_s": time.process_time() - cpu0,
        "load_avg_1m": [load0, os.getloadavg()[0]],
        "epochs_run": rep["epochs_run"],
        "best_epoch": rep["best_epoch"],
        "valid": rep["best_valid"],
        "train_s": rep["train_seconds"],
        "valid_eval_s": rep["eval_seconds"],
        "repeat_bias": float(model.network.repeat.item()) if model.network.repeat is not None else None,
    }
    log.info(
        "%s: fitted in %.0fs wall / %.0fs cpu, best epoch %d of %d, valid %s",
        label,
        fit["fit_wall_s"],
        fit["fit_cpu_s"],
        fit["best_epoch"],
        fit["epochs_run"],
        fit["valid"],
    )
    return model, fit


def wanted(runs: dict[str, dict[str, Any]], only: list[str] | None) -> dict[str, dict[str, Any]]:
    """The runs whose label is in ``only`` (all when ``only`` is empty)."""
    unknown = set(only or []) - set(runs)
    if unknown and not set(only or []) & set(runs):
        log.warning("no run of this part is named %s; known: %s", sorted(unknown), list(runs))
    return {k: v for k, v in runs.items() if not only or k in only}


PerUser = dict[str, dict[str, np.ndarray]]


def reusable(
    path: Path, store: Path, overrides: dict[str, Any], quick: bool
) -> tuple[dict[str, Any], dict[str, np.ndarray]] | None:
    """A ``main`` row already measured with exactly this configuration, and its per-user arrays."""
    if not path.exists():
        return None
    config = SequentialConfig.model_validate({**overrides, **({"epochs": 2} if quick else {})})
    for row in json.loads(path.read_text())["parts"].get("main", {}).get("rows", []):
        files = {h: store / f"main-{slug(row['label'])}-{h}.npy" for h in ("rankable", "excluded")}
        if row.get("config") == config.model_dump(mode="json") and all(f.exists() for f in files.values()):
            return {**row, "reused_from": f"main: {row['label']}"}, {h: np.load(f) for h, f in files.items()}
    return None


def part_main(
    runs: dict[str, dict[str, Any]],
    split: Split,
    data: RankingData,
    vectors: np.ndarray,
    quick: bool,
    reuse: Any = None,
) -> tuple[dict[str, Any], PerUser]:
    users, targets, hist = data.test_users, data.test_targets, data.train_valid[data.test_users]
    rows, per_user = [], {}
    for label, overrides in runs.items():
        found = reuse(overrides) if reuse is not None else None
        if found is not None:
            row, per_user[label] = found
            rows.append({**row, "label": label})
            log.info("%s: reusing %s", label, row["reused_from"])
            continue
        model, row = train(label, overrides, split, data, vectors, quick)
        per_user[label] = {}
        for h in ("rankable", "excluded"):
            row[h], per_user[label][h] = measure(model, users, targets, hist, K_METRICS, h == "excluded")
        row["own_history_top1"] = own_history_top1(model, users, hist)
        log.info("%s test rankable %s excluded %s", label, row["rankable"], row["excluded"])
        rows.append(row)
    return {"rows": rows}, per_user


def cold_split(split: Split, data: RankingData, share: float, seed: int) -> tuple[Split, np.ndarray]:
    """Drop every train / valid event of a seeded ``share`` of the items (test events stay)."""
    rng = np.random.default_rng(seed)
    cold = np.sort(rng.choice(len(data.items), round(share * len(data.items)), replace=False))
    item_of = data.items.encode(split.table.column("item_id").to_pylist())

    def keep(rows: np.ndarray) -> np.ndarray:
        return rows[~np.isin(item_of[rows], cold)]

    new = Split(
        f"{split.name}[cold {share:.0%} seed {seed}]",
        split.table,
        keep(split.train),
        keep(split.valid),
        split.test,
        meta={**split.meta, "cold_items": int(cold.size)},
    )
    new.check_disjoint()
    return new, cold


def fit_source(name: str, split: Split, data: RankingData) -> Any:
    """A registered candidate source (``lora_text``, ``frozen_text``...) fitted as ``shelfwise evaluate`` fits
    it, on train + valid of ``split``; catalogue rows come from the Beauty dataset."""
    import pyarrow as pa

    from shelfwise.config import load_settings
    from shelfwise.encoded.data import RecommendData
    from shelfwise.evaluation.source_models import SourceModel
    from shelfwise.retrieval.sources_registry import build_source

    ds = load_dataset("amazon-beauty", DATA)
    assert ds.items is not None
    ids = [str(i) for i in data.items.ids]
    rows = [{**r, "item_id": i} for r, i in zip(items_in_order(ds.items, ids), ids, strict=True)]
    model = SourceModel(build_source(name, load_settings(environ={})), name)
    model.fit(RecommendData(split, data, pa.Table.from_pylist(rows)), "train_valid")
    return model


def part_cold(
    runs: dict[str, dict[str, Any]], split: Split, data: RankingData, vectors: np.ndarray, quick: bool
) -> tuple[dict[str, Any], PerUser]:
    csplit, cold = cold_split(split, data, 0.05, 0)
    cdata = RankingData.from_split(csplit)
    assert cdata.items.ids.tolist() == data.items.ids.tolist()
    is_cold = np.isin(cdata.test_targets, cold)
    groups = {"cold-target users": is_cold, "warm-target users": ~is_cold}
    hist_all = cdata.train_valid[cdata.test_users]
    test_input = sequences_from_split(csplit, cdata.users, cdata.items, ("train", "valid"))
    last = np.array([s[-1] if len(s) else 0 for s in test_input], dtype=np.int64)

    def last_item_text(u: np.ndarray, _h: Any) -> np.ndarray:
        """A text-only reference: cosine of the last input item's text vector with every item's."""
        return (vectors[last[u]] @ vectors.T).astype(np.float32)

    rows, per_user = [], {}
    for label, overrides in runs.items():
        sample = None
        if overrides.get("reference"):
            model, row = last_item_text, {"label": label}
        elif overrides.get("source"):
            wall0, cpu0, load0 = time.perf_counter(), time.process_time(), os.getloadavg()[0]
            model = fit_source(overrides["source"], csplit, cdata)
            row = {"label": label, "params": model.params(), "fit_wall_s": time.perf_counter() - wall0}
            row.update({"fit_cpu_s": time.process_time() - cpu0, "load_avg_1m": [load0, os.getloadavg()[0]]})
            warm = np.flatnonzero(~is_cold)
            sample = np.zeros_like(is_cold)
            sample[np.random.default_rng(0).choice(warm, min(WARM_SAMPLE, warm.size), replace=False)] = True
        else:
            model, row = train(label, overrides, csplit, cdata, vectors, quick)
        per_user[label] = {}
        for g, mask in groups.items():
            if sample is not None and g == "warm-target users":
                mask = mask & sample
            u, t, h = cdata.test_users[mask], cdata.test_targets[mask], hist_all[mask]
            row[g], per_user[label][g] = measure(model, u, t, h, K_METRICS, False)
        log.info("cold %s: %s", label, {g: row[g] for g in groups})
        rows.append(row)
    extra = {
        "cold_items": int(cold.size),
        "cold_target_users": int(is_cold.sum()),
        "warm_target_users": int((~is_cold).sum()),
    }
    return {"rows": rows, **extra}, per_user


def part_scientific(
    runs: dict[str, dict[str, Any]], cache_dir: Path, quick: bool
) -> tuple[dict[str, Any], PerUser]:
    split, data, vectors, info = load("amazon-scientific", "given", cache_dir)
    users, targets, hist = data.test_users, data.test_targets, data.train_valid[data.test_users]
    test_input = sequences_from_split(split, data.users, data.items, ("train", "valid"))
    last = np.array([s[-1] if len(s) else 0 for s in test_input], dtype=np.int64)
    means = np.stack(
        [vectors[s[-5:]].mean(axis=0) if len(s) else np.zeros(vectors.shape[1]) for s in test_input]
    )
    refs = {
        "last-item text cosine": lambda u, _h: (vectors[last[u]] @ vectors.T).astype(np.float32),
        "mean of last 5 items' text, cosine": lambda u, _h: (means[u] @ vectors.T).astype(np.float32),
    }
    rows, per_user = [], {}
    for label, overrides in runs.items():
        if label in refs:
            model, row = refs[label], {"label": label}
        else:
            model, row = train(label, overrides, split, data, vectors, quick)
        per_user[label] = {}
        for h in ("rankable", "excluded"):
            row[h], per_user[label][h] = measure(model, users, targets, hist, SCI_METRICS, h == "excluded")
        log.info("scientific %s: %s", label, row["rankable"])
        rows.append(row)
    return {"rows": rows, "data": info}, per_user


def slug(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text)


def merge_and_save(
    path: Path,
    part: str,
    order: list[str],
    result: dict[str, Any],
    per_user: PerUser,
    store: Path,
    meta: dict[str, Any],
) -> dict[str, Any]:
    """Merge one part's rows (by label) into the results file, with paired bootstrap CIs vs the first
    run of the part; per-user NDCG@10 arrays are kept in ``store`` so runs of other processes count."""
    store.mkdir(parents=True, exist_ok=True)
    for label, groups in per_user.items():
        for g, arr in groups.items():
            np.save(store / f"{part}-{slug(label)}-{slug(g)}.npy", arr, allow_pickle=False)
    report = json.loads(path.read_text()) if path.exists() else {"benchmark": NAME, "parts": {}, "runs": {}}
    old = report["parts"].get(part, {})
    rows = {r["label"]: r for r in old.get("rows", [])}
    rows.update({r["label"]: {**r, "command": r.get("command", meta["command"])} for r in result["rows"]})
    merged = [rows[k] for k in order if k in rows] + [r for k, r in rows.items() if k not in order]
    first = order[0]
    for row in merged:
        row["ci_vs"] = first
        for g in [k for k in row if isinstance(row[k], dict) and "ndcg@10" in row[k]]:
            a = store / f"{part}-{slug(row['label'])}-{slug(g)}.npy"
            b = store / f"{part}-{slug(first)}-{slug(g)}.npy"
            if a.exists() and b.exists() and np.load(a).shape == np.load(b).shape:
                row[f"ratio_ci_{g}"] = paired_ratio_ci(np.load(a), np.load(b))
    report["parts"][part] = {**old, **result, "rows": merged}
    report["runs"][part] = {
        **report["runs"].get(part, {}),
        **{k: v for k, v in meta.items() if k != "beauty_data"},
    }
    report.update({k: v for k, v in meta.items() if k == "beauty_data"})
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(report, indent=2, default=float))
    os.replace(tmp, path)
    path.with_suffix(".md").write_text(markdown(report) + "\n")
    return report


def _cell(m: dict[str, float], a: str = "ndcg@10", b: str = "hr@10") -> str:
    return f"{m[a]:.4f} / {m[b]:.4f}"


def _ratio(row: dict[str, Any], first: dict[str, Any], group: str) -> str:
    if first[group]["ndcg@10"] < 1e-9:
        return "- (first row scores 0)"
    ratio = row[group]["ndcg@10"] / first[group]["ndcg@10"]
    ci = row.get(f"ratio_ci_{group}")
    return f"{ratio:.2f} [{ci[0]:.2f}, {ci[1]:.2f}]" if ci else f"{ratio:.2f}"


def _fit(row: dict[str, Any]) -> str:
    if "fit_wall_s" not in row:
        return "- | - | -"
    if "best_epoch" not in row:  # a candidate source: no epochs
        load = row["load_avg_1m"]
        return f"- | {row['fit_wall_s']:.0f} / {row['fit_cpu_s']:.0f} | {load[0]:.1f}, {load[1]:.1f}"
    load = row["load_avg_1m"]
    return (
        f"{row['best_epoch']} / {row['epochs_run']} | {row['fit_wall_s']:.0f} / {row['fit_cpu_s']:.0f} "
        f"| {load[0]:.1f}, {load[1]:.1f}"
    )


def markdown(report: dict[str, Any]) -> str:
    """The results as markdown tables."""
    parts = report["parts"]
    out = [
        f"# {NAME}",
        "",
        "Each row says the command that measured it in the JSON (`rows[].command`); the commands were:",
        "",
        *sorted({f"- `{r['command']}`" for p in parts.values() for r in p["rows"] if "command" in r}),
        "",
        "Full ranking over all items, random ties (seed 0), test split. Train on the train part, early stopping "
        "on valid NDCG@10 (history rankable), test input = train + valid (SASRec / RecBole convention), one "
        "seed. Ratio = NDCG@10 / NDCG@10 of the first row, with a 95% paired bootstrap interval over users. "
        "Fit: best epoch / epochs run | wall s / CPU s | load average (1 min) at start, end, on a shared 2-core "
        "machine.",
        "",
    ]
    for part, title in (
        ("main", "Beauty, leave-one-out"),
        ("augment", "Beauty, augmentation of the default model"),
    ):
        if part not in parts:
            continue
        rows = parts[part]["rows"]
        out += [
            f"## {title}",
            "",
            "| model | NDCG@10 / HR@10, history rankable (default protocol) | ratio | NDCG@10 / HR@10, history "
            "excluded | ratio | top-1 is own history | epochs | wall / CPU s | load |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for r in rows:
            out.append(
                f"| {r['label']} | {_cell(r['rankable'])} | {_ratio(r, rows[0], 'rankable')} "
                f"| {_cell(r['excluded'])} | {_ratio(r, rows[0], 'excluded')} | {r['own_history_top1']:.3f} "
                f"| {_fit(r)} |"
            )
        out += [""]
    if "main" in parts:
        refs = "; ".join(f"{k} {v[0]} / {v[1]}" for k, v in REFERENCE.items())
        out += [f"References, NDCG@10 / HR@10 history rankable: {refs}.", ""]
    if "cold" in parts:
        c, rows = parts["cold"], parts["cold"]["rows"]
        out += [
            f"## Beauty cold start: {c['cold_items']} items (5%, seed 0) lose all train / valid events",
            "",
            f"NDCG@10 / HR@10, history rankable. {c['cold_target_users']} test users whose test item is one of "
            f"them (new items), {c['warm_target_users']} others.",
            "",
            "| model | cold-target users | ratio | warm-target users | ratio | epochs | wall / CPU s | load |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for r in rows:
            out.append(
                f"| {r['label']} | {_cell(r['cold-target users'])} | {_ratio(r, rows[0], 'cold-target users')} "
                f"| {_cell(r['warm-target users'])} | {_ratio(r, rows[0], 'warm-target users')} | {_fit(r)} |"
            )
        out += [""]
        for r in rows:
            t = r.get("params", {}).get("training")
            if t:
                out += [
                    f"- {r['label']}: {t['steps']} LoRA steps ({t['stopped']}), best validation step "
                    f"{t['best_step']} (0 = the frozen encoder kept), lr {r['params']['lr']}, history negatives "
                    f"{r['params']['history_negatives']}.",
                ]
        out += [""]
    if "scientific" in parts:
        rows = parts["scientific"]["rows"]
        out += [
            "## Amazon Scientific, given split",
            "",
            "| model | history | NDCG@10 | Recall@10 | NDCG@50 | Recall@50 | NDCG@10 ratio | epochs | wall / CPU s "
            "| load |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in rows:
            for h in ("rankable", "excluded"):
                m = r[h]
                out.append(
                    f"| {r['label']} | {h} | {m['ndcg@10']:.4f} | {m['recall@10']:.4f} | {m['ndcg@50']:.4f} "
                    f"| {m['recall@50']:.4f} | {_ratio(r, rows[0], h)} | {_fit(r)} |"
                )
        out += [""]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", nargs="+", default=list(PARTS), choices=list(PARTS))
    parser.add_argument("--only", nargs="*", help="run only the runs with these labels")
    parser.add_argument("--cache-dir", type=Path, default=Path.home() / ".cache" / "shelfwise")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--quick", action="store_true", help="2 epochs per model: a smoke run")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    import torch

    torch.set_num_threads(1)  # scoring too: on this shared machine 2 threads ran ~3x slower than 1
    path = args.out / f"{NAME}{'_quick' if args.quick else ''}.json"
    store = args.cache_dir / f"bench-{NAME}{'-quick' if args.quick else ''}"
    args.out.mkdir(parents=True, exist_ok=True)
    extra: dict[str, Any] = {}
    if {"main", "cold", "augment"} & set(args.parts):
        split, data, vectors, info = load("amazon-beauty", "loo", args.cache_dir)
        extra["beauty_data"] = info
    report: dict[str, Any] = {}
    for part in args.parts:
        runs = wanted(PARTS[part], args.only)
        if not runs:
            continue
        t0 = time.perf_counter()
        if part in ("main", "augment"):
            reuse = (lambda o: reusable(path, store, o, args.quick)) if part == "augment" else None
            result, per_user = part_main(runs, split, data, vectors, args.quick, reuse)
        elif part == "cold":
            result, per_user = part_cold(runs, split, data, vectors, args.quick)
        else:
            result, per_user = part_scientific(runs, args.cache_dir, args.quick)
        command = shlex.join([".venv/bin/python", *sys.argv])
        meta = {
            "command": command,
            f"seconds[{','.join(runs)}]": time.perf_counter() - t0,
            "finished": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            **extra,
        }
        report = merge_and_save(path, part, list(PARTS[part]), result, per_user, store, meta)
        log.info("part %s (%s) done in %.0fs -> %s", part, ", ".join(runs), time.perf_counter() - t0, path)
    if report:
        print(markdown(report))


if __name__ == "__main__":
    main()
