"""Per-arm results of an experiment: CTR, conversion, revenue per user, list diversity and brand-exposure
fairness, each with a confidence interval; treatment-vs-control tests; the sample-ratio-mismatch check.

Definitions (unit = exposed user; an impression is one list shown under the experiment):

- **CTR**: attributed clicks (``click`` or ``view`` events on a shown item) / impressions, delta method;
- **conversion**: share of exposed users with at least one attributed purchase;
- **revenue per user**: attributed purchase value (the event's ``value``, else the item's price) per user;
- **diversity**: Gini-Simpson index of the lists' ``experiments.diversity_field`` (category by default):
  the chance two items of a list differ, averaged per user, then over users;
- **brand fairness**: 1 - Gini of position-discounted exposure (1 / log2(position + 1)) over every brand
  of the catalogue; 1 = every brand equally exposed. Bootstrap over users, each resample of the smallest arm's
  size (the brands reached grow with the number of users, so arms of different sizes compare fairly).
- **exposure fairness** (:mod:`shelfwise.experiments.exposure`): brand and item exposure Gini and the long-tail
  share per arm, with scipy bootstrap intervals by user, compared as their own family.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pyarrow as pa

from shelfwise.experiments.attribution import attribute
from shelfwise.experiments.config import Experiment, ExperimentSettings
from shelfwise.experiments.decision import decide
from shelfwise.experiments.exposure import (
    EXPOSURE_METRICS,
    ExposureCatalogue,
    exposure_estimates,
    exposure_matrix,
)
from shelfwise.experiments.registry import ARM_SEPARATOR
from shelfwise.experiments.stats import (
    Comparison,
    Estimate,
    SampleRatio,
    bootstrap_estimate,
    compare_bootstrap,
    compare_means,
    compare_ratios,
    gini,
    mean_estimate,
    ratio_estimate,
    sample_ratio_check,
)
from shelfwise.privacy.consent import ConsentDefaults, drop_withheld

CLICK_TYPES = ("click", "view")
PURCHASE_TYPES = ("purchase",)
METRICS = ("ctr", "conversion", "revenue_per_user", "diversity", "brand_fairness")


@dataclass
class ArmData:
    """Per-user arrays of one arm (aligned by user)."""

    users: list[str]
    impressions: np.ndarray
    clicks: np.ndarray
    converted: np.ndarray
    revenue: np.ndarray
    diversity: np.ndarray
    brand_exposure: Any  # scipy.sparse users x brands
    item_exposure: Any = None  # scipy.sparse users x catalogue items (shelfwise.experiments.exposure)


@dataclass
class ExperimentResult:
    """The scorecard of one experiment."""

    experiment: Experiment
    arms: dict[str, dict[str, Any]]
    comparisons: list[Comparison]
    srm: SampleRatio
    attributed_events: int
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "experiment": self.experiment.name,
            "surface": self.experiment.surface,
            "status": self.experiment.status,
            "control": self.experiment.variants[0].name,
            "arms": self.arms,
            "comparisons": [c.to_dict() for c in self.comparisons],
            "srm": self.srm.to_dict(),
            "attributed_events": self.attributed_events,
            "notes": self.notes,
        }


def _gini_simpson(values: list[str]) -> float:
    n = len(values)
    if n < 2:
        return 0.0
    counts = Counter(values)
    return 1.0 - sum(c * (c - 1) for c in counts.values()) / (n * (n - 1))


def _item_facts(items: pa.Table, field_name: str) -> tuple[dict[str, str], dict[str, str], dict[str, float]]:
    ids = items.column("item_id").to_pylist()
    div = items.column(field_name).to_pylist()
    brand = items.column("brand").to_pylist()
    price = items.column("price").to_pylist()
    return (
        {i: (d if d else f"?{i}") for i, d in zip(ids, div, strict=True)},
        {i: b for i, b in zip(ids, brand, strict=True) if b},
        {i: float(p) for i, p in zip(ids, price, strict=True) if p is not None},
    )


def collect(
    experiment: Experiment,
    impressions: pa.Table,
    events: pa.Table,
    items: pa.Table,
    settings: ExperimentSettings,
    catalogue: ExposureCatalogue | None = None,
) -> tuple[dict[str, ArmData], int, list[str]]:
    """Per-arm per-user arrays from the store tables (with ``catalogue``, each arm's item exposure too)."""
    from scipy import sparse

    prefix = experiment.name + ARM_SEPARATOR
    arms_col = impressions.column("arm").to_pylist()
    keep = [i for i, a in enumerate(arms_col) if a and a.startswith(prefix)]
    imp = impressions.take(pa.array(keep, pa.int64())) if keep else impressions.slice(0, 0)
    div_of, brand_of, price_of = _item_facts(items, settings.diversity_field)
    brands = sorted(set(brand_of.values()))
    brand_index = {b: n for n, b in enumerate(brands)}
    attributed = attribute(imp, events, settings.attribution_window_seconds)

    per_user: dict[str, dict[str, Any]] = {}
    arm_of_user: dict[str, str] = {}
    notes: list[str] = []
    switched = 0
    for row in imp.select(["user_id", "item_ids", "arm"]).to_pylist():
        user, arm = row["user_id"], row["arm"][len(prefix) :]
        if user is None:
            continue
        if arm_of_user.setdefault(user, arm) != arm:
            switched += 1
            continue
        st = per_user.setdefault(user, {"imp": 0, "div": [], "brand": Counter(), "lists": []})
        st["imp"] += 1
        ids = row["item_ids"]
        st["lists"].append(ids)
        st["div"].append(_gini_simpson([div_of.get(i, f"?{i}") for i in ids]))
        for pos, item in enumerate(ids, start=1):
            b = brand_of.get(item)
            if b is not None:
                st["brand"][b] += 1.0 / math.log2(pos + 1)
    if switched:
        notes.append(f"{switched} impressions of users seen in two arms were left out (definition changed?)")
    clicks: Counter[str] = Counter()
    converted: set[str] = set()
    revenue: dict[str, float] = {}
    for ev in attributed.select(["user_id", "item_id", "type", "value"]).to_pylist():
        u = ev["user_id"]
        if u not in per_user:
            continue
        if ev["type"] in CLICK_TYPES:
            clicks[u] += 1
        elif ev["type"] in PURCHASE_TYPES:
            converted.add(u)
            value = ev["value"] if ev["value"] is not None else price_of.get(ev["item_id"], 0.0)
            revenue[u] = revenue.get(u, 0.0) + float(value)

    out: dict[str, ArmData] = {}
    for variant in experiment.variants:
        users = sorted(u for u, a in arm_of_user.items() if a == variant.name and u in per_user)
        rows, cols, vals = [], [], []
        for n, u in enumerate(users):
            for b, e in per_user[u]["brand"].items():
                rows.append(n)
                cols.append(brand_index[b])
                vals.append(e)
        matrix = sparse.csr_matrix((vals, (rows, cols)), shape=(len(users), max(1, len(brands))))
        out[variant.name] = ArmData(
            users=users,
            impressions=np.array([per_user[u]["imp"] for u in users], dtype=float),
            clicks=np.array([clicks[u] for u in users], dtype=float),
            converted=np.array([u in converted for u in users], dtype=float),
            revenue=np.array([revenue.get(u, 0.0) for u in users], dtype=float),
            diversity=np.array([float(np.mean(per_user[u]["div"])) for u in users], dtype=float),
            brand_exposure=matrix,
            item_exposure=None
            if catalogue is None
            else exposure_matrix([per_user[u]["lists"] for u in users], catalogue),
        )
    return out, attributed.num_rows, notes


def _fairness(data: ArmData, alpha: float, seed: int, draw_size: int) -> Estimate:
    """Brand fairness of an arm, bootstrapped over ``draw_size`` users per resample (the smallest arm's size:
    brands reached grow with the number of users, so arms are compared at equal size)."""
    m = data.brand_exposure

    def stat(w: np.ndarray) -> float:
        return 1.0 - gini(np.asarray(m.T @ w).ravel())

    return bootstrap_estimate(stat, len(data.users), alpha=alpha, seed=seed, draw_size=max(1, draw_size))


_NAN = Estimate(float("nan"), float("nan"), float("nan"), float("nan"), 0)


def _unmeasurable(items: pa.Table, settings: ExperimentSettings) -> dict[str, str]:
    """Metrics the catalogue cannot support (no value of the field on any item), with the reason."""
    out = {}
    field_name = settings.diversity_field
    if items.num_rows and items.column(field_name).null_count == items.num_rows:
        out["diversity"] = f"no item has a {field_name}"
    if items.num_rows and items.column("brand").null_count == items.num_rows:
        out["brand_fairness"] = "no item has a brand"
    return out


def analyse_tables(
    experiment: Experiment,
    impressions: pa.Table,
    events: pa.Table,
    items: pa.Table,
    settings: ExperimentSettings,
    seed: int = 0,
) -> ExperimentResult:
    """The scorecard from impression, event and item tables."""
    catalogue = ExposureCatalogue.from_tables(items, events)
    data, attributed, notes = collect(experiment, impressions, events, items, settings, catalogue)
    unmeasurable = _unmeasurable(items, settings)
    if "brand_fairness" in unmeasurable:
        unmeasurable["gini_brand_exposure"] = unmeasurable["brand_fairness"]
    if not catalogue.has_popularity:
        unmeasurable["long_tail_share"] = "no click or purchase defines the popular head yet"
    notes += [f"{metric}: not measurable, {why}" for metric, why in unmeasurable.items()]
    a = settings.alpha
    estimates: dict[str, dict[str, Estimate]] = {}
    arms: dict[str, dict[str, Any]] = {}
    total_users = sum(len(d.users) for d in data.values())
    smallest = min(len(d.users) for d in data.values())
    for variant in experiment.variants:
        d = data[variant.name]
        est = {
            "ctr": ratio_estimate(d.clicks, d.impressions, a),
            "conversion": mean_estimate(d.converted, a),
            "revenue_per_user": mean_estimate(d.revenue, a),
            "diversity": mean_estimate(d.diversity, a),
            "brand_fairness": _NAN if "brand_fairness" in unmeasurable else _fairness(d, a, seed, smallest),
        }
        est.update(exposure_estimates(d.item_exposure, catalogue, a, seed, skip=frozenset(unmeasurable)))
        for metric in unmeasurable:
            est[metric] = _NAN
        estimates[variant.name] = est
        arms[variant.name] = {
            "share": variant.share,
            "users": len(d.users),
            "observed_share": round(len(d.users) / total_users, 4) if total_users else 0.0,
            "impressions": int(d.impressions.sum()),
            "clicks": int(d.clicks.sum()),
            "purchasers": int(d.converted.sum()),
            "revenue": round(float(d.revenue.sum()), 2),
            "params": variant.params,
            "overrides": variant.overrides,
            "metrics": {k: v.to_dict() for k, v in est.items()},
        }
    control = experiment.variants[0].name
    comparisons: list[Comparison] = []
    exposure: list[Comparison] = []
    for variant in experiment.variants[1:]:
        c, t = data[control], data[variant.name]
        pair = [
            compare_ratios("ctr", (c.clicks, c.impressions), (t.clicks, t.impressions), a),
            compare_means("conversion", c.converted, t.converted, a),
            compare_means("revenue_per_user", c.revenue, t.revenue, a),
            compare_means("diversity", c.diversity, t.diversity, a),
            compare_bootstrap(
                "brand_fairness",
                estimates[control]["brand_fairness"],
                estimates[variant.name]["brand_fairness"],
                a,
            ),
        ]
        fair = [
            compare_bootstrap(m, estimates[control][m], estimates[variant.name][m], a)
            for m in EXPOSURE_METRICS
        ]
        pair = [cmp for cmp in pair if cmp.metric not in unmeasurable]
        fair = [cmp for cmp in fair if cmp.metric not in unmeasurable]
        if len(experiment.variants) > 2:
            pair = [replace(cmp, metric=f"{cmp.metric} ({variant.name} vs {control})") for cmp in pair]
            fair = [replace(cmp, metric=f"{cmp.metric} ({variant.name} vs {control})") for cmp in fair]
        comparisons += pair
        exposure += fair
    # exposure fairness is adjusted as its own family: adding it never moves the decision metrics' verdicts
    comparisons = decide(comparisons, settings.decision()) + decide(exposure, settings.decision())
    srm = sample_ratio_check(
        {v.name: len(data[v.name].users) for v in experiment.variants},
        {v.name: v.share for v in experiment.variants},
        settings.srm_alpha,
    )
    if total_users == 0:
        notes.append("no exposures logged yet")
    return ExperimentResult(experiment, arms, comparisons, srm, attributed, notes)


def analyse(
    store: Any,
    experiment: Experiment,
    settings: ExperimentSettings,
    seed: int = 0,
    default_consent: ConsentDefaults | None = None,
) -> ExperimentResult:
    """The scorecard of ``experiment`` from what ``store`` holds, without the events and impressions of
    shoppers who withhold analytics consent (``default_consent``: ``privacy.default_consent``)."""
    events = store.read_events(
        ["event_id", "user_id", "item_id", "type", "value", "timestamp", "request_id"],
        types=[*CLICK_TYPES, *PURCHASE_TYPES],
    )
    events = drop_withheld(events, store, "analytics", default_consent)
    impressions = drop_withheld(store.read_impressions(), store, "analytics", default_consent)
    items = store.read_items(["item_id", "brand", "category", "price"])
    return analyse_tables(experiment, impressions, events, items, settings, seed)


def render_markdown(result: dict[str, Any]) -> str:
    """The scorecard as a Markdown report."""
    lines = [f"# Experiment `{result['experiment']}` ({result['surface']}, {result['status']})", ""]
    lines += [
        "| arm | share | users | impressions | CTR | conversion | revenue/user | diversity | brand fairness "
        "| brand exposure Gini | item exposure Gini | long-tail share |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]

    def fmt(m: dict[str, Any]) -> str:
        if m["value"] is None or m["low"] is None:
            return "n/a"
        return f"{m['value']:.4f} [{m['low']:.4f}, {m['high']:.4f}]"

    for name, arm in result["arms"].items():
        m = arm["metrics"]
        lines.append(
            f"| {name} | {arm['share']:.2f} (obs {arm['observed_share']:.3f}) | {arm['users']:,} | "
            f"{arm['impressions']:,} | {fmt(m['ctr'])} | {fmt(m['conversion'])} | {fmt(m['revenue_per_user'])} | "
            f"{fmt(m['diversity'])} | {fmt(m['brand_fairness'])} | "
            + " | ".join(fmt(m[k]) if k in m else "n/a" for k in EXPOSURE_METRICS)
            + " |"
        )
    lines += [
        "",
        f"Treatment vs control (`{result['control']}`): the difference with its interval and p-value "
        "(always valid under repeated looks when inference is sequential), the p-value adjusted over all "
        "metrics, the minimum detectable effect at the current sizes and the users per arm the planned "
        "effect needs:",
        "",
        "| metric | control | treatment | diff | rel | interval | p | adjusted p | MDE | users needed | verdict |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]

    def num(v: Any, spec: str) -> str:
        return "n/a" if v is None else format(v, spec)

    for c in result["comparisons"]:
        rel = f"{num(None if c['rel_diff'] is None else 100 * c['rel_diff'], '+.1f')}%"
        lines.append(
            f"| {c['metric']} | {num(c['control'], '.4f')} | {num(c['treatment'], '.4f')} | {num(c['diff'], '+.4f')} "
            f"| {rel} | [{num(c['low'], '+.4f')}, {num(c['high'], '+.4f')}] | {num(c['p_value'], '.4f')} | "
            f"{num(c.get('p_adjusted'), '.4f')} | {num(c.get('mde'), '.4f')} | "
            f"{num(c.get('required_users_per_arm'), ',')} | "
            f"{'**' + c['verdict'] + '**' if c['significant'] else c.get('verdict', '')} |"
        )
    srm = result["srm"]
    lines += [
        "",
        f"Sample ratio: observed {json.dumps(srm['observed'])}, expected {json.dumps(srm['expected'])}, "
        f"chi2 {srm['chi2']}, p {srm['p_value']} -> {'passed' if srm['passed'] else '**MISMATCH**'}",
    ]
    lines += [f"Attributed events: {result['attributed_events']:,}"] + [
        f"- note: {n}" for n in result["notes"]
    ]
    return "\n".join(lines) + "\n"
