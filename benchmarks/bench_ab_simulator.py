"""The A/B traffic simulator on Amazon Beauty: A/A, an injected click lift, and a real configuration change.

    python benchmarks/bench_ab_simulator.py --store /tmp/api-beauty --users 3000

Each run copies the (built and trained) store, loads the service objects on the copy, and replays ``--users``
held-out shoppers (their last event is the item they want) against a 50/50 experiment through the serving path
(:mod:`shelfwise.experiments.simulator`): sticky assignment, impressions logged with the arm, clicks and
purchases sent back through the feedback loop with the request id, then the analysis.

Runs: ``aa`` (identical arms, no lift: nothing should be significant, SRM should pass), ``lift`` (arm b's
click probabilities x (1 + ``--lift``): CTR, conversion and revenue should differ), ``diversity`` (arm b asks
for MMR re-ranking at ``diversity=0.6`` (the default pipeline does not re-rank): a real configuration change, no injected effect; list diversity should rise).
Writes ``benchmarks/results/ab_simulator.{json,md}`` (``--results NAME`` for another name). Beauty items have
no brand or category, so list diversity and brand fairness are not measurable there; the ``diversity`` run is
meant for a catalogue that has them (e.g. the sample shop: ``--store`` a built demo store).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import write_results
from shelfwise.cli_serving import run_simulation
from shelfwise.config import load_settings
from shelfwise.experiments.simulator import ClickModel


def aa_splits(store: Path, name: str, n: int, settings: Any) -> dict[str, Any]:
    """Re-split the A/A run's users into two halves ``n`` times (new random salts) and analyse each split:
    the share of splits where a metric comes out significant is the test's false-positive rate on this
    traffic (it should be near alpha = 0.05)."""
    import pyarrow as pa

    from shelfwise.experiments.analysis import CLICK_TYPES, PURCHASE_TYPES, analyse_tables
    from shelfwise.experiments.assignment import bucket
    from shelfwise.experiments.config import Experiment, Variant
    from shelfwise.storage import open_store

    with open_store(store, create=False) as st:
        imps = st.read_impressions()
        cols = ["event_id", "user_id", "item_id", "type", "value", "timestamp", "request_id"]
        events = st.read_events(cols, types=[*CLICK_TYPES, *PURCHASE_TYPES])
        items = st.read_items(["item_id", "brand", "category", "price"])
    users = imps.column("user_id").to_pylist()
    exp = Experiment(name=name, variants=[Variant(name="a", share=0.5), Variant(name="b", share=0.5)])
    hits: dict[str, int] = {}
    for r in range(n):
        arms = [f"{name}:{'a' if bucket(f'split-{r}', u or '') < 0.5 else 'b'}" for u in users]
        relabelled = imps.set_column(imps.schema.get_field_index("arm"), "arm", pa.array(arms, pa.string()))
        res = analyse_tables(exp, relabelled, events, items, settings.experiments, seed=r)
        for c in res.comparisons:
            hits[c.metric] = hits.get(c.metric, 0) + int(c.significant)
    return {"splits": n, "false_positive_rate": {m: round(h / n, 3) for m, h in hits.items()}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--store", type=Path, default=Path("/tmp/api-beauty"))
    ap.add_argument("--users", type=int, default=3000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--lift", type=float, default=0.25)
    ap.add_argument("--runs", default="aa,lift,diversity")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--base-click", type=float, default=0.05, help="click probability of an unrelated item at rank 1"
    )
    ap.add_argument(
        "--results", default="ab_simulator", help="results file name (benchmarks/results/NAME.json)"
    )
    ap.add_argument(
        "--aa-splits",
        type=int,
        default=0,
        help="after the A/A run, re-split its users at random this many times and count significant results",
    )
    args = ap.parse_args()
    settings = load_settings(environ={})
    plans = {
        "aa": {"lift": 0.0, "params_b": {}},
        "lift": {"lift": args.lift, "params_b": {}},
        "diversity": {"lift": 0.0, "params_b": {"method": "mmr", "diversity": 0.6}},
    }
    model = ClickModel(base_click=args.base_click)
    runs: dict[str, Any] = {}
    table = []
    for i, name in enumerate(r for r in args.runs.split(",") if r):
        t0 = time.perf_counter()
        work = Path(tempfile.mkdtemp(prefix="ab-sim-")) / "store" if name == "aa" and args.aa_splits else None
        rep = run_simulation(
            args.store,
            settings,
            users=args.users,
            rounds=args.rounds,
            name=f"sim-{name}",
            seed=args.seed + i,
            model=model,
            work=work,
            **plans[name],
        )
        if work is not None:
            rep["aa_splits"] = aa_splits(work, f"sim-{name}", args.aa_splits, settings)
            print("aa splits", rep["aa_splits"], flush=True)
            shutil.rmtree(work.parent, ignore_errors=True)
        runs[name] = rep
        res = rep["result"]
        print(
            name,
            {c["metric"]: (round(c["rel_diff"] or 0, 3), round(c["p_value"], 4)) for c in res["comparisons"]},
            res["srm"],
            flush=True,
        )
        for c in res["comparisons"]:
            table.append(
                {
                    "run": name,
                    "metric": c["metric"],
                    "a": c["control"],
                    "b": c["treatment"],
                    "rel_diff": c["rel_diff"],
                    "ci_low": c["low"],
                    "ci_high": c["high"],
                    "p": c["p_value"],
                    "significant": c["significant"],
                    "users a/b": f"{res['arms']['a']['users']}/{res['arms']['b']['users']}",
                    "srm_p": res["srm"]["p_value"],
                    "seconds": round(time.perf_counter() - t0),
                }
            )
    notes = (
        f"{args.users} shoppers per run, {args.rounds} requests each, home slot, k=10. Click model: held-out item "
        f"0.5, same category 0.08, other {args.base_click:g}, each / log2(position + 1); purchase after a click 0.25 at the item's "
        f"price. 'lift' multiplies arm b's click probabilities by {1 + args.lift:g}. The recommender was trained on "
        "all events, held-out ones included, so absolute CTRs are optimistic; the comparison between arms is the "
        "point. 95% CIs; CTR by the delta method over users, fairness by bootstrap over users."
    )
    write_results(
        args.results,
        {"runs": runs, "users": args.users, "rounds": args.rounds, "lift": args.lift},
        table,
        notes,
    )


if __name__ == "__main__":
    main()
